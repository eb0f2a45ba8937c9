package proxy_test

// Hostile and odd-but-legal inputs, end to end through HTTP: every refusal must be a clear
// error in Graph's envelope with the right status, no-store and a request-id; nothing
// beyond the caller's policy may come back.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

// rawRequest sends a request with exactly the given headers (repeated names allowed) and
// body bytes, and an optional Host override.
func (e *env) rawRequest(method, path, host string, body []byte, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// assertGraphError checks status, Graph's envelope (with a code and an innerError
// request-id matching the header) and the headers every error carries.
func assertGraphError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %.300s", r.Status, status, r.Body)
	}
	if got := errorCode(t, r); code != "" && got != code {
		t.Errorf("error code %q, want %q", got, code)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("request-id") == "" {
		t.Errorf("error without no-store or request-id: %v", r.Header)
	}
	var env struct {
		Error struct {
			InnerError map[string]string `json:"innerError"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &env)
	if env.Error.InnerError["request-id"] != r.Header.Get("request-id") {
		t.Errorf("innerError request-id %q differs from the header's %q", env.Error.InnerError["request-id"], r.Header.Get("request-id"))
	}
}

// gzipped compresses b.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHostilePathsAndQueries(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	me, other := users[0], users[1]
	tok := e.token(0, "chat-web", me)
	homoglyph := strings.Replace(other.UserPrincipalName, "a", "\u0430", 1) // Cyrillic a
	filterDeep := url.QueryEscape(strings.Repeat("(", 70) + "displayName eq 'a'" + strings.Repeat(")", 70))
	tests := []struct {
		name, path string
		headers    []string
		status     int
		code       string // "" for 2xx
	}{
		// Graph ignores a trailing slash: its own docs write /users/{id}/?$expand=manager
		// (https://learn.microsoft.com/graph/api/user-list-manager#http-request).
		{"trailing slash after id", "/v1.0/users/" + other.ID + "/", nil, 200, ""},
		{"empty id is the collection", "/v1.0/users/", nil, 200, ""},
		{"double slash", "/v1.0//me", nil, 400, "BadRequest"},
		{"leading double slash", "//v1.0/me", nil, 404, "Request_ResourceNotFound"},
		// A key no user can have: Graph's answer for an unknown user, without asking Graph.
		{"double-encoded at", "/v1.0/users/alex%2540contoso.example", nil, 404, "Request_ResourceNotFound"},
		{"NUL in UPN", "/v1.0/users/a%00b@contoso.example", nil, 404, "Request_ResourceNotFound"},
		{"homoglyph UPN", "/v1.0/users/" + url.PathEscape(homoglyph), nil, 404, "Request_ResourceNotFound"},
		{"upper-case UPN", "/v1.0/users/" + strings.ToUpper(other.UserPrincipalName), nil, 200, ""},
		{"photos list (not offered)", "/v1.0/users/" + other.ID + "/photos", nil, 404, "Request_ResourceNotFound"},
		{"photo size metadata", "/v1.0/me/photos/48x48", nil, 200, ""},
		{"bad photo size", "/v1.0/me/photos/49x49/$value", nil, 400, "BadRequest"},
		{"select star", "/v1.0/me?$select=*", nil, 400, "BadRequest"},
		{"select empty entry", "/v1.0/me?$select=displayName,,mail", nil, 400, "BadRequest"},
		{"select twice", "/v1.0/me?$select=id&$select=mail", nil, 400, "BadRequest"},
		{"select and $select", "/v1.0/me?select=id&$select=mail", nil, 400, "BadRequest"},
		{"expand other than manager", "/v1.0/me?$expand=memberOf", nil, 400, "BadRequest"},
		{"top zero", "/v1.0/users?$top=0", nil, 400, "Request_UnsupportedQuery"},
		{"top negative", "/v1.0/users?$top=-1", nil, 400, "BadRequest"},
		{"top exponent", "/v1.0/users?$top=1e3", nil, 400, "BadRequest"},
		{"top too big", "/v1.0/users?$top=1000", nil, 400, "Request_UnsupportedQuery"},
		{"count without eventual is ignored, as by Graph", "/v1.0/users?$count=TRUE", nil, 200, ""},
		{"count yes", "/v1.0/users?$count=yes", []string{"ConsistencyLevel", "eventual"}, 400, "BadRequest"},
		{"garbage skiptoken", "/v1.0/users?$skiptoken=garbage", nil, 400, "Request_UnsupportedQuery"},
		{"huge skiptoken", "/v1.0/users?$skiptoken=" + strings.Repeat("A", 5000), nil, 400, "BadRequest"},
		{"search on hidden field", "/v1.0/users?$search=" + url.QueryEscape(`"mobilePhone:555"`), []string{"ConsistencyLevel", "eventual"}, 400, "BadRequest"},
		{"search unterminated quote", "/v1.0/users?$search=" + url.QueryEscape(`"displayName:a`), []string{"ConsistencyLevel", "eventual"}, 400, "BadRequest"},
		{"search quote inside term", "/v1.0/users?$search=" + url.QueryEscape(`"displayName:a" "OR" "mobilePhone:1"`), []string{"ConsistencyLevel", "eventual"}, 400, "BadRequest"},
		{"filter too deep", "/v1.0/users?$filter=" + filterDeep, nil, 400, "BadRequest"},
		{"filter on hidden field", "/v1.0/users?$filter=" + url.QueryEscape("mobilePhone eq '1'"), nil, 400, "BadRequest"},
		{"orderby hidden field", "/v1.0/users?$orderby=userPrincipalName", nil, 400, "BadRequest"},
		{"semicolon in query", "/v1.0/users?a=1;b=2", nil, 400, "BadRequest"},
		{"bad escape in query", "/v1.0/users?$top=%zz", nil, 400, "BadRequest"},
		{"select on presence", "/v1.0/me/presence?$select=id", nil, 400, "BadRequest"},
		{"beta outside presence (not offered)", "/beta/me", nil, 404, "Request_ResourceNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tok, tc.headers...)
			if tc.code == "" {
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
				}
				return
			}
			assertGraphError(t, r, tc.status, tc.code)
		})
	}

	t.Run("odd but legal options", func(t *testing.T) {
		for _, tc := range []struct{ path, keys string }{
			{"/v1.0/me?$select=id", "@odata.context,id"},
			{"/v1.0/me?$select=%20DisplayName%20,displayname,ID", "@odata.context,displayName,id"},
			{"/v1.0/me?$SELECT=mobilePhone", "@odata.context,id"},
			{"/v1.0/me?$select=", "@odata.context,displayName,givenName,id,jobTitle,mail,officeLocation,surname,userPrincipalName"},
			{"/v1.0/me?$select=accountEnabled,signInSessionsValidFromDateTime", "@odata.context,accountEnabled,id"},
		} {
			r := e.get(tc.path, tok)
			if r.Status != http.StatusOK || keys(r.JSON(t)) != tc.keys {
				t.Errorf("%s: %d %s", tc.path, r.Status, r.Body)
			}
		}
		r := e.get("/v1.0/users?$count=TRUE&$top=2", tok, "ConsistencyLevel", "EVENTUAL")
		if m := r.JSON(t); r.Status != http.StatusOK || m["@odata.count"] == nil {
			t.Errorf("$count=TRUE: %d %s", r.Status, r.Body)
		}
	})

	t.Run("photo size casing", func(t *testing.T) {
		r := e.get("/v1.0/me/PHOTOS/48X48/$VALUE", tok)
		if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r.Status == http.StatusOK && !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
	})

	t.Run("skiptoken of another query", func(t *testing.T) {
		r := e.get("/v1.0/users?$top=2", tok)
		next, _ := r.JSON(t)["@odata.nextLink"].(string)
		u, err := url.Parse(next)
		if err != nil || next == "" {
			t.Fatalf("no nextLink: %s", r.Body)
		}
		st := u.Query().Get("$skiptoken")
		for _, q := range []string{"$top=3", "$top=2&$filter=" + url.QueryEscape("startswith(displayName,'A')")} {
			assertGraphError(t, e.get("/v1.0/users?"+q+"&$skiptoken="+url.QueryEscape(st), tok), 400, "Request_UnsupportedQuery")
		}
		// Another tenant's caller with the same query gets its own tenant's data or a refusal.
		btok := e.token(1, "chat-web", e.enabledUsers(1)[0])
		rb := e.get("/v1.0/users?$top=2&$skiptoken="+url.QueryEscape(st), btok)
		for _, usr := range users {
			if bytes.Contains(rb.Body, []byte(usr.ID)) {
				t.Fatalf("tenant B saw a tenant A user through a replayed skiptoken")
			}
		}
	})
}

func TestHostileTenantAndPolicyBoundaries(t *testing.T) {
	e := newEnv(t)
	a := e.enabledUsers(0)
	b := e.enabledUsers(1)
	btok := e.token(1, "chat-web", b[0])
	mobile := e.token(0, "mobile", a[0])
	tests := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"tenant B asks for tenant A UPN", "/v1.0/users/" + a[2].UserPrincipalName, btok, 404, "Request_ResourceNotFound"},
		{"tenant B asks for tenant A id", "/v1.0/users/" + a[2].ID, btok, 404, "Request_ResourceNotFound"},
		{"tenant B asks for tenant A photo", "/v1.0/users/" + a[2].ID + "/photo/$value", btok, 404, "Request_ResourceNotFound"},
		{"tenant B asks for tenant A presence", "/v1.0/users/" + a[2].ID + "/presence", btok, 404, "Request_ResourceNotFound"},
		{"app without users.read reads a colleague", "/v1.0/users/" + a[1].ID, mobile, 403, "Authorization_RequestDenied"},
		{"app without users.list lists", "/v1.0/users", mobile, 403, "Authorization_RequestDenied"},
		{"app without presence.read on beta", "/beta/me/presence", mobile, 403, "Authorization_RequestDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tc.token)
			assertGraphError(t, r, tc.status, tc.code)
			for _, u := range a {
				if bytes.Contains(r.Body, []byte(u.ID)) || bytes.Contains(r.Body, []byte(u.UserPrincipalName)) {
					t.Errorf("the refusal names a user")
				}
			}
		})
	}
}

func TestHostileAuthorizationHeaders(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	other := e.token(0, "chat-web", e.enabledUsers(0)[1])
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
		code    string
	}{
		{"lower-case scheme", "/v1.0/me", []string{"Authorization", "bearer " + tok}, 200, ""},
		{"extra spaces", "/v1.0/me", []string{"Authorization", "  Bearer    " + tok + "  "}, 200, ""},
		{"token in query string only", "/v1.0/me?access_token=" + tok, nil, 401, "InvalidAuthenticationToken"},
		{"token in $-query string only", "/v1.0/me?$access_token=" + tok, nil, 401, "InvalidAuthenticationToken"},
		{"two tokens in one header", "/v1.0/me", []string{"Authorization", "Bearer " + tok + " " + other}, 400, "InvalidAuthenticationToken"},
		{"two Authorization headers", "/v1.0/me", []string{"Authorization", "Bearer " + tok, "Authorization", "Bearer garbage"}, 400, "InvalidAuthenticationToken"},
		{"two identical Authorization headers", "/v1.0/me", []string{"Authorization", "Bearer " + tok, "Authorization", "Bearer " + tok}, 400, "InvalidAuthenticationToken"},
		{"Basic scheme", "/v1.0/me", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, "InvalidAuthenticationToken"},
		{"very long header", "/v1.0/me", []string{"Authorization", "Bearer " + tok, "X-Junk", strings.Repeat("a", 20<<10)}, 431, "BadRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.rawRequest(http.MethodGet, tc.path, "", nil, tc.headers...)
			if tc.code == "" {
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				return
			}
			assertGraphError(t, r, tc.status, tc.code)
		})
	}
}

func TestHostileRequestIDHeaders(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	for _, tc := range []struct {
		name, crid string
		echoed     bool
	}{
		{"guid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"too long", strings.Repeat("a", 5000), false},
		{"odd characters", "abc<script>", false},
		{"header-like", "a: b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get("/v1.0/me", tok, "client-request-id", tc.crid)
			got := r.Header.Get("client-request-id")
			if (got == tc.crid) != tc.echoed || got == "" {
				t.Errorf("client-request-id %.60q -> %.60q", tc.crid, got)
			}
			if !tc.echoed && got != r.Header.Get("request-id") {
				t.Errorf("a refused client-request-id is not replaced by the request-id")
			}
		})
	}
}

func TestHostileMethods(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	for _, path := range []string{"/v1.0/me", "/v1.0/users", "/v1.0/$batch", "/v1.0/communications/getPresencesByUserId",
		"/admin/v1/cache/purge", "/healthz", "/privacy"} {
		for _, m := range []string{http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch, "PROPFIND"} {
			t.Run(m+" "+path, func(t *testing.T) {
				r := e.do(m, path, tok, nil)
				if r.Status != http.StatusMethodNotAllowed || r.Header.Get("request-id") == "" || r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("%d %v", r.Status, r.Header)
				}
				if m != http.MethodHead {
					assertGraphError(t, r, http.StatusMethodNotAllowed, "Request_BadRequest")
				}
			})
		}
	}
}

// TestHostileCORS: a disallowed origin is refused in Graph's envelope (not with an empty
// 403), an allowed one and same-origin requests still pass.
func TestHostileCORS(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{"https://app.example"} })
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	host := strings.TrimPrefix(e.url, "http://")
	tests := []struct {
		name, method, origin string
		status               int
		allowOrigin          string
	}{
		{"simple request, foreign origin", http.MethodGet, "https://evil.example", 403, ""},
		{"preflight, foreign origin", http.MethodOptions, "https://evil.example", 403, ""},
		{"preflight, null origin", http.MethodOptions, "null", 403, ""},
		{"preflight, look-alike origin", http.MethodOptions, "https://app.example.evil.example", 403, ""},
		{"simple request, allowed origin", http.MethodGet, "https://app.example", 200, "https://app.example"},
		{"preflight, allowed origin", http.MethodOptions, "https://app.example", 204, "https://app.example"},
		{"same origin", http.MethodGet, "http://" + host, 200, ""},
		{"no origin", http.MethodGet, "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"Authorization", "Bearer " + tok, "Access-Control-Request-Method", "GET"}
			if tc.origin != "" {
				h = append(h, "Origin", tc.origin)
			}
			r := e.rawRequest(tc.method, "/v1.0/me", "", nil, h...)
			if r.Header.Get("Access-Control-Allow-Origin") != tc.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
			}
			if tc.status == 403 {
				assertGraphError(t, r, 403, "Authorization_RequestDenied")
				if bytes.Contains(r.Body, []byte(tc.origin)) {
					t.Errorf("the refusal echoes the origin")
				}
				return
			}
			if r.Status != tc.status {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// TestHostileHostHeader: with PublicURL set, a spoofed Host never reaches the links; without
// it, links follow the Host header (documented at Config.PublicURL).
func TestHostileHostHeader(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL, want string
	}{
		{"public url set", "https://gw.example/", "https://gw.example/v1.0/"},
		{"public url unset", "", "http://evil.example/v1.0/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *proxy.Config) { c.PublicURL = tc.publicURL })
			tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
			r := e.rawRequest(http.MethodGet, "/v1.0/users?$top=2", "evil.example", nil, "Authorization", "Bearer "+tok)
			m := r.JSON(t)
			next, _ := m["@odata.nextLink"].(string)
			ctx, _ := m["@odata.context"].(string)
			if !strings.HasPrefix(next, tc.want) || !strings.HasPrefix(ctx, tc.want) {
				t.Fatalf("nextLink %q, context %q; want prefix %q", next, ctx, tc.want)
			}
		})
	}
}

// batchItems posts a raw JSON batch and returns the decoded responses by id.
