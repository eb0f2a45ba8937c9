package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/gif"  // photo metadata: decode sizes of GIF photos
	_ "image/jpeg" // photo metadata: decode sizes of JPEG photos
	_ "image/png"  // photo metadata: decode sizes of PNG photos
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/avatar"
)

// photoSizes are the sizes Graph serves under /photos/{size}.
var photoSizes = []string{"48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504", "648x648"}

// photoSize validates the {size} parameter ("" for the default photo).
func photoSize(c *gin.Context) (string, error) {
	size := strings.ToLower(c.Param("size"))
	if size == "" || slices.Contains(photoSizes, size) {
		return size, nil
	}
	return "", errBadRequest("Unsupported photo size; use one of " + strings.Join(photoSizes, ", ") + ".")
}

// pixels is the edge length of a size ("240x240" -> 240; "" -> the largest).
func pixels(size string) int {
	if size == "" {
		size = photoSizes[len(photoSizes)-1]
	}
	n, _ := strconv.Atoi(size[:strings.IndexByte(size, 'x')])
	return n
}

// photoOf returns the photo the caller gets for a user: the user's photo, or for a
// deactivated account an initials avatar (initials only if the caller may see the name).
func (s *Server) photoOf(c *gin.Context, cl caller, size string) (graph.Photo, error) {
	key := cl.principal.ObjectID
	if c.Param("id") != "" {
		var err error
		if key, err = userKeyParam(c); err != nil {
			return graph.Photo{}, err
		}
	}
	ctx := c.Request.Context()
	u, outcome, err := s.loadAnyUser(ctx, cl.tenant, key)
	setOutcome(c, outcome)
	if err != nil {
		return graph.Photo{}, err
	}
	id := userID(u)
	if !enabled(u) {
		name := ""
		if d := cl.client.Decide(policy.OpUsersRead, isSelf(cl, u), []string{"displayName"}); slices.Contains(d.Fields, "displayName") {
			name, _ = u["displayName"].(string)
		}
		return graph.Photo{ContentType: avatar.ContentType, Data: avatar.PNG(name, id, pixels(size))}, nil
	}
	ck := cache.Key{Kind: kindPhoto, ID: strings.ToLower(id) + "|" + size}
	e, outcome, err := s.load(ctx, cl.tenant, ck, errImageNotFound(), func(ctx context.Context) (cache.Item[entry], error) {
		p, err := cl.tenant.up.Photo(ctx, id, size)
		if err != nil {
			return cache.Item[entry]{}, err
		}
		return cache.Item[entry]{Value: entry{photo: p}, Size: len(p.Data) + 64, Users: []string{id}}, nil
	})
	setOutcome(c, outcome)
	return e.photo, err
}

// handlePhotoValue serves the photo bytes: /photo/$value and /photos/{size}/$value.
func (s *Server) handlePhotoValue() gin.HandlerFunc {
	return func(c *gin.Context) {
		size, err := photoSize(c)
		if err != nil {
			abortWithError(c, err)
			return
		}
		p, err := s.photoOf(c, callerOf(c), size)
		if err != nil {
			abortWithError(c, err)
			return
		}
		c.Header("ETag", etag(p.Data))
		c.Data(http.StatusOK, p.ContentType, p.Data)
	}
}

// handlePhotoMeta serves /photo: the photo's metadata, as Graph's profilePhoto entity.
func (s *Server) handlePhotoMeta() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := parseQuery(c, optsEntity); err != nil {
			abortWithError(c, err)
			return
		}
		p, err := s.photoOf(c, callerOf(c), "")
		if err != nil {
			abortWithError(c, err)
			return
		}
		body := gin.H{
			"@odata.context":          s.contextURL(c, "users/photo/$entity"),
			"@odata.mediaContentType": p.ContentType,
			"@odata.mediaEtag":        etag(p.Data),
			"id":                      "default",
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Data)); err == nil {
			body["height"], body["width"] = cfg.Height, cfg.Width
			body["id"] = strconv.Itoa(cfg.Width) + "X" + strconv.Itoa(cfg.Height)
		}
		writeJSON(c, body)
	}
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}
