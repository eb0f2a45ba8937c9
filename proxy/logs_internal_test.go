package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// Personal values the requests below carry; none may reach the logs.
const (
	testUPN   = "alice.personal@contoso.example"
	testOID   = "4f1c2b7e-1111-4222-8333-944455556666"
	testToken = "eyJhbGciOi.personal-token-value.sig"
	testQuery = "Alice Personal"
	tenantID  = "9a8b7c6d-0000-4000-8000-000000000001"
	clientApp = "5e6f7a8b-0000-4000-8000-000000000002"
)

// fakeVerifier accepts testToken as a token of testOID.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, raw string) (auth.Principal, error) {
	if raw != testToken {
		return auth.Principal{}, &auth.Error{Code: "invalid_token", Status: http.StatusUnauthorized, Description: "bad token"}
	}
	now := time.Now()
	return auth.Principal{TenantID: tenantID, ObjectID: testOID, ClientAppID: clientApp,
		Scopes: []string{"access_as_user"}, IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}, nil
}

func (fakeVerifier) Ready() bool { return true }

// notFoundUpstream knows only the caller, answers other user look-ups with Graph's 404
// and fails lists with an error whose text holds personal data, as a careless library's
// error might.
type notFoundUpstream struct{ Upstream }

func (notFoundUpstream) User(_ context.Context, id string, _ []string) (graph.User, error) {
	if id == testOID {
		return graph.User{"id": testOID, "accountEnabled": true, "displayName": testQuery}, nil
	}
	return nil, graph.ErrNotFound
}

func (notFoundUpstream) Users(context.Context, graph.Query) (graph.UserPage, error) {
	return graph.UserPage{}, fmt.Errorf("GET https://graph.microsoft.com/v1.0/users?$search=%s: %w", testQuery, errors.New("connection reset"))
}

func TestLogsHoldNoRequestData(t *testing.T) {
	var logs testkit.SyncBuffer
	pol, err := policy.Parse([]byte(`clients:
  - app_id: ` + clientApp + `
    name: test-app
    purpose: Test.
    operations: [me.read, users.read, users.list]
    fields: {self: [displayName], others: [displayName]}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Tenants: []Tenant{{ID: tenantID, Upstream: notFoundUpstream{}}}, Verifier: fakeVerifier{},
		Policy: pol, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	s.engine.GET("/_test/panic/:id", func(c *gin.Context) {
		panic(fmt.Errorf("boom for %s (%s)", c.Param("id"), c.GetHeader("Authorization")))
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	requests := []struct {
		path   string
		status int
	}{
		{"/_test/panic/" + testUPN + "?q=" + strings.ReplaceAll(testQuery, " ", "+"), http.StatusInternalServerError},
		{"/v1.0/users/" + testUPN + "?$select=displayName", http.StatusNotFound},
		{"/v1.0/users?$search=%22displayName:" + strings.ReplaceAll(testQuery, " ", "%20") + "%22", 0},
		{"/v1.0/nosuchthing/" + testUPN, http.StatusBadRequest},
		{"/v1.0/users/" + testUPN + "/" + strings.Repeat("x", 9000), http.StatusRequestURITooLong},
	}
	for _, r := range requests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+r.path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("ConsistencyLevel", "eventual")
		req.Header.Set("client-request-id", testUPN) // not a well-formed id: must be replaced
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if r.status != 0 && resp.StatusCode != r.status {
			t.Errorf("%s: status %d, want %d", r.path[:20], resp.StatusCode, r.status)
		}
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"panic in handler"`) || !strings.Contains(out, `"route":"GET /_test/panic/{id}"`) {
		t.Errorf("the panic is not logged by route template:\n%s", out)
	}
	// The panicking request is recorded by the panic record (the recoverer sits outside
	// the access log); every other request has its access record.
	if n := strings.Count(out, `"msg":"request"`); n != len(requests)-1 {
		t.Errorf("%d access log records, want %d", n, len(requests)-1)
	}
	for _, v := range []string{testUPN, "alice", testOID, testToken, "personal-token", testQuery, "Personal", "contoso", "$search", "xxxx"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(v)) {
			t.Errorf("the logs hold %q:\n%s", v, out)
		}
	}
}
