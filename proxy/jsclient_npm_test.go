package proxy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// jsClientDir is where testdata/jsclient lives: package.json, package-lock.json (which pins
// @microsoft/microsoft-graph-client) and client.mjs.
const jsClientDir = "testdata/jsclient"

// nodeRequired reports whether a missing Node.js or npm registry must fail the test
// instead of skipping it (.ci/run sets it when the registry answers).
func nodeRequired() bool { return os.Getenv("GRAPHGATE_REQUIRE_NODE") == "1" }

// skipOrFail skips with reason, or fails when GRAPHGATE_REQUIRE_NODE=1.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if nodeRequired() {
		t.Fatalf("%s (GRAPHGATE_REQUIRE_NODE=1)", reason)
	}
	t.Skip(reason)
}

var (
	npmOnce sync.Once
	npmDir  string
	npmErr  string // why the client could not be installed, "" when it was
	npmHard bool   // npm reached its registry but the install failed: always a failure
)

// installJSClient copies testdata/jsclient into a directory under the system temp
// directory keyed by the lockfile's hash and runs `npm ci` there once; later runs (and
// later tests of this run) reuse it. client.mjs is copied afresh every time.
func installJSClient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed: the JavaScript Graph client test needs Node.js 20+ and npm")
		}
	}
	npmOnce.Do(func() { npmDir, npmErr, npmHard = npmCI(jsClientDir, "graphgate-jsclient-") })
	if npmHard {
		t.Fatal(npmErr)
	}
	if npmErr != "" {
		skipOrFail(t, npmErr)
	}
	src, err := os.ReadFile(filepath.Join(jsClientDir, "client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(npmDir, "client.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return npmDir
}

// npmCI installs the packages locked in src into a directory under the system temp
// directory named prefix + the hash of package.json and the lockfile, and returns that
// directory, or a reason why not and whether that reason is a real failure (the registry
// answered) rather than being offline.
func npmCI(src, prefix string) (dir, reason string, hard bool) {
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", "reading the lockfile: " + err.Error(), true
	}
	pkg, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		return "", "reading package.json: " + err.Error(), true
	}
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	dir = filepath.Join(os.TempDir(), prefix+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".graphgate-installed")); err == nil {
		return dir, "", false
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err.Error(), true
	}
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err.Error(), true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--fetch-retries=1")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		ping := exec.CommandContext(ctx, "npm", "ping", "--fetch-retries=0", "--fetch-timeout=20000")
		if perr := ping.Run(); perr != nil {
			return "", "npm cannot reach its registry (npm ping: " + perr.Error() + "); npm ci: " + tail(out), false
		}
		// The registry answers, so this is a real install problem: always fail.
		return "", "npm ci: " + err.Error() + ": " + tail(out), true
	}
	if err := os.WriteFile(filepath.Join(dir, "node_modules", ".graphgate-installed"), nil, 0o644); err != nil {
		return "", err.Error(), true
	}
	return dir, "", false
}

// tail returns npm's own error lines (or the end of its output) for a skip or failure message.
func tail(b []byte) string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "npm error") && len(lines) < 4 {
			lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, "npm error")))
		}
	}
	s := strings.Join(lines, "; ")
	if s == "" {
		s = strings.TrimSpace(string(b))
	}
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
