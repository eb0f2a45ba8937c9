package emulator

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/graphgate/graphgate/graph/spec"
)

// photoSizes are the edge lengths in pixels of the square sizes Graph serves for user
// photos (spec.PhotoSizes), smallest first.
var photoSizes = edgeLengths(spec.PhotoSizes())

// edgeLengths turns sizes like "48x48" into their edge lengths (48).
func edgeLengths(sizes []string) []int {
	out := make([]int, 0, len(sizes))
	for _, s := range sizes {
		w, _, _ := strings.Cut(s, "x")
		n, err := strconv.Atoi(w)
		if err != nil {
			panic("emulator: photo size " + s + " is not WxH")
		}
		out = append(out, n)
	}
	return out
}

var sizeRE = regexp.MustCompile(`^(?i)(\d+)x(\d+)$`)

const imageNotFound = "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."

// noPhotoAnswers are the 404 answers Graph gives for the photo of a user who has none.
// Graph documents only the status ("If no photo exists, the operation returns 404 Not
// Found", https://learn.microsoft.com/en-us/graph/api/profilephoto-get); the code and
// message depend on where the user's mailbox lives, as reported publicly:
//   - ImageNotFound: Azure-Samples/ms-identity-dotnetcore-b2c-account-management#23;
//   - ErrorEntityNotFound with the same message: microsoftgraph/msgraph-sdk-dotnet-core#851;
//   - ErrorItemNotFound and GetUserPhoto, "The photo wasn't found.":
//     microsoftgraph/microsoft-graph-docs#2248;
//   - ErrorNonExistentMailbox, for users without a mailbox: "Failure to read or update a
//     photo, in this case, would result in the following error"
//     (https://learn.microsoft.com/en-us/graph/known-issues#photo-restrictions).
var noPhotoAnswers = []struct{ code, message string }{
	{"ImageNotFound", imageNotFound},
	{"ErrorEntityNotFound", imageNotFound},
	{"ErrorItemNotFound", "The photo wasn't found."},
	{"GetUserPhoto", "The photo wasn't found."},
	{"ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it."},
}

// NoPhotoCodes returns the error codes of the 404s Graph answers for a missing photo,
// in a fresh slice.
func NoPhotoCodes() []string {
	out := make([]string, len(noPhotoAnswers))
	for i, a := range noPhotoAnswers {
		out[i] = a.code
	}
	return out
}

// NoPhotoCode returns the error code the emulator answers, with 404, for the photo of
// the user with object id userID when the user has no photo: one of NoPhotoCodes,
// fixed per user (derived from the id), so tests can pick a user for each code.
func NoPhotoCode(userID string) string {
	return noPhotoAnswers[noPhotoIndex(userID)].code
}

func noPhotoIndex(userID string) int {
	h := fnv.New32a()
	h.Write([]byte("nophoto|" + strings.ToLower(userID)))
	return int(h.Sum32() % uint32(len(noPhotoAnswers)))
}

// photoKey selects a generated image: a palette entry, a shape variant and a size.
type photoKey struct{ palette, variant, size int }

var (
	photoMu    sync.Mutex
	photoCache = map[photoKey][]byte{}
)

// photoSeed derives the image parameters from a user id.
func photoSeed(id string) (palette, variant int) {
	h := fnv.New32a()
	h.Write([]byte(id))
	s := h.Sum32()
	return int(s % 24), int(s/24) % 3
}

// photoETag is the media etag of a user's photo.
func photoETag(id string) string {
	h := fnv.New32a()
	h.Write([]byte("photo|" + id))
	return fmt.Sprintf(`"%08X"`, h.Sum32())
}

// photoJPEG returns the deterministic JPEG of a user at size x size pixels.
func photoJPEG(id string, size int) []byte {
	p, v := photoSeed(id)
	k := photoKey{p, v, size}
	photoMu.Lock()
	defer photoMu.Unlock()
	if b, ok := photoCache[k]; ok {
		return b
	}
	b := renderPhoto(k)
	photoCache[k] = b
	return b
}

// renderPhoto draws a coloured background with a lighter head-and-shoulders silhouette.
func renderPhoto(k photoKey) []byte {
	hue := float64(k.palette) * 15
	bg := hsl(hue, 0.55, 0.45)
	fg := hsl(hue, 0.45, 0.80)
	img := image.NewRGBA(image.Rect(0, 0, k.size, k.size))
	s := float64(k.size)
	headR := s * (0.17 + 0.02*float64(k.variant))
	for y := 0; y < k.size; y++ {
		for x := 0; x < k.size; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			dx, dy := fx-s/2, fy-s*0.40
			bx, by := (fx-s/2)/(s*0.33), (fy-s*1.02)/(s*0.38)
			c := bg
			if dx*dx+dy*dy <= headR*headR || bx*bx+by*by <= 1 {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

// hsl converts a colour from HSL to RGBA.
func hsl(h, s, l float64) color.RGBA {
	c := (1 - abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - abs(mod2(hp)-1))
	var r, g, b float64
	switch int(hp) % 6 {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func mod2(f float64) float64 { return f - 2*float64(int(f/2)) }

// photoSize resolves the {size} path value ("" => the largest); ok=false with
// badSyntax=true means a malformed size.
func photoSize(v string) (size int, ok, badSyntax bool) {
	if v == "" {
		return photoSizes[len(photoSizes)-1], true, false
	}
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, false, true
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	return w, w == h && slices.Contains(photoSizes, w), false
}

// photoUser resolves the user and size of a photo request or writes the error.
func (e *Emulator) photoUser(w http.ResponseWriter, r *http.Request, ts *tenantState) (string, int, bool) {
	id := userKey(r)
	size, ok, bad := photoSize(r.PathValue("size"))
	e.mu.RLock()
	u := ts.lookup(id)
	var uid string
	has := false
	if u != nil {
		uid, has = u.ID, u.HasPhoto
	}
	e.mu.RUnlock()
	switch {
	case u == nil:
		notFound(w, r, id)
	case bad:
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid photo size '"+r.PathValue("size")+"'.")
	case !has:
		a := noPhotoAnswers[noPhotoIndex(uid)]
		graphError(w, r, http.StatusNotFound, a.code, a.message)
	case !ok:
		graphError(w, r, http.StatusNotFound, "ImageNotFound", imageNotFound)
	default:
		return uid, size, true
	}
	return "", 0, false
}

// photoMeta renders the profilePhoto entity.
func photoMeta(uid string, size int) ordered {
	return ordered{{"@odata.mediaContentType", "image/jpeg"}, {"@odata.mediaEtag", photoETag(uid)},
		{"id", fmt.Sprintf("%dX%d", size, size)}, {"height", size}, {"width", size}}
}

// handlePhotoMeta serves /users/{id}/photo and /users/{id}/photos/{size}.
func (e *Emulator) handlePhotoMeta(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	uid, size, ok := e.photoUser(w, r, ts)
	if !ok {
		return
	}
	seg := "/photo/$entity"
	if r.PathValue("size") != "" {
		seg = "/photos/$entity"
	}
	ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#users('" + uid + "')" + seg}
	writeJSON(w, http.StatusOK, append(ordered{ctx}, photoMeta(uid, size)...))
}

// handlePhotoValue serves the JPEG bytes of /photo/$value and /photos/{size}/$value.
func (e *Emulator) handlePhotoValue(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	uid, size, ok := e.photoUser(w, r, ts)
	if !ok {
		return
	}
	b := photoJPEG(uid, size)
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("ETag", photoETag(uid))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// handlePhotoList serves /users/{id}/photos.
func (e *Emulator) handlePhotoList(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := userKey(r)
	e.mu.RLock()
	u := ts.lookup(id)
	var uid string
	has := false
	if u != nil {
		uid, has = u.ID, u.HasPhoto
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	value := []ordered{}
	if has {
		for _, s := range photoSizes {
			value = append(value, photoMeta(uid, s)[1:])
		}
	}
	ctx := "/v1.0/$metadata#users('" + strings.ReplaceAll(uid, "'", "''") + "')/photos"
	writeJSON(w, http.StatusOK, ordered{{"@odata.context", e.url + ctx}, {"value", value}})
}
