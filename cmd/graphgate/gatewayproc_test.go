package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// gatewayProcess is one `graphgate serve` process of the built binary in front of an
// emulator: tests send it real signals and talk to it over real TCP connections.
type gatewayProcess struct {
	t              *testing.T
	emu            *emulator.Emulator
	cmd            *exec.Cmd
	stdout, stderr *testkit.SyncBuffer
	base           string // "http://127.0.0.1:port"
	addr           string // "127.0.0.1:port"
	exited         chan error
	signalled      time.Time
}

// noRateLimits is configuration switching the per-user and per-app rate limits off, for
// clients that send as fast as they can.
const noRateLimits = "rate_limit: {per_user_rps: -1, per_client_rps: -1}\n"

// startGatewayProcess starts bin as `graphgate serve` on emu with a policy letting the
// chat-web app read profiles and presence; extra is YAML appended to the configuration
// (e.g. "upstream: {timeout: 3s}\n"). It returns once /readyz answers 200.
func startGatewayProcess(t *testing.T, bin string, emu *emulator.Emulator, extra string) *gatewayProcess {
	t.Helper()
	dir := t.TempDir()
	ten := emu.Directory().Tenants[0]
	write(t, dir, "ca.pem", string(emu.CACertPEM()))
	write(t, dir, "policy.yaml", fmt.Sprintf(`clients:
  - app_id: %s
    name: chat-web
    purpose: Chat.
    operations: [me.read, users.read, presence.read]
    fields: {self: [displayName], others: [displayName]}
`, chatClient(t, ten)))
	cfg := write(t, dir, "graphgate.yaml", fmt.Sprintf(`listen: 127.0.0.1:0
app_id: %s
authority: %s
graph_url: %s/v1.0
ca_file: ca.pem
policy_file: policy.yaml
data_dir: %s
tenants:
  - {id: %s, name: contoso, client_secret: "${CONTOSO_SECRET}"}
`, ten.GatewayAppID, emu.URL(), emu.URL(), filepath.Join(dir, "data"), ten.ID)+extra)
	p := startServe(t, bin, cfg, emu, "CONTOSO_SECRET="+ten.GatewayClientSecret, "TMPDIR="+dir)
	waitReady(t, p.base)
	return p
}

// startServe runs bin as `graphgate serve --config cfg` with the environment env and
// returns once it listens (not once it is ready). emu is the emulator it reads, for
// token; the process is killed when the test ends.
func startServe(t *testing.T, bin, cfg string, emu *emulator.Emulator, env ...string) *gatewayProcess {
	t.Helper()
	p := &gatewayProcess{t: t, emu: emu, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve", "--config", cfg)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	p.waitListening()
	return p
}

// waitListening reads the gateway's address from its stdout.
func (p *gatewayProcess) waitListening() {
	deadline := time.Now().Add(60 * time.Second)
	for p.base == "" {
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "graphgate listening on "); ok {
				p.base = strings.TrimSpace(s)
				p.addr = strings.TrimPrefix(p.base, "http://")
			}
		}
		select {
		case err := <-p.exited:
			p.t.Fatalf("graphgate exited before listening: %v\nstderr: %s", err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("graphgate did not start: %s", p.stderr.String())
		}
	}
}

// signal sends sig to the process and notes when.
func (p *gatewayProcess) signal(sig syscall.Signal) {
	p.t.Helper()
	p.signalled = time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits up to limit for the process to exit and returns its exit code and how long
// after the signal it exited; it fails the test if the process does not exit.
func (p *gatewayProcess) wait(limit time.Duration) (code int, after time.Duration) {
	p.t.Helper()
	select {
	case err := <-p.exited:
		after = time.Since(p.signalled)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), after
		}
		if err != nil {
			p.t.Fatalf("waiting for graphgate: %v", err)
		}
		return 0, after
	case <-time.After(limit):
		p.t.Fatalf("graphgate did not exit within %s of the signal; stderr:\n%s", limit, p.stderr.String())
		return -1, 0
	}
}

// stop sends SIGTERM, as an orchestrator does, and requires a clean exit within 40 s.
func (p *gatewayProcess) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code, _ := p.wait(40 * time.Second); code != 0 {
		p.t.Fatalf("graphgate exited with %d after SIGTERM; stderr:\n%s", code, p.stderr.String())
	}
}

// kill9 ends the process with SIGKILL: nothing runs after it.
func (p *gatewayProcess) kill9() {
	p.t.Helper()
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
}

// token mints an access token of the chat-web app for the tenant's i-th user.
func (p *gatewayProcess) token(i int) string {
	p.t.Helper()
	ten := p.emu.Directory().Tenants[0]
	tok, err := p.emu.MintToken(emulator.TokenRequest{TenantID: ten.ID, ClientID: chatClient(p.t, ten), UserID: ten.Users[i].ID})
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

// chatClient returns the id of the tenant's chat-web client app.
func chatClient(t *testing.T, ten emulator.TenantInfo) string {
	for _, c := range ten.Clients {
		if c.Name == "chat-web" {
			return c.ID
		}
	}
	t.Fatal("the emulator has no chat-web client app")
	return ""
}

// enabledUserIndexes returns the indexes of the tenant's enabled users.
func enabledUserIndexes(ten emulator.TenantInfo) []int {
	var out []int
	for i, u := range ten.Users {
		if u.AccountEnabled {
			out = append(out, i)
		}
	}
	return out
}

// rawConn is one client connection speaking HTTP/1.1 by hand: nothing is retried, and
// every request written is accounted for.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// get writes one GET request with a bearer token (keep-alive, HTTP/1.1's default).
func (c *rawConn) get(path, token string) error {
	_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: graphgate\r\nAuthorization: Bearer %s\r\n\r\n", path, token)
	return err
}

// readResponse reads one whole response (status, headers and body).
func (c *rawConn) readResponse() (*http.Response, []byte, error) {
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp, []byte(b.String()), err
}
