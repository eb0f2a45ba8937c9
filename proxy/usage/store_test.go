package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// openPostgres opens a store in a fresh schema of the test PostgreSQL, dropped at the end.
func openPostgres(t *testing.T) (open func() Store) {
	t.Helper()
	dsn := os.Getenv("GRAPHGATE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "usage_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			_ = conn.Close(context.Background())
		}
	})
	return func() Store {
		s, err := OpenPostgres(context.Background(), dsn, schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestStores(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) func() Store
	}{
		{"sqlite", func(t *testing.T) func() Store {
			path := filepath.Join(t.TempDir(), SQLiteFile)
			return func() Store {
				s, err := OpenSQLite(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
		}},
		{"postgres", openPostgres},
	} {
		t.Run(tc.name, func(t *testing.T) { testStore(t, tc.open(t)) })
	}
}

// testStore checks a Store: additive idempotent writes, maxima for estimates, reads by
// range, migrations on reopen, retention.
func testStore(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	seed(t, s)
	seed(t, s) // same batch id: applied once
	b := Batch{ID: "second", Cells: []Cell{{Hour: t0.Truncate(time.Hour), Tenant: "t1", ClientApp: "chat-web",
		Operation: "GET /v1.0/users/{id}", StatusClass: "2xx", Cache: "hit", Requests: 5, Latency: [NumBuckets]int64{0, 0, 5}}},
		Users: []DailyUsers{{dayOf(t0), "t1", "chat-web", 7}}} // a lower estimate never lowers the stored one
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	s2 := open() // reopening migrates nothing and keeps the data
	cells, err := s2.Cells(ctx, "t1", dayOf(t0), dayOf(t0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var total, lat int64
	for _, c := range cells {
		total += c.Requests
		lat += c.Latency[2]
	}
	if len(cells) != 3 || total != 39 || lat != 39 {
		t.Fatalf("cells %+v: want 3 cells, 39 requests", cells)
	}
	users, err := s2.DailyUsers(ctx, "t1", dayOf(t0), dayOf(t0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.ClientApp == "chat-web" && u.Users != 20 {
			t.Fatalf("chat-web users %d, want 20 (maximum kept)", u.Users)
		}
	}
	if other, _ := s2.Cells(ctx, "t2", dayOf(t0), dayOf(t0).AddDate(0, 0, 1)); len(other) != 0 {
		t.Fatalf("other tenant sees %d cells", len(other))
	}
	if ts, _ := s2.Tenants(ctx); len(ts) != 1 || ts[0] != "t1" {
		t.Fatalf("tenants %v", ts)
	}
	n, err := s2.DeleteBefore(ctx, dayOf(t0).AddDate(0, 0, 1))
	if err != nil || n < 6 {
		t.Fatalf("retention deleted %d rows (%v), want every cell and estimate", n, err)
	}
	if cells, _ := s2.Cells(ctx, "t1", time.Unix(0, 0), t0.AddDate(1, 0, 0)); len(cells) != 0 {
		t.Fatalf("cells left after retention: %d", len(cells))
	}
}

func TestRetentionCutoff(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Date(2025, 10, 24, 0, 0, 0, 0, time.UTC)},
		{"13mo", time.Date(2025, 10, 24, 0, 0, 0, 0, time.UTC)},
		{"90d", time.Date(2026, 8, 26, 0, 0, 0, 0, time.UTC)},
		{"1y", time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)},
	} {
		r, err := ParseRetention(tc.in)
		if err != nil || !r.Cutoff(now).Equal(tc.want) {
			t.Errorf("%q: cutoff %v (%v), want %v", tc.in, r.Cutoff(now), err, tc.want)
		}
	}
	for _, bad := range []string{"13", "-1d", "xmo", "13m"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestTwoInstancesPostgres runs two recorders, each with its own connection, writing
// concurrently into one PostgreSQL schema: the counts add up exactly.
func TestTwoInstancesPostgres(t *testing.T) {
	open := openPostgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 2 {
		r := newRecorder(t, open(), func(o *Options) { o.FlushInterval = 5 * time.Millisecond })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range 3000 {
				r.Record(event([]string{"chat-web", "mobile", "intranet-directory"}[u%3], u+i*1000, 200+100*(u%4)))
				if u%500 == 0 {
					time.Sleep(10 * time.Millisecond) // let flushes interleave with recording
				}
			}
			if err := r.Close(ctx); err != nil {
				t.Error(err)
			}
			if st := r.Stats(); st.Dropped != 0 || st.Recorded != 3000 {
				t.Errorf("instance %d: %+v", i, st)
			}
		}()
	}
	wg.Wait()
	s := open()
	cells, err := s.Cells(ctx, "t1", dayOf(t0), dayOf(t0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range cells {
		total += c.Requests
	}
	if total != 6000 {
		t.Fatalf("stored %d requests, want 6000", total)
	}
}
