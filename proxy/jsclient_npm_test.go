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

// npmPackages is one locked set of npm packages under testdata, installed at most once
// per test run (and reused across runs, see npmCI).
type npmPackages struct {
	src, prefix string // the testdata directory; the install directory's name prefix
	once        sync.Once
	dir         string // the install directory
	err         string // why the packages could not be installed, "" when they were
	hard        bool   // npm reached its registry but the install failed: always a failure
}

// jsClient is the official JavaScript Graph client, with client.mjs.
var jsClient = &npmPackages{src: jsClientDir, prefix: "graphgate-jsclient-"}

// install makes sure node and npm exist, runs npm ci once, copies files from the
// testdata directory into the install directory afresh and returns that directory. It
// skips (or fails, see skipOrFail) without Node.js, npm or the registry; what names the
// test for those messages.
func (n *npmPackages) install(t *testing.T, what string, files ...string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed: the "+what+" test needs Node.js 20+ and npm")
		}
	}
	n.once.Do(func() { n.dir, n.err, n.hard = npmCI(n.src, n.prefix) })
	if n.hard {
		t.Fatal(n.err)
	}
	if n.err != "" {
		skipOrFail(t, n.err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(n.src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(n.dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n.dir
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
