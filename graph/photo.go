package graph

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"

	"github.com/graphgate/graphgate/graph/spec"
)

// Photo is a profile photo's bytes and media type.
type Photo struct {
	// ContentType is the image media type, e.g. "image/jpeg".
	ContentType string
	// Data holds the image bytes.
	Data []byte
}

// Photo reads a user's profile photo: the largest available when size is "", else
// one of Graph's sizes (spec.PhotoSizes, "48x48" … "648x648", in either case). A user
// without a photo gives ErrNotFound.
func (c *Client) Photo(ctx context.Context, id, size string) (_ Photo, err error) {
	defer c.observe(opPhoto, time.Now(), &err)
	const op = "get photo"
	if err := validateID(op, id); err != nil {
		return Photo{}, err
	}
	if size != "" && !spec.IsPhotoSize(size) {
		return Photo{}, badRequest(op, "invalid_photo_size")
	}
	size = strings.ToLower(size)
	var out Photo
	err = c.call(ctx, op, photos, func(ctx context.Context) error {
		var data []byte
		var err error
		user := c.sdk.Users().ByUserId(id)
		if size == "" {
			data, err = user.Photo().Content().Get(ctx, nil)
		} else {
			data, err = user.Photos().ByProfilePhotoId(size).Content().Get(ctx, nil)
		}
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return statusError(op, http.StatusNotFound, "ImageNotFound", 0)
		}
		out = Photo{ContentType: imageType(callInfoFrom(ctx).lastContentType(), data), Data: data}
		return nil
	})
	return out, err
}

// imageType trusts the response's image/* Content-Type and otherwise sniffs the bytes.
func imageType(header string, data []byte) string {
	if mt, _, err := mime.ParseMediaType(header); err == nil && strings.HasPrefix(mt, "image/") {
		return mt
	}
	if sniffed := http.DetectContentType(data); strings.HasPrefix(sniffed, "image/") {
		return sniffed
	}
	return "application/octet-stream"
}

// Presence is a user's Teams presence.
type Presence struct {
	ID           string `json:"id"`
	Availability string `json:"availability"`
	Activity     string `json:"activity"`
}

// Presence reads one user's presence by object id: Graph serves presence by object
// id only (https://learn.microsoft.com/en-us/graph/api/presence-get), so anything else
// is refused here as ErrBadRequest without calling Graph.
func (c *Client) Presence(ctx context.Context, id string) (_ Presence, err error) {
	defer c.observe(opPresence, time.Now(), &err)
	const op = "get presence"
	if err := validatePresenceID(op, id); err != nil {
		return Presence{}, err
	}
	var out Presence
	err = c.call(ctx, op, presence, func(ctx context.Context) error {
		p, err := c.sdk.Users().ByUserId(id).Presence().Get(ctx, nil)
		if err != nil {
			return err
		}
		if p == nil {
			return statusError(op, http.StatusNotFound, "", 0)
		}
		out = Presence{ID: deref(p.GetId()), Availability: deref(p.GetAvailability()), Activity: deref(p.GetActivity())}
		return nil
	})
	return out, err
}

// Presences reads the presence of several users by object id (as Presence) with
// getPresencesByUserId, in requests of at most spec.MaxPresenceIDs (650) ids.
func (c *Client) Presences(ctx context.Context, ids []string) (_ []Presence, err error) {
	defer c.observe(opPresences, time.Now(), &err)
	const op = "get presences"
	for _, id := range ids {
		if err := validatePresenceID(op, id); err != nil {
			return nil, err
		}
	}
	var out []Presence
	for start := 0; start < len(ids); start += spec.MaxPresenceIDs {
		chunk := ids[start:min(start+spec.MaxPresenceIDs, len(ids))]
		err := c.call(ctx, op, presence, func(ctx context.Context) error {
			body := communications.NewGetPresencesByUserIdPostRequestBody()
			body.SetIds(chunk)
			resp, err := c.sdk.Communications().GetPresencesByUserId().PostAsGetPresencesByUserIdPostResponse(ctx, body, nil)
			if err != nil {
				return err
			}
			if resp == nil {
				return nil
			}
			for _, p := range resp.GetValue() {
				out = append(out, Presence{ID: deref(p.GetId()), Availability: deref(p.GetAvailability()), Activity: deref(p.GetActivity())})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RevokeSignInSessions invalidates the user's refresh tokens and browser sessions
// (Graph moves signInSessionsValidFromDateTime to now). Any 2xx answer is success:
// Graph answers 200 {"value": true} today and 204 No Content once its known issue is
// fixed, and advises "you can treat any 2xx return code as success for this API"
// (https://learn.microsoft.com/en-us/graph/known-issues#revoke-sign-in-sessions-returns-wrong-http-code).
func (c *Client) RevokeSignInSessions(ctx context.Context, id string) (err error) {
	defer c.observe(opRevoke, time.Now(), &err)
	const op = "revoke sign-in sessions"
	if err := validateID(op, id); err != nil {
		return err
	}
	return c.call(ctx, op, directory, func(ctx context.Context) error {
		// The body (absent on 204) is not read: the SDK returns an error for every
		// non-2xx status, and the boolean is documented as always true.
		_, err := c.sdk.Users().ByUserId(id).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
		return err
	})
}

// validatePresenceID refuses presence reads by anything but an object id.
func validatePresenceID(op, id string) error {
	if !spec.IsObjectID(id) {
		return badRequest(op, "presence_needs_object_id")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
