package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// started is a command running in the background.
type started struct {
	lines  *bufio.Reader
	stderr *testkit.SyncBuffer
	done   chan error
	cancel context.CancelFunc
}

// start runs graphgate with args until the test ends; stdout is readable line by line.
func start(t *testing.T, env map[string]string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &started{lines: bufio.NewReader(pr), stderr: &testkit.SyncBuffer{}, done: make(chan error, 1), cancel: cancel}
	go func() {
		err := run(ctx, append([]string{"graphgate"}, args...), func(k string) string { return env[k] }, pw, s.stderr)
		pw.CloseWithError(fmt.Errorf("exited: %v", err))
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("graphgate %s: %v", args[0], err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("graphgate %s did not shut down", args[0])
		}
	})
	return s
}

func (s *started) line(t *testing.T) string {
	t.Helper()
	l, err := s.lines.ReadString('\n')
	if err != nil {
		t.Fatalf("reading stdout: %v (stderr: %s)", err, s.stderr.String())
	}
	return strings.TrimSpace(l)
}

// insecure trusts any certificate, as `curl -k` does for the emulator.
var insecure = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second}

func getJSON(t *testing.T, c *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// passwordToken gets an access token for a demo user with the password grant, as the
// demo's printed curl does.
func passwordToken(t *testing.T, intro demoIntro, username, password string) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {intro.ClientID}, "scope": {intro.Scope},
		"username": {username}, "password": {password}}
	resp, err := insecure.PostForm(intro.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if tok.AccessToken == "" {
		t.Fatalf("no token from the password grant: %d", resp.StatusCode)
	}
	return tok.AccessToken
}

// getAuthorized GETs a URL with a bearer token and decodes the JSON answer.
func getAuthorized(t *testing.T, u, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return getJSON(t, http.DefaultClient, req)
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/readyz never became ready", base)
}

// TestDemoEndToEnd runs `graphgate demo` as a user would: reads its first line, gets a
// token with the password grant, and calls the gateway.
func TestDemoEndToEnd(t *testing.T) {
	s := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "debug")
	var intro demoIntro
	if err := json.Unmarshal([]byte(s.line(t)), &intro); err != nil {
		t.Fatalf("first stdout line is not JSON: %v", err)
	}
	if intro.GatewayURL == "" || intro.EmulatorURL == "" || intro.TokenURL == "" {
		t.Fatalf("intro lacks URLs: %+v", intro)
	}
	if !strings.Contains(s.line(t), "graphgate demo is running") {
		t.Error("second line does not say the demo is running")
	}
	waitReady(t, intro.GatewayURL)

	token := passwordToken(t, intro, intro.Username, intro.Password)
	status, me := getAuthorized(t, intro.GatewayURL+"/v1.0/me", token)
	if status != http.StatusOK || me["userPrincipalName"] != intro.Username {
		t.Fatalf("/me: %d %v", status, me)
	}
	if strings.Contains(s.stderr.String(), intro.Username) || strings.Contains(s.stderr.String(), token) {
		t.Error("the logs hold the user's UPN or token")
	}
}

// TestServeFromConfig runs `graphgate serve` against a standalone emulator, with the
// secret taken from the environment.
func TestServeFromConfig(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	dir := t.TempDir()
	ten := emu.Directory().Tenants[0]
	write(t, dir, "ca.pem", string(emu.CACertPEM()))
	var chat string
	for _, c := range ten.Clients {
		if c.Name == "chat-web" {
			chat = c.ID
		}
	}
	write(t, dir, "policy.yaml", fmt.Sprintf(`clients:
  - app_id: %s
    name: chat-web
    purpose: Chat.
    operations: [me.read]
    fields: {self: [displayName], others: [displayName]}
`, chat))
	write(t, dir, "graphgate.yaml", fmt.Sprintf(`app_id: %s
authority: %s
graph_url: %s/v1.0
ca_file: ca.pem
policy_file: policy.yaml
data_dir: %s
tenants:
  - id: %s
    name: contoso
    client_secret: ${CONTOSO_SECRET}
cache: {ttl: 30s}
`, ten.GatewayAppID, emu.URL(), emu.URL(), filepath.Join(dir, "data"), ten.ID))
	s := start(t, map[string]string{"CONTOSO_SECRET": ten.GatewayClientSecret}, "serve", "--config", filepath.Join(dir, "graphgate.yaml"), "--addr", "127.0.0.1:0")
	base := strings.TrimPrefix(s.line(t), "graphgate listening on ")
	waitReady(t, base)
	user := ten.Users[1]
	tok, err := emu.MintToken(emulator.TokenRequest{TenantID: ten.ID, ClientID: chat, UserID: user.ID})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	status, me := getJSON(t, http.DefaultClient, req)
	if status != http.StatusOK || me["id"] != user.ID || me["mail"] != nil {
		t.Fatalf("/me: %d %v", status, me)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	base := "app_id: 11111111-2222-3333-4444-555555555555\npolicy_file: p.yaml\ntenants:\n  - {id: 11111111-2222-3333-4444-555555555555, client_secret: x}\n"
	cases := []struct{ name, text, want string }{
		{"ttl too long", base + "cache: {ttl: 11m}\n", "exceeds the maximum"},
		{"unknown key", base + "cach: {}\n", "field cach not found"},
		{"missing env", strings.Replace(base, "client_secret: x", "client_secret: ${NOPE}", 1), "NOPE"},
		{"bad app id", strings.Replace(base, "app_id: 11111111", "app_id: zz", 1), "app_id"},
		{"no credential", strings.Replace(base, ", client_secret: x", "", 1), "client_secret"},
		{"http authority", base + "authority: http://x\n", "https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, dir, "c.yaml", tc.text)
			_, err := loadConfig(p, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	p := write(t, dir, "ok.yaml", base)
	if _, err := loadConfig(p, func(string) string { return "" }); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}

func TestPolicyCheckCommand(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.yaml", "clients:\n  - app_id: 11111111-2222-3333-4444-555555555555\n    name: a\n    purpose: b\n    operations: [me.read]\n    fields: {self: [displayName], others: []}\n")
	bad := write(t, dir, "bad.yaml", "clients:\n  - app_id: 11111111-2222-3333-4444-555555555555\n    name: a\n    purpose: b\n    operations: [me.read, fly]\n    fields: {self: [salary], others: []}\n")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"graphgate", "policy", "check", good}, os.Getenv, &out, &errOut); err != nil {
		t.Fatalf("good policy: %v", err)
	}
	out.Reset()
	err := run(context.Background(), []string{"graphgate", "policy", "check", bad}, os.Getenv, &out, &errOut)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("bad policy: err %v", err)
	}
	for _, want := range []string{"bad.yaml:5:", "fly", "bad.yaml:6:", "salary"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"graphgate", "fly"}, os.Getenv, &out, &errOut); exitCode(err) != 2 {
		t.Fatalf("exit code %d", exitCode(err))
	}
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
