package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/audit"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestEmitWritesOneHashedLine(t *testing.T) {
	var buf bytes.Buffer
	l, err := audit.New(&buf, key)
	if err != nil {
		t.Fatal(err)
	}
	const tenant, actor, target = "11111111-1111-1111-1111-111111111111", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "Alice@Contoso.example"
	err = l.Emit(audit.Event{Time: time.Unix(0, 0), Action: "user.logout", TenantID: tenant, ActorID: actor,
		TargetID: target, Result: audit.ResultSuccess, Status: 200, RequestID: "rid",
		Details: map[string]any{"cache_purged": 2, "nested": map[string]any{"upn": target}}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one line: %q", out)
	}
	for _, raw := range []string{actor, strings.ToLower(target), target} {
		if strings.Contains(out, raw) {
			t.Errorf("record holds a raw id %q: %s", raw, out)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "audit", "action": "user.logout", "tenant": tenant, "result": "success",
		"request_id": "rid", "actor": l.Hash(tenant, actor), "target": l.Hash(tenant, "alice@contoso.example"),
		"time": "1970-01-01T00:00:00Z"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if d, _ := rec["details"].(map[string]any); d["cache_purged"] != float64(2) || d["nested"] != nil {
		t.Errorf("details %v", rec["details"])
	}
}

func TestOpenAppendsToAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for range 2 {
		l, err := audit.Open(path, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Emit(audit.Event{Action: "cache.purge", TenantID: "t", ActorID: "a", Result: audit.ResultSuccess}); err != nil {
			t.Fatal(err)
		}
		_ = l.Close()
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("%d lines, want 2", n)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if _, err := audit.New(&bytes.Buffer{}, []byte("short")); err == nil {
		t.Error("short key accepted")
	}
}
