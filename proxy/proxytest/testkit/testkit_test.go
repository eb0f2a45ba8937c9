package testkit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(start)
	c.Add(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now() = %v after Add(90s) from %v", got, start)
	}
	c.Add(-time.Hour)
	if got := c.Now(); !got.Equal(start.Add(90*time.Second - time.Hour)) {
		t.Fatalf("Now() = %v after moving back", got)
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); fmt.Fprintf(&b, "%02d;", i) }()
	}
	wg.Wait()
	if n := len(b.String()); n != 20*3 {
		t.Fatalf("%d bytes written, want 60", n)
	}
}

func TestExcludesDeactivated(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"accountEnabled eq true", true},
		{"accountEnabled eq true and (startswith(displayName,'A'))", true},
		{"accountEnabled eq true and (displayName eq 'a) or (accountEnabled eq false')", true},
		{"", false},
		{"startswith(displayName,'A')", false},
		{"accountEnabled eq true or (displayName eq 'A')", false},
		{"accountEnabled eq true and (displayName eq 'A') or (accountEnabled eq false)", false},
		{"accountEnabled eq true and displayName eq 'A'", false},
	} {
		if got := ExcludesDeactivated(tc.filter); got != tc.want {
			t.Errorf("ExcludesDeactivated(%q) = %t, want %t", tc.filter, got, tc.want)
		}
	}
}
