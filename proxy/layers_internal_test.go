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

// TestEveryRouteIsCaseInsensitive holds the case folder to the route table: every static
// segment of every Graph route, in any casing, is folded back to the route's own
// spelling, so a new route needs no second list of words. Parameters (user keys, sizes)
// keep the casing they were sent in; graphgate's own APIs are not folded.
func TestEveryRouteIsCaseInsensitive(t *testing.T) {
	s := newTestServer(t)
	routes := s.engine.Routes()
	params := map[string]string{":id": "Adele.Vance@Contoso.example", ":size": "48x48", "*file": "App.js"}
	graphRoutes := 0
	defer func() {
		if graphRoutes < 20 {
			t.Errorf("only %d Graph routes checked", graphRoutes)
		}
	}()
	for _, r := range routes {
		if !isGraphRoute(r.Path) {
			continue
		}
		graphRoutes++
		for _, recase := range []func(string) string{strings.ToUpper, strings.ToLower, swapCase} {
			var sent, want []string
			for _, seg := range strings.Split(r.Path, "/") {
				if v, ok := params[seg]; ok {
					sent, want = append(sent, recase(v)), append(want, recase(v))
					continue
				}
				sent, want = append(sent, recase(seg)), append(want, seg)
			}
			path := strings.Join(sent, "/")
			if got := s.fold.canonical(path); got != strings.Join(want, "/") {
				t.Errorf("%s %s: %q folds to %q, want %q", r.Method, r.Path, path, got, strings.Join(want, "/"))
			}
		}
	}
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

// TestOwnAPIsAreNotFolded: graphgate's own APIs keep their exact spelling.
func TestOwnAPIsAreNotFolded(t *testing.T) {
	s := newTestServer(t)
	for _, p := range []string{"/PRIVACY", "/Admin/V1/Cache/Purge", "/USAGE/", "/Healthz", "/READYZ"} {
		if got := s.fold.canonical(p); got != p {
			t.Errorf("%q folds to %q", p, got)
		}
	}
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
