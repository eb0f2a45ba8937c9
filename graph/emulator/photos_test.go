package emulator_test

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// photoUsers returns one user with and one without a photo.
func photoUsers(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo) (with, without string) {
	t.Helper()
	for _, ui := range ti.Users {
		u, _ := e.User(ti.ID, ui.ID)
		if u.HasPhoto && with == "" {
			with = u.ID
		}
		if !u.HasPhoto && without == "" {
			without = u.ID
		}
	}
	if with == "" || without == "" {
		t.Fatal("directory lacks users with and without photos")
	}
	return with, without
}

func TestPhotos(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	with, without := photoUsers(t, e, ti)
	t.Run("metadata", func(t *testing.T) {
		st, m := graphGet(t, e, tok, "/v1.0/users/"+with+"/photo", nil)
		if st != 200 || m["@odata.mediaContentType"] != "image/jpeg" || m["@odata.mediaEtag"] == nil ||
			m["id"] != "648X648" || m["height"] != 648.0 || m["width"] != 648.0 {
			t.Fatalf("photo: %d %v", st, m)
		}
	})
	t.Run("list", func(t *testing.T) {
		st, m := graphGet(t, e, tok, "/v1.0/users/"+with+"/photos", nil)
		if v, _ := m["value"].([]any); st != 200 || len(v) != 9 || v[0].(map[string]any)["id"] != "48X48" {
			t.Fatalf("photos: %d %v", st, m)
		}
	})
	sizes := []struct {
		path   string
		status int
		px     int
		code   string
	}{
		{"/photo/$value", 200, 648, ""},
		{"/photos/48x48/$value", 200, 48, ""},
		{"/photos/120X120/$value", 200, 120, ""},
		{"/photos/240x240/$value", 200, 240, ""},
		{"/photos/504x504/$value", 200, 504, ""},
		{"/photos/100x100/$value", 404, 0, "ImageNotFound"},
		{"/photos/huge/$value", 400, 0, "BadRequest"},
	}
	for _, tc := range sizes {
		t.Run(tc.path, func(t *testing.T) {
			resp, b := do(t, e, http.MethodGet, "/v1.0/users/"+with+tc.path, tok, nil, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if tc.code != "" {
				if errCode(decodeObj(t, b)) != tc.code {
					t.Fatalf("body %s", b)
				}
				return
			}
			if resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if r := img.Bounds(); r.Dx() != tc.px || r.Dy() != tc.px {
				t.Fatalf("size %v, want %d", r, tc.px)
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		_, a := do(t, e, http.MethodGet, "/v1.0/users/"+with+"/photos/64x64/$value", tok, nil, nil)
		_, b := do(t, e, http.MethodGet, "/v1.0/users/"+with+"/photos/64x64/$value", tok, nil, nil)
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Fatal("photo bytes differ between requests")
		}
	})
	if code := emulator.NoPhotoCode(without); code == "" {
		t.Fatal("no code for a user without photo")
	}
}

// TestNoPhotoAnswers: Graph answers the photo of a user without one with 404 and one of
// several codes (ImageNotFound, ErrorEntityNotFound, ErrorItemNotFound, GetUserPhoto,
// ErrorNonExistentMailbox), fixed per user; the fixture directory has a user for each.
func TestNoPhotoAnswers(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	const imageNotFound = "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."
	messages := map[string]string{
		"ImageNotFound":           imageNotFound,
		"ErrorEntityNotFound":     imageNotFound,
		"ErrorItemNotFound":       "The photo wasn't found.",
		"GetUserPhoto":            "The photo wasn't found.",
		"ErrorNonExistentMailbox": "The SMTP address has no mailbox associated with it.",
	}
	if codes := emulator.NoPhotoCodes(); len(codes) != len(messages) {
		t.Fatalf("NoPhotoCodes = %v, want the %d codes tested here", codes, len(messages))
	}
	for _, code := range emulator.NoPhotoCodes() {
		t.Run(code, func(t *testing.T) {
			id := noPhotoUser(t, e, ti, code)
			for _, p := range []string{"/photo", "/photo/$value", "/photos/96x96/$value", "/photos/48X48"} {
				st, m := graphGet(t, e, tok, "/v1.0/users/"+id+p, nil)
				msg, _ := m["error"].(map[string]any)["message"].(string)
				if st != 404 || errCode(m) != code || msg != messages[code] {
					t.Fatalf("%s: got %d %v, want 404 %s %q", p, st, m, code, messages[code])
				}
			}
		})
	}
}

// noPhotoUser returns a fixture user without photo whose missing photo Graph answers
// with code.
func noPhotoUser(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo, code string) string {
	t.Helper()
	for _, ui := range ti.Users {
		if u, _ := e.User(ti.ID, ui.ID); !u.HasPhoto && emulator.NoPhotoCode(u.ID) == code {
			return u.ID
		}
	}
	t.Fatalf("no fixture user without photo answers %s", code)
	return ""
}
