package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// env is a running emulator with a gateway in front of it (proxytest), as a test drives them.
type env struct {
	t      testing.TB
	emu    *emulator.Emulator
	dir    emulator.DirectoryInfo
	pol    *policy.Policy
	srv    *proxy.Server
	url    string // the gateway's base URL
	tokens map[string]string
}

// newEnv starts the emulator and a gateway serving all its tenants with the test policy
// (testdata/policy.yaml), rate limits off (ratelimit_test.go opts in); tweaks adjust
// the gateway's configuration last.
func newEnv(t testing.TB, tweak ...func(*proxy.Config)) *env {
	t.Helper()
	return newEnvWith(t, proxytest.Options{Configure: tweaks(tweak)})
}

// newEnvWith starts a test gateway with explicit options on a new emulator and the test
// policy (opts.Emulator and opts.Policy are set here).
func newEnvWith(t testing.TB, opts proxytest.Options) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	pol, err := proxytest.PolicyFile("testdata/policy.yaml", emu.Directory())
	if err != nil {
		t.Fatal(err)
	}
	opts.Emulator, opts.Policy = emu, pol
	return envOf(t, proxytest.New(t, opts))
}

// gatewayOn starts another gateway (a new proxy.Server with a fresh cache) on base's
// emulator, as a second instance or a restarted one. now (nil = time.Now) is the token
// verifier's clock.
func gatewayOn(t testing.TB, base *env, now func() time.Time, tweak ...func(*proxy.Config)) *env {
	t.Helper()
	return envOf(t, proxytest.New(t, proxytest.Options{Emulator: base.emu, Policy: base.pol, Now: now,
		Configure: tweaks(tweak)}))
}

// envOf wraps a running test gateway.
func envOf(t testing.TB, g *proxytest.Gateway) *env {
	return &env{t: t, emu: g.Emulator, dir: g.Directory, pol: g.Policy, srv: g.Server, url: g.URL,
		tokens: map[string]string{}}
}

// tweaks applies each of fs in order.
func tweaks(fs []func(*proxy.Config)) func(*proxy.Config) {
	return func(c *proxy.Config) {
		for _, f := range fs {
			f(c)
		}
	}
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

// twin adds to a tenant an enabled user with the same object id as u (ids are GUIDs,
// unique per tenant only) and returns it: tests of tenant isolation use it to show that
// what the gateway keys by user (cache entries, revocations, rate buckets) is keyed by
// tenant too. The twin's sessions are valid from an hour ago.
func (e *env) twin(tenant int, u emulator.UserInfo) emulator.UserInfo {
	e.t.Helper()
	tw, err := e.emu.AddUser(e.tenant(tenant).ID, emulator.User{ID: u.ID, AccountEnabled: true,
		UserPrincipalName: "twin-" + u.ID[:8] + "@" + e.tenant(tenant).Domain, DisplayName: "Twin Of " + u.ID[:8],
		CreatedDateTime: time.Now().Add(-time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	return emulator.UserInfo{ID: tw.ID, UserPrincipalName: tw.UserPrincipalName, AccountEnabled: true}
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
	req, err := http.NewRequest(method, e.url+path, rd)
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
