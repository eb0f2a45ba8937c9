package usage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRecorderCountsAddUpAcrossOutageAndShutdown(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := newRecorder(t, s)
	for u := range 100 {
		r.Record(event("chat-web", u, 200))
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.total(); got != 100 {
		t.Fatalf("after first flush: %d requests stored, want 100", got)
	}
	s.setDown(true)
	for u := range 50 {
		r.Record(event("mobile", u, 404))
	}
	if err := r.Flush(ctx); !errors.Is(err, errDown) {
		t.Fatalf("flush during outage: %v, want the store's error", err)
	}
	for u := range 25 {
		r.Record(event("mobile", u, 200)) // new cells while the store is down
	}
	_ = r.Flush(ctx)
	if st := r.Stats(); st.StoreHealthy || st.PendingCells == 0 {
		t.Fatalf("stats during outage: %+v", st)
	}
	s.setDown(false)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.total(); got != 175 {
		t.Fatalf("after recovery: %d requests stored, want 175", got)
	}
	for u := range 7 {
		r.Record(event("intranet-directory", u, 500))
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.total(); got != 182 {
		t.Fatalf("after shutdown: %d requests stored, want 182", got)
	}
	if st := r.Stats(); st.Recorded != 182 || st.Dropped != 0 || st.PendingCells != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if got := s.usersOf(dayOf(t0), "t1", "mobile"); got != 50 {
		t.Errorf("distinct mobile users: %d, want 50", got)
	}
	if got := s.usersOf(dayOf(t0), "t1", AllClients); got != 100 {
		t.Errorf("distinct users of the tenant: %d, want 100", got)
	}
}

func TestRecorderRetriesAnAcknowledgedWriteOnlyOnce(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	s.lateAck = 1
	r := newRecorder(t, s)
	for u := range 10 {
		r.Record(event("chat-web", u, 200))
	}
	if err := r.Flush(ctx); err == nil {
		t.Fatal("want the late-acknowledged write to report an error")
	}
	for u := range 5 {
		r.Record(event("chat-web", u, 200))
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.total(); got != 15 {
		t.Fatalf("%d requests stored, want 15 (a retried batch must not be applied twice)", got)
	}
}

func TestRecorderCellBound(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	s.setDown(true)
	r := newRecorder(t, s, func(o *Options) { o.MaxCells = 2 })
	r.Record(event("a", 1, 200))
	r.Record(event("b", 1, 200))
	_ = r.Flush(ctx)             // both cells now pending
	r.Record(event("c", 1, 200)) // a third cell: over the bound
	r.Record(event("a", 2, 200)) // an existing cell, but it is pending, not current: also over
	_ = r.Flush(ctx)
	s.setDown(false)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Record(event("a", 3, 200)) // room again once the pending cells are written
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Dropped != 2 || st.Recorded != 3 || s.total() != 3 {
		t.Fatalf("stats %+v, stored %d: want 2 dropped, 3 recorded and stored", st, s.total())
	}
}

func TestRecorderIgnoresEventsWithoutTenantAndAfterClose(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := newRecorder(t, s)
	r.Record(Event{Time: t0, Operation: "GET /v1.0/me", Status: 401})
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r.Record(event("chat-web", 1, 200))
	if s.total() != 0 || r.Stats().Dropped != 1 {
		t.Fatalf("stored %d, stats %+v", s.total(), r.Stats())
	}
	if err := r.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("flush after close: %v", err)
	}
}

func TestMemoryDistinctClosesDays(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryDistinct()
	day := dayOf(t0)
	for u := range 12 {
		m.Observe(day, "t1", "chat-web", string(rune('a'+u)))
		m.Observe(day, "t1", "chat-web", string(rune('a'+u))) // repeat visits count once
	}
	est, _ := m.Estimates(ctx, t0)
	if len(est) != 1 || est[0].Users != 12 {
		t.Fatalf("estimates %+v, want one key with 12 users", est)
	}
	if est, _ := m.Estimates(ctx, t0); len(est) != 0 {
		t.Fatalf("unchanged keys reported again: %+v", est)
	}
	next := t0.Add(24 * time.Hour)
	m.Observe(day, "t1", "chat-web", "late")
	est, _ = m.Estimates(ctx, next)
	if len(est) != 1 || est[0].Users != 13 {
		t.Fatalf("final estimate %+v, want 13", est)
	}
	if len(m.keys) != 0 || len(m.sketches) != 0 {
		t.Fatalf("closed day kept %d keys and %d sketches", len(m.keys), len(m.sketches))
	}
	m.Observe(day, "t1", "chat-web", "later")
	if est, _ := m.Estimates(ctx, next); len(est) != 0 {
		t.Fatalf("observation for a closed day counted: %+v", est)
	}
}
