package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
)

func TestValidateSessions(t *testing.T) {
	key := strings.Repeat("k", 32)
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{"defaults", Config{}, ""},
		{"redis with key", Config{Redis: RedisConfig{URL: "redis://127.0.0.1:6379/0"}, Revocation: RevocationConfig{Key: key}}, ""},
		{"redis without key", Config{Redis: RedisConfig{URL: "redis://127.0.0.1:6379/0"}}, "revocation.key is required"},
		{"short key", Config{Revocation: RevocationConfig{Key: "short"}}, "at least 32"},
		{"unknown mode", Config{Revocation: RevocationConfig{OnUnavailable: "sometimes"}}, "on_unavailable"},
		{"fail open", Config{Revocation: RevocationConfig{OnUnavailable: "fail_open"}}, ""},
		{"negative lockout", Config{Revocation: RevocationConfig{Lockout: -1}}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.validateSessions()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOpenSessionsInMemoryWithAuditFile(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{dir: dir, Audit: AuditConfig{File: "audit.jsonl"}}
	s, err := openSessions(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, ok := s.revs.(*revoke.Memory); !ok || len(s.ready) != 0 {
		t.Fatalf("without redis: %T, ready checks %v", s.revs, s.ready)
	}
	if err := s.audit.Emit(audit.Event{Action: "cache.purge", TenantID: "t", ActorID: "a", Result: audit.ResultSuccess}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil || !strings.Contains(string(b), `"action":"cache.purge"`) {
		t.Errorf("audit file: %q %v", b, err)
	}
}
