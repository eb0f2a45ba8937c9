// Package usagetest holds test helpers shared by the usage package's tests and the
// end-to-end tests of cmd/graphgate.
package usagetest

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// spoolKeys are the only JSON keys a usage spool may hold: aggregates, never who.
var spoolKeys = []string{"version", "batches", "daily_users", "id", "cells", "hour", "day", "tenant", "client_app",
	"operation", "status_class", "cache", "requests", "latency", "users"}

// AssertSpool checks that the usage spool at path is private to its owner (mode 0600),
// holds only aggregate fields and none of the strings in personal (user ids, UPNs,
// tokens, secrets), and returns its bytes and the requests it counts per operation
// (route template). It fails the test when the spool is missing or unreadable.
func AssertSpool(t testing.TB, path string, personal ...string) (raw []byte, requests map[string]int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no spool: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("spool mode %v, want 0600", fi.Mode().Perm())
	}
	if raw, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	for _, p := range personal {
		if p != "" && strings.Contains(string(raw), p) {
			t.Errorf("the spool holds personal data or a secret (%d bytes of it)", len(p))
		}
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("damaged spool: %v", err)
	}
	walkKeys(doc, func(k string) {
		if !slices.Contains(spoolKeys, k) {
			t.Errorf("the spool has a field %q beyond the aggregates", k)
		}
	})
	var sp struct {
		Batches []struct {
			Cells []struct {
				Operation string `json:"operation"`
				Requests  int64  `json:"requests"`
			} `json:"cells"`
		} `json:"batches"`
	}
	_ = json.Unmarshal(raw, &sp)
	requests = map[string]int64{}
	for _, b := range sp.Batches {
		for _, c := range b.Cells {
			requests[c.Operation] += c.Requests
		}
	}
	return raw, requests
}

// walkKeys calls f with every object key in v, recursively.
func walkKeys(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			f(k)
			walkKeys(y, f)
		}
	case []any:
		for _, y := range x {
			walkKeys(y, f)
		}
	}
}
