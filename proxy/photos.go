package proxy

import (
	"bytes"
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

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/avatar"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// errPhotoSize answers a {size} Graph does not serve.
var errPhotoSize = errBadRequest("Unsupported photo size; use one of " + strings.Join(spec.PhotoSizes(), ", ") + ".")

// photoSize validates the {size} parameter ("" for the default photo).
func photoSize(c *gin.Context) (string, error) {
	size := strings.ToLower(targetOf(c).PhotoSize)
	if size == "" || spec.IsPhotoSize(size) {
		return size, nil
	}
	return "", errPhotoSize
}

// pixels is the edge length of a size ("240x240" -> 240; "" -> the largest).
func pixels(size string) int {
	if size == "" {
		sizes := spec.PhotoSizes()
		size = sizes[len(sizes)-1]
	}
	n, _ := strconv.Atoi(size[:strings.IndexByte(size, 'x')])
	return n
}

// photoOf returns the photo the caller gets of a user (object id or UPN): the user's photo, or for
// a deactivated account an initials avatar (initials only if the caller may see the name).
func photoOf(c *gin.Context, dir *directory.Directory, key, size string) (graph.Photo, error) {
	sc := scopeOf(c)
	ctx := c.Request.Context()
	u, outcome, err := dir.AnyUser(ctx, sc.tenantID(), key)
	sc.setOutcome(outcome)
	if err != nil {
		return graph.Photo{}, err
	}
	if !u.AccountEnabled() {
		name := ""
		if d := sc.client.Decide(policy.OpUsersRead, isSelf(sc, u), []string{"displayName"}); slices.Contains(d.Fields, "displayName") {
			name = u.DisplayName()
		}
		return graph.Photo{ContentType: avatar.ContentType, Data: avatar.PNG(name, u.ID(), pixels(size))}, nil
	}
	p, outcome, err := dir.Photo(ctx, sc.tenantID(), u.ID(), size)
	sc.setOutcome(outcome)
	return p, err
}

// routePhoto is photoOf for the user a /me or /users/{id} route is about.
func routePhoto(c *gin.Context, dir *directory.Directory, size string) (graph.Photo, error) {
	key, err := subjectKey(c)
	if err != nil {
		return graph.Photo{}, err
	}
	return photoOf(c, dir, key, size)
}

// handlePhotoValue serves the photo bytes: /photo/$value and /photos/{size}/$value.
func handlePhotoValue(dir *directory.Directory) gin.HandlerFunc {
	return func(c *gin.Context) {
		size, err := photoSize(c)
		if err != nil {
			abortWithError(c, err)
			return
		}
		p, err := routePhoto(c, dir, size)
		if err != nil {
			abortWithError(c, err)
			return
		}
		c.Header("ETag", etag(p.Data))
		c.Data(http.StatusOK, p.ContentType, p.Data)
	}
}

// handlePhotoMeta serves /photo and /photos/{size}: the photo's metadata, as Graph's
// profilePhoto entity.
func handlePhotoMeta(dir *directory.Directory, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := parseQuery(c, odata.Entity); err != nil {
			abortWithError(c, err)
			return
		}
		size, err := photoSize(c)
		if err != nil {
			abortWithError(c, err)
			return
		}
		p, err := routePhoto(c, dir, size)
		if err != nil {
			abortWithError(c, err)
			return
		}
		body := gin.H{
			"@odata.context":          ln.context(c, "users/photo/$entity"),
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
