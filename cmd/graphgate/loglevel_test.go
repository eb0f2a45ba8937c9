package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// TestEveryCommandAcceptsLogLevel runs every command with --log-level debug (it must be
// accepted) and with a bad level (it must be refused). serve and demo
// with debug logging are run end to end by TestPrivacyProof and TestDemoEndToEnd.
func TestEveryCommandAcceptsLogLevel(t *testing.T) {
	dir := t.TempDir()
	policyFile := write(t, dir, "policy.yaml", `clients:
  - app_id: 7890a4b0-6a93-49c3-b218-cc5facb7cdb6
    name: chat-web
    purpose: Chat.
    operations: [me.read]
    fields: {self: [displayName], others: [displayName]}
`)
	tests := []struct {
		name string
		args []string
		long bool // runs until cancelled
	}{
		{"policy check", []string{"policy", "check", "--log-level", "LEVEL", policyFile}, false},
		{"emulator", []string{"emulator", "--addr", "127.0.0.1:0", "--log-level", "LEVEL"}, true},
		{"demo", []string{"demo", "--addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "demo"), "--log-level", "LEVEL"}, true},
		{"usage export", []string{"usage", "export", "--log-level", "LEVEL", "--data-dir", filepath.Join(dir, "demo"), "--format", "json"}, false}, // reads the store demo created
	}
	for _, tc := range tests {
		t.Run(tc.name+" debug", func(t *testing.T) {
			if err := runFor(t, withLevel(tc.args, "debug"), tc.long); err != nil {
				t.Fatalf("--log-level debug refused: %v", err)
			}
		})
		t.Run(tc.name+" bad level", func(t *testing.T) {
			if err := runFor(t, withLevel(tc.args, "chatty"), tc.long); err == nil || !strings.Contains(err.Error(), "log level") {
				t.Fatalf("--log-level chatty: %v", err)
			}
		})
	}
}

func withLevel(args []string, level string) []string {
	out := append([]string{"graphgate"}, args...)
	for i, a := range out {
		if a == "LEVEL" {
			out[i] = level
		}
	}
	return out
}

// runFor runs graphgate; a long-running command is stopped once it printed its first
// line (it started), or when it returns with an error.
func runFor(t *testing.T, args []string, long bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, &stdout, &stderr) }()
	if !long {
		return <-done
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case <-deadline:
			t.Fatalf("%v did not start: %s", args[1:], stderr.String())
		case <-time.After(20 * time.Millisecond):
			if strings.Contains(stdout.String(), "\n") {
				cancel()
				return <-done
			}
		}
	}
}
