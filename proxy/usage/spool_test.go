package usage

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/usage/usagetest"
)

// openSQLiteAt opens (or reopens) a SQLite store at path for the test.
func openSQLiteAt(t *testing.T, path string) Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sqliteTotal sums the stored requests of tenant t1.
func sqliteTotal(t *testing.T, s Store) int64 {
	t.Helper()
	cells, err := s.Cells(context.Background(), "t1", dayOf(t0), dayOf(t0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range cells {
		n += c.Requests
	}
	return n
}

// TestSpoolAtShutdownIsWrittenOnceByTheNextStart stops a recorder while its store is down:
// Close spools everything, the spool holds aggregates only, and the next recorder writes
// it to the store and removes it. Restoring the spool as a crash between that write and
// the removal would leave it adds nothing: batch ids make the merge idempotent.
func TestSpoolAtShutdownIsWrittenOnceByTheNextStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	spool := filepath.Join(dir, SpoolFile)
	s := newMemStore()
	s.setDown(true)
	r := newRecorder(t, s, func(o *Options) { o.SpoolPath = spool })
	for u := range 120 {
		r.Record(event([]string{"chat-web", "mobile"}[u%2], u, 200+100*(u%3)))
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := r.Close(cctx); err != nil {
		t.Fatalf("close with the store down but spooled: %v", err)
	}
	raw := assertAggregatesOnly(t, spool, 120)

	// The next start, store up: everything written once, spool removed.
	s.setDown(false)
	r2 := newRecorder(t, s, func(o *Options) { o.SpoolPath = spool })
	poll(t, func() bool { return s.total() == 120 && fileGone(spool) })
	if got := s.usersOf(dayOf(t0), "t1", AllClients); got != 120 {
		t.Errorf("distinct users of the day after the restore: %d, want 120", got)
	}
	if err := r2.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A crash after the write and before the removal leaves the spool: a third start
	// finds it again, and the store skips its batches.
	if err := os.WriteFile(spool, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r3 := newRecorder(t, s, func(o *Options) { o.SpoolPath = spool })
	poll(t, func() bool { return fileGone(spool) })
	if err := r3.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("FAULT store_spool_replay: sent=120 stored=%d", s.total())
	if s.total() != 120 {
		t.Fatalf("stored %d after replaying an applied spool, want 120 (no double count)", s.total())
	}
}

// TestSpoolSQLiteNoDoubleCount replays the same crash window against the real SQLite
// store (the batch table does the deduplication), and a spool written during a run-time
// outage without any Close (as kill -9 would leave it).
func TestSpoolSQLiteNoDoubleCount(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	spool := filepath.Join(dir, SpoolFile)
	mem := newMemStore()
	mem.setDown(true)
	r := newRecorder(t, mem, func(o *Options) { o.SpoolPath = spool })
	for u := range 40 {
		r.Record(event("chat-web", u, 200))
	}
	if err := r.Flush(ctx); err == nil {
		t.Fatal("flush to a store that is down succeeded")
	}
	raw := assertAggregatesOnly(t, spool, 40) // the failed flush spooled: kill -9 now loses nothing

	db := openSQLiteAt(t, filepath.Join(dir, SQLiteFile))
	for range 2 { // the second start finds the same spool (crash before its removal)
		if err := os.WriteFile(spool, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		r := newRecorder(t, db, func(o *Options) { o.SpoolPath = spool })
		poll(t, func() bool { return fileGone(spool) })
		if err := r.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mem.setDown(false) // the first recorder's cleanup need not wait out the outage
	if got := sqliteTotal(t, db); got != 40 {
		t.Fatalf("SQLite holds %d requests after two replays of one spool, want 40", got)
	}
	users, err := db.DailyUsers(ctx, "t1", dayOf(t0), dayOf(t0).AddDate(0, 0, 1))
	if err != nil || len(users) != 2 {
		t.Fatalf("daily users %+v (%v), want chat-web and the tenant's", users, err)
	}
}

// TestSpoolFollowsOutages keeps the spool current while the store stays down (each failed
// flush rewrites it with everything unwritten) and removes it once the store is back.
func TestSpoolFollowsOutages(t *testing.T) {
	ctx := context.Background()
	spool := filepath.Join(t.TempDir(), "sub", SpoolFile) // the data dir may not exist yet
	s := newMemStore()
	r := newRecorder(t, s, func(o *Options) { o.SpoolPath = spool })
	r.Record(event("chat-web", 1, 200))
	if err := r.Flush(ctx); err != nil || !fileGone(spool) {
		t.Fatalf("healthy flush: %v, spool present: %v", err, !fileGone(spool))
	}
	s.setDown(true)
	for round := 1; round <= 3; round++ {
		for u := range 10 {
			r.Record(event("mobile", u, 404))
		}
		_ = r.Flush(ctx)
		assertAggregatesOnly(t, spool, int64(10*round))
		if st := r.Stats(); st.SpooledCells == 0 || st.StoreHealthy {
			t.Fatalf("stats during outage: %+v", st)
		}
	}
	s.setDown(false)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !fileGone(spool) || s.total() != 31 {
		t.Fatalf("after recovery: spool gone %v, stored %d, want 31", fileGone(spool), s.total())
	}
}

// TestSpoolUnreadableIsSetAside starts with a damaged spool: the recorder starts, and the
// file is kept aside for an operator, not deleted.
func TestSpoolUnreadableIsSetAside(t *testing.T) {
	spool := filepath.Join(t.TempDir(), SpoolFile)
	if err := os.WriteFile(spool, []byte(`{"version":1,"batches":[{"id":"x"`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, newMemStore(), func(o *Options) { o.SpoolPath = spool })
	if r.Stats().PendingCells != 0 || !fileGone(spool) {
		t.Fatalf("damaged spool: %+v", r.Stats())
	}
	if _, err := os.Stat(spool + ".unreadable"); err != nil {
		t.Fatal(err)
	}
}

// assertAggregatesOnly checks that the spool is 0600, has only aggregate fields, holds
// none of the events' user keys, counts want requests and that each cell's latency
// buckets add up to its requests; it returns its bytes.
func assertAggregatesOnly(t *testing.T, path string, want int64) []byte {
	t.Helper()
	raw, _ := usagetest.AssertSpool(t, path, "oid-")
	var sd spoolDoc
	if err := json.Unmarshal(raw, &sd); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range sd.Batches {
		for _, c := range b.Cells {
			n += c.Requests
			var sum int64
			for _, l := range c.Latency {
				sum += l
			}
			if sum != c.Requests {
				t.Errorf("cell %+v: latency buckets sum to %d", c, sum)
			}
		}
	}
	if n != want {
		t.Fatalf("spool holds %d requests, want %d", n, want)
	}
	return raw
}

func fileGone(path string) bool {
	_, err := os.Stat(path)
	return os.IsNotExist(err)
}

// poll waits up to 5 s for cond.
func poll(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
	}
}
