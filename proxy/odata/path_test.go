package odata_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/odata"
)

// keyForms are spellings of one user key on /users, each as a client may send it. want is
// the decoded key.
var keyForms = []struct {
	name, segment, want string
}{
	{"object id", "/11111111-2222-3333-4444-555555555555", "11111111-2222-3333-4444-555555555555"},
	{"object id in parentheses", "('11111111-2222-3333-4444-555555555555')", "11111111-2222-3333-4444-555555555555"},
	{"upn", "/adele.vance@contoso.example", "adele.vance@contoso.example"},
	{"upn, @ encoded", "/adele.vance%40contoso.example", "adele.vance@contoso.example"},
	{"upn in parentheses", "('adele.vance@contoso.example')", "adele.vance@contoso.example"},
	{"upn in encoded parentheses", "%28%27adele.vance%40contoso.example%27%29", "adele.vance@contoso.example"},
	{"guest", "/gwen_partner.example%23EXT%23@contoso.example", "gwen_partner.example#EXT#@contoso.example"},
	{"guest in parentheses", "('gwen_partner.example%23EXT%23@contoso.example')", "gwen_partner.example#EXT#@contoso.example"},
	{"leading $ in parentheses", "('$reception@contoso.example')", "$reception@contoso.example"},
	{"leading $ encoded in parentheses", "('%24reception@contoso.example')", "$reception@contoso.example"},
	{"quote", "/o'neill.kai@contoso.example", "o'neill.kai@contoso.example"},
	{"quote encoded", "/o%27neill.kai@contoso.example", "o'neill.kai@contoso.example"},
	{"quote doubled in parentheses", "('o''neill.kai@contoso.example')", "o'neill.kai@contoso.example"},
	{"plus", "/kai+test@contoso.example", "kai+test@contoso.example"},
	{"plus encoded", "/kai%2Btest@contoso.example", "kai+test@contoso.example"},
	{"ampersand", "/r&d.team@contoso.example", "r&d.team@contoso.example"},
	{"percent", "/fifty%2550@contoso.example", "fifty%50@contoso.example"},
}

// routesUnderUser are the navigations a key form is tried with, and the route each gives.
var routesUnderUser = []struct{ suffix, route string }{
	{"", "/v1.0/users/{id}"},
	{"/manager", "/v1.0/users/{id}/manager"},
	{"/Manager/microsoft.graph.user", "/v1.0/users/{id}/manager"},
	{"/directReports", "/v1.0/users/{id}/directReports"},
	{"/DIRECTREPORTS/$COUNT", "/v1.0/users/{id}/directReports/$count"},
	{"/directReports/microsoft.graph.user/$count", "/v1.0/users/{id}/directReports/$count"},
	{"/directReports/%24count", "/v1.0/users/{id}/directReports/$count"},
	{"/photo", "/v1.0/users/{id}/photo"},
	{"/photo/$value", "/v1.0/users/{id}/photo/$value"},
	{"/Photo/%24Value", "/v1.0/users/{id}/photo/$value"},
	{"/photos/48x48/$value", "/v1.0/users/{id}/photos/{size}/$value"},
	{"/photos('48x48')/$value", "/v1.0/users/{id}/photos/{size}/$value"},
	{"/photos/96X96", "/v1.0/users/{id}/photos/{size}"},
	{"/presence", "/v1.0/users/{id}/presence"},
	{"/", "/v1.0/users/{id}"},
}

// TestParsePathKeyFormsByRoute reads every key form under every user route.
func TestParsePathKeyFormsByRoute(t *testing.T) {
	for _, k := range keyForms {
		for _, r := range routesUnderUser {
			path := "/v1.0/users" + k.segment + r.suffix
			t.Run(k.name+r.suffix, func(t *testing.T) {
				target, err := odata.ParsePath(path)
				if err != nil {
					t.Fatalf("ParsePath(%q): %v", path, err)
				}
				if target.UserKey != k.want || target.Me || target.Route() != r.route {
					t.Fatalf("ParsePath(%q) = %+v (route %q), want key %q, route %q", path, target, target.Route(), k.want, r.route)
				}
			})
		}
	}
}

// TestParsePathTargets covers the other resources and the spellings Graph accepts.
func TestParsePathTargets(t *testing.T) {
	for _, tc := range []struct{ path, route, size string }{
		{"/v1.0/me", "/v1.0/me", ""},
		{"/V1.0/ME/", "/v1.0/me", ""},
		{"/v1.0/me/photos/240x240/$value", "/v1.0/me/photos/{size}/$value", "240x240"},
		{"/beta/me/presence", "/beta/me/presence", ""},
		{"/BETA/Users/adele@contoso.example/Presence", "/beta/users/{id}/presence", ""},
		{"/v1.0/users", "/v1.0/users", ""},
		{"/v1.0/Users/", "/v1.0/users", ""},
		{"/v1.0/users/$count", "/v1.0/users/$count", ""},
		{"/v1.0/users/%24count", "/v1.0/users/$count", ""},
		{"/v1.0/USERS/$Count", "/v1.0/users/$count", ""},
		{"/v1.0/communications/getPresencesByUserId", "/v1.0/communications/getPresencesByUserId", ""},
		{"/v1.0/communications/microsoft.graph.getPresencesByUserId", "/v1.0/communications/getPresencesByUserId", ""},
		{"/beta/Communications/GetPresencesByUserID", "/beta/communications/getPresencesByUserId", ""},
		{"/v1.0/$batch", "/v1.0/$batch", ""},
		{"/v1.0/me/microsoft.graph.user/manager", "/v1.0/me/manager", ""},
		{"/v1.0/%24batch", "/v1.0/$batch", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			target, err := odata.ParsePath(tc.path)
			if err != nil {
				t.Fatalf("ParsePath: %v", err)
			}
			if target.Route() != tc.route || target.PhotoSize != tc.size {
				t.Fatalf("ParsePath(%q) = %+v, route %q; want route %q size %q", tc.path, target, target.Route(), tc.route, tc.size)
			}
		})
	}
}

// TestParsePathRefusals gives each kind of path Graph refuses its answer.
func TestParsePathRefusals(t *testing.T) {
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		// A UPN starting with "$" must be written in parentheses.
		{"/v1.0/users/$reception@contoso.example", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users/%24reception@contoso.example/manager", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users/$top", http.StatusBadRequest, "BadRequest"},
		// Malformed keys in parentheses.
		{"/v1.0/users('adele@contoso.example", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users(adele@contoso.example)", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users('o'neill@contoso.example')", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users('')", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/%zz", http.StatusBadRequest, "BadRequest"},
		// Keys no user can have.
		{"/v1.0/users/not-a-key", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/a b@contoso.example", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/a%2Fb@contoso.example", http.StatusNotFound, "Request_ResourceNotFound"},
		// Segments Graph does not know.
		{"/v1.0/frobnicate", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/frobnicate", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/photo/$count", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/manager/manager", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users/$count/x", http.StatusBadRequest, "BadRequest"},
		{"/v1.0", http.StatusNotFound, "Request_ResourceNotFound"}, // the service document
		{"/v1.0/$metadata", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/not-a-key/frobnicate", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/directReports/11111111-2222-3333-4444-555555555555", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/me/manager/$ref", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/delta()", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/getByIds", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/me/photos//$value", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/beta/me/frobnicate", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v2.0/me", http.StatusBadRequest, "BadRequest"},
		// Resources Graph has that graphgate does not serve.
		{"/v1.0/groups", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/me/messages", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/adele@contoso.example/memberOf", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users/microsoft.graph.delta()", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/communications/calls", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/beta/users/adele@contoso.example/profile", http.StatusNotFound, "Request_ResourceNotFound"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			target, err := odata.ParsePath(tc.path)
			var pe *odata.PathError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePath(%q) = %+v, %v; want a refusal", tc.path, target, err)
			}
			if pe.Status != tc.status || pe.Code != tc.code || pe.Message == "" {
				t.Fatalf("ParsePath(%q): %d %s %q; want %d %s", tc.path, pe.Status, pe.Code, pe.Message, tc.status, tc.code)
			}
			if strings.Contains(pe.Message, "contoso") {
				t.Errorf("the message repeats the key: %q", pe.Message)
			}
		})
	}
}

// FuzzParsePath checks that ParsePath never panics, refuses only with *PathError, gives
// a routable target with a valid key, and reads back the key it decoded when that key
// is written in parentheses.
func FuzzParsePath(f *testing.F) {
	for _, k := range keyForms {
		for _, r := range routesUnderUser {
			f.Add("/v1.0/users" + k.segment + r.suffix)
		}
	}
	for _, s := range []string{"/v1.0/users/$count", "/beta/me/presence", "/v1.0/users('a''", "/v1.0/users(')')", "/v1.0//me", "/v1.0/users/%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		target, err := odata.ParsePath(path)
		if err != nil {
			var pe *odata.PathError
			if !errors.As(err, &pe) || pe.Message == "" || pe.Status < 400 || pe.Status > 499 {
				t.Fatalf("ParsePath(%q): %v (%T)", path, err, err)
			}
			return
		}
		route := target.Route()
		if !strings.HasPrefix(route, "/"+target.Version+"/") || strings.ContainsAny(route, "@'%#") ||
			(target.UserKey != "" && strings.Contains(route, target.UserKey)) {
			t.Fatalf("ParsePath(%q): route %q holds more than a template", path, route)
		}
		if target.UserKey == "" {
			return
		}
		if !odata.IsUserKey(target.UserKey) {
			t.Fatalf("ParsePath(%q): invalid key %q accepted", path, target.UserKey)
		}
		quoted := spec.KeyInParentheses(target.UserKey) // the writer graphgate uses toward Graph
		back, err := odata.ParsePath("/v1.0/users" + quoted)
		if err != nil || back.UserKey != target.UserKey {
			t.Fatalf("key %q written as %q reads back as %q, %v", target.UserKey, quoted, back.UserKey, err)
		}
	})
}

// BenchmarkParsePath measures the grammar on the spellings the hit path sees most: /me,
// a user by object id, and a guest by UPN with a navigation.
func BenchmarkParsePath(b *testing.B) {
	for _, p := range []string{"/v1.0/me", "/v1.0/users/11111111-2222-3333-4444-555555555555",
		"/v1.0/users/gwen_partner.example%23EXT%23@contoso.example/photos/48x48/$value"} {
		b.Run(p[:min(len(p), 24)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := odata.ParsePath(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
