package usage

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestReconnectingStoreConnectsInTheBackground opens a store that fails its first
// attempts: the opener returns at once, the recorder counts meanwhile (writes and reads
// fail fast with ErrUnavailable), and everything is written once the store connects.
func TestReconnectingStoreConnectsInTheBackground(t *testing.T) {
	ctx := context.Background()
	mem := newMemStore()
	var attempts atomic.Int32
	open := func(context.Context) (Store, error) {
		if attempts.Add(1) <= 3 {
			return nil, errors.New("dial tcp 127.0.0.1:5432: connection refused")
		}
		return mem, nil
	}
	rs, err := OpenReconnecting(ctx, open, ReconnectOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	if err := rs.Status(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("status before connecting: %v", err)
	}
	if _, err := rs.Cells(ctx, "t1", t0, t0.Add(time.Hour)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("read before connecting: %v, want ErrUnavailable at once", err)
	}
	r := newRecorder(t, rs)
	for u := range 30 {
		r.Record(event("chat-web", u, 200))
	}
	_ = r.Flush(ctx) // may fail: still connecting
	poll(t, func() bool { return rs.Status() == nil })
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if mem.total() != 30 || attempts.Load() != 4 {
		t.Fatalf("stored %d after %d attempts, want 30 after 4", mem.total(), attempts.Load())
	}
}

// TestReconnectingStoreRefusesANewerSchema: a schema newer than the build is a
// configuration error at start, not an outage to wait out.
func TestReconnectingStoreRefusesANewerSchema(t *testing.T) {
	open := func(context.Context) (Store, error) {
		return nil, fmt.Errorf("usage: migrate: %w", ErrSchemaNewer)
	}
	if _, err := OpenReconnecting(context.Background(), open, ReconnectOptions{}); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("err = %v, want ErrSchemaNewer", err)
	}
}

// TestReconnectingStoreCloseStopsConnecting closes a store that never connects: Close
// returns promptly and the background loop ends.
func TestReconnectingStoreCloseStopsConnecting(t *testing.T) {
	open := func(ctx context.Context) (Store, error) { <-ctx.Done(); return nil, ctx.Err() }
	rs, err := OpenReconnecting(context.Background(), open, ReconnectOptions{FirstTimeout: 10 * time.Millisecond,
		MinBackoff: time.Millisecond, AttemptTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rs.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the connection attempt")
	}
}
