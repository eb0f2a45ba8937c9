package graph_test

// TEMPORARY: strips MSAL's OIDC scopes from client-credential token requests until
// the emulator accepts them as Entra does (see /work/notes/emulator-requests.md).

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
)

type scopeFix struct{ next http.RoundTripper }

func (s scopeFix) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		f, err := url.ParseQuery(string(b))
		if err == nil && f.Get("grant_type") == "client_credentials" {
			var keep []string
			for _, sc := range strings.Fields(f.Get("scope")) {
				if sc != "openid" && sc != "offline_access" && sc != "profile" {
					keep = append(keep, sc)
				}
			}
			f.Set("scope", strings.Join(keep, " "))
			b = []byte(f.Encode())
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	return s.next.RoundTrip(r)
}

func fixHTTPClient(c *http.Client) *http.Client {
	cp := *c
	next := cp.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp.Transport = scopeFix{next}
	return &cp
}
