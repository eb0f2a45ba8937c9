package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth"
)

// env is a running emulator with a gateway in front of it, as a test drives them.
type env struct {
	t      testing.TB
	emu    *emulator.Emulator
	dir    emulator.DirectoryInfo
	pol    *policy.Policy
	srv    *proxy.Server
	gw     *httptest.Server
	tokens map[string]string
}

// newEnv starts the emulator and a gateway serving all its tenants with the test policy.
func newEnv(t testing.TB, tweak ...func(*proxy.Config)) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	dir := emu.Directory()
	e := &env{t: t, emu: emu, dir: dir, tokens: map[string]string{}}
	e.pol = loadTestPolicy(t, dir)

	var authTenants []auth.Tenant
	var tenants []proxy.Tenant
	for _, tn := range dir.Tenants {
		authTenants = append(authTenants, auth.Tenant{
			ID: tn.ID, Audience: tn.GatewayAppID,
		})
		gc, err := graph.New(graph.Config{
			TenantID: tn.ID, ClientID: tn.GatewayAppID, ClientSecret: tn.GatewayClientSecret,
			AuthorityHost: emu.URL() + "/", BaseURL: emu.URL() + "/v1.0", HTTPClient: emu.HTTPClient(),
			Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, proxy.Tenant{ID: tn.ID, Upstream: gc})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, auth.Config{Authority: emu.URL(), Tenants: authTenants, HTTPClient: emu.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	cfg := proxy.Config{Tenants: tenants, Verifier: v, Policy: e.pol, Cache: cache.Config{TTL: time.Minute},
		RateLimit: proxy.RateLimitConfig{PerUserRPS: -1, PerClientRPS: -1}} // ratelimit_test.go opts in
	for _, f := range tweak {
		f(&cfg)
	}
	e.srv, err = proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.gw.Close)
	return e
}

// loadTestPolicy fills testdata/policy.yaml with the emulator's client app ids.
func loadTestPolicy(t testing.TB, dir emulator.DirectoryInfo) *policy.Policy {
	t.Helper()
	raw, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, c := range dir.Tenants[0].Clients {
		text = strings.ReplaceAll(text, "{{"+c.Name+"}}", c.ID)
	}
	p, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tenant returns the i-th tenant of the directory.
func (e *env) tenant(i int) emulator.TenantInfo { return e.dir.Tenants[i] }

// clientID returns the id of a client app by name.
func (e *env) clientID(tenant int, name string) string {
	for _, c := range e.tenant(tenant).Clients {
		if c.Name == name {
			return c.ID
		}
	}
	e.t.Fatalf("no client app %q", name)
	return ""
}

// enabledUsers lists the enabled users of a tenant.
func (e *env) enabledUsers(tenant int) []emulator.UserInfo {
	var out []emulator.UserInfo
	for _, u := range e.tenant(tenant).Users {
		if u.AccountEnabled {
			out = append(out, u)
		}
	}
	return out
}

// disabledUser returns a deactivated user of a tenant.
func (e *env) disabledUser(tenant int) emulator.UserInfo {
	for _, u := range e.tenant(tenant).Users {
		if !u.AccountEnabled {
			return u
		}
	}
	e.t.Fatal("no deactivated user in the fixture")
	return emulator.UserInfo{}
}

// token mints (and memoises) an access token for a user and client app.
func (e *env) token(tenant int, client string, user emulator.UserInfo) string {
	key := e.tenant(tenant).ID + "|" + client + "|" + user.ID
	if tok, ok := e.tokens[key]; ok {
		return tok
	}
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: e.tenant(tenant).ID, ClientID: e.clientID(tenant, client), UserID: user.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens[key] = tok
	return tok
}

// response is a finished gateway response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %s", r.Status, r.Body)
	}
	return m
}

// do sends a request to the gateway.
func (e *env) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.gw.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// get is do for GET.
func (e *env) get(path, token string, headers ...string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, token, nil, headers...)
}

// errorCode returns error.code of a Graph error envelope.
func errorCode(t *testing.T, r response) string {
	t.Helper()
	m := r.JSON(t)
	er, _ := m["error"].(map[string]any)
	code, _ := er["code"].(string)
	if inner, _ := er["innerError"].(map[string]any); inner["request-id"] == nil {
		t.Errorf("error envelope without innerError.request-id: %s", r.Body)
	}
	return code
}
