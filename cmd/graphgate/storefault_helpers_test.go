package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// storeFaultEnv is one scenario's world: the emulator, a PostgreSQL schema of its own
// reached through a forwarder, a data dir, and the config of graphgate serve.
type storeFaultEnv struct {
	t       *testing.T
	emu     *emulator.Emulator
	bin     string
	fwd     *testkit.TCPProxy // in front of PostgreSQL: Cut and Restore make the outage
	pgURL   string            // direct, to read what was stored
	schema  string
	dataDir string
	config  string
	secret  string
	user    string // a user's token for GET /v1.0/me
	analyst string // the same user with Gateway.Analyst
}

// newStoreFaultEnv prepares a scenario; the store is reachable iff up.
func newStoreFaultEnv(t *testing.T, emu *emulator.Emulator, bin string, up bool) *storeFaultEnv {
	base := os.Getenv("GRAPHGATE_TEST_POSTGRES")
	e := &storeFaultEnv{t: t, emu: emu, bin: bin, dataDir: filepath.Join(t.TempDir(), "data")}
	e.schema, e.pgURL = newSchema(t, base)
	u, err := url.Parse(e.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	e.fwd = testkit.NewTCPProxy(t, u.Host)
	if !up {
		e.fwd.Cut()
	}
	u.Host = e.fwd.Addr()
	ten := emu.Directory().Tenants[0]
	var chat string
	for _, c := range ten.Clients {
		if c.Name == "chat-web" {
			chat = c.ID
		}
	}
	work := t.TempDir()
	write(t, work, "ca.pem", string(emu.CACertPEM()))
	write(t, work, "policy.yaml", fmt.Sprintf("clients:\n  - app_id: %s\n    name: chat-web\n    purpose: Chat.\n"+
		"    operations: [me.read]\n    fields: {self: [displayName], others: [displayName]}\n", chat))
	e.config = write(t, work, "graphgate.yaml", fmt.Sprintf(`listen: 127.0.0.1:0
app_id: %s
authority: %s
graph_url: %s/v1.0
ca_file: %s
policy_file: %s
data_dir: %s
tenants:
  - {id: %s, name: contoso, client_secret: "${SECRET}"}
cache: {ttl: 30s}
rate_limit: {per_user_rps: -1, per_client_rps: -1}
usage: {store: postgres, postgres_url: %q, flush_interval: %s}
`, ten.GatewayAppID, emu.URL(), emu.URL(), filepath.Join(work, "ca.pem"), filepath.Join(work, "policy.yaml"),
		e.dataDir, ten.ID, u.String(), storeFaultFlush))
	e.secret = ten.GatewayClientSecret
	e.user = mint(t, emu, emulator.TokenRequest{TenantID: ten.ID, ClientID: chat, UserID: ten.Users[1].ID})
	e.analyst = mint(t, emu, emulator.TokenRequest{TenantID: ten.ID, ClientID: chat, UserID: ten.Users[1].ID,
		Roles: []string{"Gateway.Analyst"}})
	return e
}

// storeFaultFlush is the scenarios' usage.flush_interval: the kill -9 loss bound.
const storeFaultFlush = 300 * time.Millisecond

func mint(t *testing.T, emu *emulator.Emulator, r emulator.TokenRequest) string {
	t.Helper()
	tok, err := emu.MintToken(r)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// start runs graphgate serve and waits until it listens (not until it is ready: the
// scenarios look at /readyz themselves).
func (e *storeFaultEnv) start() *gatewayProcess {
	e.t.Helper()
	return startServe(e.t, e.bin, e.config, e.emu, "PATH="+os.Getenv("PATH"), "SECRET="+e.secret, "TMPDIR="+e.t.TempDir())
}

// sendMe sends n GET /v1.0/me and returns when each was answered (any status counts:
// every answered request is counted by usage).
func (e *storeFaultEnv) sendMe(p *gatewayProcess, n int) int {
	e.t.Helper()
	for range n {
		e.getMe(p)
	}
	return n
}

func (e *storeFaultEnv) getMe(p *gatewayProcess) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.base+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /v1.0/me: %d", resp.StatusCode)
	}
}

// stored is the number of GET /v1.0/me requests in the scenario's PostgreSQL schema
// (0 while the gateway has not created its tables).
func (e *storeFaultEnv) stored() int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pgURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT COALESCE(SUM(requests), 0) FROM usage_requests WHERE operation = 'GET /v1.0/me'`).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		e.t.Fatal(err)
	}
	return n
}

// waitStored polls until want requests are stored; it returns what is stored at the
// deadline otherwise.
func (e *storeFaultEnv) waitStored(want int64, within time.Duration) int64 {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := e.stored()
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// poll calls f until it returns nil or the deadline passes, then fails with its error.
func poll(t *testing.T, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
