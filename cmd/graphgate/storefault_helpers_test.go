package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// pgForwarder is a TCP forwarder in front of the shared PostgreSQL: the tests cut and
// restore the gateway's way to its store without touching the server others use.
type pgForwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]bool
}

// newPGForwarder listens on a free loopback port and forwards to target while up.
func newPGForwarder(t *testing.T, target string, up bool) *pgForwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &pgForwarder{ln: ln, target: target, up: up, conns: map[net.Conn]bool{}}
	go f.accept()
	t.Cleanup(func() { _ = ln.Close(); f.setUp(false) })
	return f
}

func (f *pgForwarder) addr() string { return f.ln.Addr().String() }

// setUp restores (true) or cuts (false) the way to PostgreSQL. Cutting closes every
// open connection; while cut, new connections are accepted and closed at once.
func (f *pgForwarder) setUp(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = up
	if !up {
		for c := range f.conns {
			_ = c.Close()
		}
		clear(f.conns)
	}
}

func (f *pgForwarder) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.serve(c)
	}
}

func (f *pgForwarder) serve(c net.Conn) {
	f.mu.Lock()
	up := f.up
	f.mu.Unlock()
	if !up {
		_ = c.Close()
		return
	}
	s, err := net.DialTimeout("tcp", f.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	f.mu.Lock()
	if !f.up { // cut while dialling
		f.mu.Unlock()
		_ = c.Close()
		_ = s.Close()
		return
	}
	f.conns[c], f.conns[s] = true, true
	f.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
	_, _ = io.Copy(c, s)
	_ = c.Close()
}

// storeFaultEnv is one scenario's world: the emulator, a PostgreSQL schema of its own
// reached through a forwarder, a data dir, and the config of graphgate serve.
type storeFaultEnv struct {
	t       *testing.T
	emu     *emulator.Emulator
	bin     string
	fwd     *pgForwarder
	pgURL   string // direct, to read what was stored
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
	e.fwd = newPGForwarder(t, u.Host, up)
	u.Host = e.fwd.addr()
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

// gatewayProc is one running graphgate serve process of the built binary.
type gatewayProc struct {
	cmd    *exec.Cmd
	stdout *testkit.SyncBuffer
	stderr *testkit.SyncBuffer
	base   string
	exited chan error
}

// start runs graphgate serve and waits until it listens (not until it is ready: the
// scenarios look at /readyz themselves).
func (e *storeFaultEnv) start() *gatewayProc {
	e.t.Helper()
	p := &gatewayProc{cmd: exec.Command(e.bin, "serve", "--config", e.config), stdout: &testkit.SyncBuffer{},
		stderr: &testkit.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SECRET=" + e.secret, "TMPDIR=" + e.t.TempDir()}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	e.t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for p.base == "" {
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "graphgate listening on "); ok {
				p.base = strings.TrimSpace(s)
			}
		}
		select {
		case err := <-p.exited:
			e.t.Fatalf("graphgate exited before listening: %v\nstderr: %s", err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("graphgate did not start: %s", p.stderr.String())
		}
	}
	return p
}

// stop sends SIGTERM, as an orchestrator does, and waits for a clean exit.
func (p *gatewayProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("graphgate: %v\nstderr: %s", err, p.stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("graphgate did not stop: %s", p.stderr.String())
	}
}

// kill9 ends the process with SIGKILL: nothing runs after it.
func (p *gatewayProc) kill9(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// sendMe sends n GET /v1.0/me and returns when each was answered (any status counts:
// every answered request is counted by usage).
func (e *storeFaultEnv) sendMe(p *gatewayProc, n int) int {
	e.t.Helper()
	for range n {
		e.getMe(p)
	}
	return n
}

func (e *storeFaultEnv) getMe(p *gatewayProc) {
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
