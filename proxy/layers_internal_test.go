package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// TestEveryGraphRouteIsReachedThroughTheGrammar holds proxy/odata's URL grammar to the
// route table: every Graph route, with its placeholders filled by each key form and its
// static segments in any casing, parses to a target whose canonical route is that route.
// (The other direction needs no test: Server.serveHTTP answers a target whose route is
// not registered as not offered.)
func TestEveryGraphRouteIsReachedThroughTheGrammar(t *testing.T) {
	s := newTestServer(t)
	keys := []string{"Adele.Vance@Contoso.example", "('Adele.Vance@Contoso.example')",
		"gwen_partner.example%23EXT%23@contoso.example", "('%24reception@contoso.example')",
		"%28%27o%27%27neill.kai@contoso.example%27%29", "11111111-2222-3333-4444-555555555555"}
	graphRoutes := 0
	for _, r := range s.engine.Routes() {
		if !odata.IsGraphPath(r.Path) || r.Path == unroutable {
			continue
		}
		graphRoutes++
		for _, key := range keys {
			for _, recase := range []func(string) string{strings.ToUpper, strings.ToLower, swapCase} {
				path := strings.Replace(recase(r.Path), recase("{size}"), "48X48", 1)
				path = strings.Replace(path, recase("/users/{id}"), recase("/users")+keySeparator(key)+key, 1)
				target, err := odata.ParsePath(path)
				if err != nil {
					t.Errorf("%s %s: %q refused: %v", r.Method, r.Path, path, err)
					continue
				}
				if got := target.Route(); got != r.Path {
					t.Errorf("%s %s: %q routes to %q", r.Method, r.Path, path, got)
				}
			}
		}
	}
	if graphRoutes < 20 {
		t.Errorf("only %d Graph routes checked", graphRoutes)
	}
}

// keySeparator is what comes between "users" and a key: "/" or nothing for the
// key-in-parentheses forms.
func keySeparator(key string) string {
	if strings.HasPrefix(key, "(") || strings.HasPrefix(key, "%28") {
		return ""
	}
	return "/"
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// TestDomainErrorsMapToGraphAnswers holds errors.go to the directory's and odata's
// errors: each maps to Graph's status and code (none to a 500; an unknown error is an
// internal one), and the throttling delay survives as Retry-After.
func TestDomainErrorsMapToGraphAnswers(t *testing.T) {
	cause := errors.New("graph: get user: unavailable (status 503)")
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{directory.ErrNotFound, http.StatusNotFound, "Request_ResourceNotFound"},
		{fmt.Errorf("%w: %w", directory.ErrNotFound, graph.ErrNotFound), http.StatusNotFound, "Request_ResourceNotFound"},
		{directory.ErrNoPhoto, http.StatusNotFound, "ImageNotFound"},
		{directory.ErrBusy, http.StatusServiceUnavailable, "serviceNotAvailable"},
		{&directory.ThrottledError{RetryAfter: 2500 * time.Millisecond}, http.StatusTooManyRequests, "TooManyRequests"},
		{fmt.Errorf("%w: %w", directory.ErrRejected, cause), http.StatusBadRequest, "Request_UnsupportedQuery"},
		{fmt.Errorf("%w: %w", directory.ErrDenied, cause), http.StatusBadGateway, "upstreamAccessDenied"},
		{fmt.Errorf("%w: %w", directory.ErrUnavailable, cause), http.StatusServiceUnavailable, "serviceNotAvailable"},
		{&odata.Error{Code: odata.CodeBadRequest, Message: "m"}, http.StatusBadRequest, "BadRequest"},
		{&odata.Error{Code: odata.CodeUnsupportedQuery, Message: "m"}, http.StatusBadRequest, "Request_UnsupportedQuery"},
		{context.Canceled, http.StatusInternalServerError, "generalException"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			ae := apiErrorOf(tt.err)
			if ae.Status != tt.status || ae.Code != tt.code {
				t.Fatalf("apiErrorOf = %d %s, want %d %s", ae.Status, ae.Code, tt.status, tt.code)
			}
			if strings.Contains(ae.Message, "503") || strings.Contains(ae.Message, "get user") {
				t.Errorf("the client message leaks the cause: %q", ae.Message)
			}
		})
	}
	if ae := apiErrorOf(&directory.ThrottledError{RetryAfter: 2500 * time.Millisecond}); ae.RetryAfter != 2500*time.Millisecond {
		t.Errorf("Retry-After %v, want 2.5s", ae.RetryAfter)
	}
}

// newTestServer builds a gateway whose upstream and verifier are never called.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	pol, err := policy.Parse([]byte("clients:\n  - app_id: " + clientApp + "\n    name: test-app\n    purpose: Test.\n" +
		"    operations: [me.read]\n    fields: {self: [displayName], others: [displayName]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Tenants: []Tenant{{ID: tenantID, Upstream: notFoundUpstream{}}}, Verifier: fakeVerifier{},
		Policy: pol, UsageReports: noReports{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noReports is a usage API that is never called (it only makes the routes exist).
type noReports struct{ UsageReports }
