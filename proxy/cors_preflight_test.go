package proxy_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

const corsOrigin = "https://app.example"

// headerList splits a comma-separated header value into trimmed elements.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// assertVary fails unless the response's Vary lists every name of want (case-insensitively).
func assertVary(t *testing.T, h http.Header, want ...string) {
	t.Helper()
	vary := strings.ToLower(strings.Join(headerList(h, "Vary"), ","))
	for _, w := range want {
		if !slices.Contains(strings.Split(vary, ","), strings.ToLower(w)) {
			t.Errorf("Vary %q does not list %s", vary, w)
		}
	}
}

// assertNoCredentials fails if the response lets a browser send credentials.
func assertNoCredentials(t *testing.T, h http.Header) {
	t.Helper()
	if v, ok := h["Access-Control-Allow-Credentials"]; ok {
		t.Errorf("Access-Control-Allow-Credentials %q is sent", v)
	}
}

// TestCORSPreflightRequestHeaders: for an allowed origin a preflight admits exactly the
// request headers the browser asks for (the ones Graph clients add, see proxy/cors.go),
// and refuses a malformed list with 400 in Graph's envelope; other origins get 403.
func TestCORSPreflightRequestHeaders(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{corsOrigin} })
	many := make([]string, 65)
	for i := range many {
		many[i] = "x-h" + strings.Repeat("a", i)
	}
	tests := []struct {
		name, origin, method string
		asked                []string // Access-Control-Request-Headers field lines
		status               int
		code                 string   // error code when status is not 204
		allowed              []string // Access-Control-Allow-Headers when 204 (nil = absent)
	}{
		{"Graph JavaScript client", corsOrigin, "GET", []string{"authorization,client-request-id,sdkversion"}, 204, "",
			[]string{"authorization", "client-request-id", "sdkversion"}},
		{"its RetryHandler's retry", corsOrigin, "GET", []string{"authorization,client-request-id,retry-attempt,sdkversion"}, 204, "",
			[]string{"authorization", "client-request-id", "retry-attempt", "sdkversion"}},
		{"Toolkit people search", corsOrigin, "GET", []string{"authorization,consistencylevel,sdkversion,x-peoplequery-querysources"}, 204, "",
			[]string{"authorization", "consistencylevel", "sdkversion", "x-peoplequery-querysources"}},
		{"Toolkit planner and todo", corsOrigin, "POST", []string{"authorization,cache-control,content-type,if-match,prefer"}, 204, "",
			[]string{"authorization", "cache-control", "content-type", "if-match", "prefer"}},
		{"kiota-typescript", corsOrigin, "POST", []string{"authorization,content-encoding,content-type,retry-attempt,sdkversion,user-agent"}, 204, "",
			[]string{"authorization", "content-encoding", "content-type", "retry-attempt", "sdkversion", "user-agent"}},
		{"trace context", corsOrigin, "GET", []string{"authorization,traceparent,tracestate"}, 204, "",
			[]string{"authorization", "traceparent", "tracestate"}},
		{"spaces, case, empty elements and duplicates", corsOrigin, "GET", []string{" Authorization ,ConsistencyLevel,, prefer,authorization"}, 204, "",
			[]string{"authorization", "consistencylevel", "prefer"}},
		{"two field lines", corsOrigin, "GET", []string{"authorization", "retry-attempt"}, 204, "",
			[]string{"authorization", "retry-attempt"}},
		{"no headers asked for", corsOrigin, "GET", nil, 204, "", nil},
		{"space inside a name", corsOrigin, "GET", []string{"authorization,bad name"}, 400, "BadRequest", nil},
		{"semicolons", corsOrigin, "GET", []string{"authorization;prefer"}, 400, "BadRequest", nil},
		{"colon", corsOrigin, "GET", []string{"x-a:b"}, 400, "BadRequest", nil},
		{"non-ASCII name", corsOrigin, "GET", []string{"x-caf\xc3\xa9"}, 400, "BadRequest", nil},
		{"too long", corsOrigin, "GET", []string{strings.Repeat("x-long-header-name,", 250)}, 400, "BadRequest", nil},
		{"too many names", corsOrigin, "GET", []string{strings.Join(many, ",")}, 400, "BadRequest", nil},
		{"method is not a token", corsOrigin, "GET /", []string{"authorization"}, 400, "BadRequest", nil},
		{"foreign origin", "https://evil.example", "GET", []string{"authorization,retry-attempt"}, 403, "Authorization_RequestDenied", nil},
		{"foreign origin, malformed list", "https://evil.example", "GET", []string{"a b"}, 403, "Authorization_RequestDenied", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"Origin", tc.origin, "Access-Control-Request-Method", tc.method}
			for _, line := range tc.asked {
				h = append(h, "Access-Control-Request-Headers", line)
			}
			r := e.rawRequest(http.MethodOptions, "/v1.0/me", "", nil, h...)
			assertNoCredentials(t, r.Header)
			assertVary(t, r.Header, "Origin")
			if tc.status != http.StatusNoContent {
				assertGraphError(t, r, tc.status, tc.code)
				if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Headers") != "" {
					t.Errorf("a refused preflight admits: %v", r.Header)
				}
				return
			}
			if r.Status != tc.status || r.Header.Get("Access-Control-Allow-Origin") != corsOrigin {
				t.Fatalf("%d, Access-Control-Allow-Origin %q: %s", r.Status, r.Header.Get("Access-Control-Allow-Origin"), r.Body)
			}
			if got := headerList(r.Header, "Access-Control-Allow-Headers"); !slices.Equal(got, tc.allowed) {
				t.Errorf("Access-Control-Allow-Headers %q, want %q", got, tc.allowed)
			}
			if got := headerList(r.Header, "Access-Control-Allow-Methods"); !slices.Equal(got, []string{"GET", "POST"}) {
				t.Errorf("Access-Control-Allow-Methods %q", got)
			}
			if r.Header.Get("Access-Control-Max-Age") != "600" {
				t.Errorf("Access-Control-Max-Age %q", r.Header.Get("Access-Control-Max-Age"))
			}
			assertVary(t, r.Header, "Access-Control-Request-Method", "Access-Control-Request-Headers")
		})
	}
}

// TestCORSAnyOrigin: with allowed_origins ["*"] any page's preflight is admitted with its
// headers (Authorization included: "*" in Access-Control-Allow-Headers would not cover it),
// still without credentials.
func TestCORSAnyOrigin(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{"*"} })
	r := e.rawRequest(http.MethodOptions, "/v1.0/users", "", nil, "Origin", "https://anywhere.example",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,retry-attempt,x-peoplequery-querysources")
	if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d, Access-Control-Allow-Origin %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	want := []string{"authorization", "retry-attempt", "x-peoplequery-querysources"}
	if got := headerList(r.Header, "Access-Control-Allow-Headers"); !slices.Equal(got, want) {
		t.Errorf("Access-Control-Allow-Headers %q, want %q", got, want)
	}
	assertNoCredentials(t, r.Header)
	assertVary(t, r.Header, "Origin", "Access-Control-Request-Headers")
}
