package usage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Zones of the non-UTC-looking timestamps below: the recorder must place each event in
// its UTC hour and day, whatever the local date of the timestamp says.
var (
	kolkata = time.FixedZone("UTC+05:30", 5*3600+1800)
	seattle = time.FixedZone("UTC-08:00", -8*3600)
)

// multiDay is traffic of tenant t1 over three UTC days, 2026-11-22 to 24, with k = 5:
//
//	day 22: chat-web c1..c6 at 09:00Z; mobile m1..m5 at 10:00Z, and m6 twice at
//	        2026-11-23T04:00+05:30 (= 22T22:30Z): mobile has 6 users, released.
//	day 23: chat-web c1..c6 at 2026-11-22T20:15-08:00 (= 23T04:15Z); mobile m7..m10 at
//	        15:00Z: 4 users, withheld (counting m6 on its local date would release it).
//	day 24: chat-web c1..c4 at 09:00Z and c5 three times at 2026-11-23T17:00-08:00
//	        (= 24T01:00Z): 5 users, released (on its local date c5 would withhold it);
//	        mobile m1, m2 at 09:00Z: 2 users, withheld.
func multiDay() []Event {
	var evs []Event
	add := func(client, user string, at time.Time, n int) {
		for range n {
			evs = append(evs, Event{Time: at, Tenant: "t1", ClientApp: client, Operation: "GET /v1.0/users/{id}",
				Status: 200, Cache: "hit", Latency: 3 * time.Millisecond, UserKey: user})
		}
	}
	utc := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC) }
	for i := 1; i <= 6; i++ {
		add("chat-web", fmt.Sprint("c", i), utc(22, 9, 0), 1)
		add("chat-web", fmt.Sprint("c", i), time.Date(2026, 11, 22, 20, 15, 0, 0, seattle), 1)
	}
	for i := 1; i <= 5; i++ {
		add("mobile", fmt.Sprint("m", i), utc(22, 10, 0), 1)
	}
	add("mobile", "m6", time.Date(2026, 11, 23, 4, 0, 0, 0, kolkata), 2)
	for i := 7; i <= 10; i++ {
		add("mobile", fmt.Sprint("m", i), utc(23, 15, 0), 1)
	}
	for i := 1; i <= 4; i++ {
		add("chat-web", fmt.Sprint("c", i), utc(24, 9, 0), 1)
	}
	add("chat-web", "c5", time.Date(2026, 11, 23, 17, 0, 0, 0, seattle), 3)
	add("mobile", "m1", utc(24, 9, 0), 1)
	add("mobile", "m2", utc(24, 9, 0), 1)
	return evs
}

// rowsOf renders request rows as "time client requests" lines, for comparison.
func rowsOf(rows []RequestRow) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %d", r.Time, r.ClientApp, r.Requests))
	}
	return out
}

// TestReleaseAcrossDaysAndHours records the multi-day traffic through a Recorder into
// each store and reads every report at day and hour granularity: only client-app days
// with at least k distinct users appear, each event in its UTC hour and day, and every
// total and every ungrouped row is the sum of released rows only, so no figure minus
// another reveals a withheld cell.
func TestReleaseAcrossDaysAndHours(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) Store
	}{
		{"memory", func(*testing.T) Store { return newMemStore() }},
		{"sqlite", func(t *testing.T) Store {
			s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), SQLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"postgres", func(t *testing.T) Store { return openPostgres(t)() }},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			rec := newRecorder(t, s, func(o *Options) {
				o.Now = func() time.Time { return time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC) }
			})
			for _, ev := range multiDay() {
				rec.Record(ev)
			}
			if err := rec.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkMultiDayReports(t, &Reader{Store: s, K: 5})
		})
	}
}

// checkMultiDayReports checks every report of the multi-day traffic.
func checkMultiDayReports(t *testing.T, rd *Reader) {
	ctx := context.Background()
	const span = "from=2026-11-22&to=2026-11-24"
	tests := []struct {
		name, query string
		want        []string // rows as rowsOf renders them
		total       int64
	}{
		{"daily by client app", span + "&group_by=client_app", []string{
			"2026-11-22T00:00:00Z chat-web 6", "2026-11-22T00:00:00Z mobile 7",
			"2026-11-23T00:00:00Z chat-web 6", "2026-11-24T00:00:00Z chat-web 7"}, 26},
		{"daily", span, []string{
			"2026-11-22T00:00:00Z  13", "2026-11-23T00:00:00Z  6", "2026-11-24T00:00:00Z  7"}, 26},
		{"hourly by client app", span + "&granularity=hour&group_by=client_app", []string{
			"2026-11-22T09:00:00Z chat-web 6", "2026-11-22T10:00:00Z mobile 5", "2026-11-22T22:00:00Z mobile 2",
			"2026-11-23T04:00:00Z chat-web 6", "2026-11-24T01:00:00Z chat-web 3", "2026-11-24T09:00:00Z chat-web 4"}, 26},
		{"hourly", span + "&granularity=hour", []string{
			"2026-11-22T09:00:00Z  6", "2026-11-22T10:00:00Z  5", "2026-11-22T22:00:00Z  2",
			"2026-11-23T04:00:00Z  6", "2026-11-24T01:00:00Z  3", "2026-11-24T09:00:00Z  4"}, 26},
		{"a day with a withheld app, alone", "from=2026-11-23&to=2026-11-23&granularity=hour", []string{
			"2026-11-23T04:00:00Z  6"}, 6},
	}
	for _, tt := range tests {
		t.Run("requests "+tt.name, func(t *testing.T) {
			rep, err := rd.Requests(ctx, "t1", params(t, "requests", tt.query))
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(rep.Rows); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("rows\n got %q\nwant %q", got, tt.want)
			}
			if rep.Total == nil {
				t.Fatal("no total")
			}
			if *rep.Total != tt.total {
				t.Errorf("total %d, want %d: the sum of released rows only", *rep.Total, tt.total)
			}
		})
	}
	t.Run("latency and cache count released requests only", func(t *testing.T) {
		p := params(t, "latency", span+"&granularity=hour")
		lat, err := rd.Latency(ctx, "t1", p)
		if err != nil {
			t.Fatal(err)
		}
		cache, err := rd.Cache(ctx, "t1", params(t, "cache", span+"&granularity=hour"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"2026-11-22T09:00:00Z": 6, "2026-11-22T10:00:00Z": 5, "2026-11-22T22:00:00Z": 2,
			"2026-11-23T04:00:00Z": 6, "2026-11-24T01:00:00Z": 3, "2026-11-24T09:00:00Z": 4}
		if len(lat.Rows) != len(want) || len(cache.Rows) != len(want) {
			t.Fatalf("latency rows %+v, cache rows %+v; want the %d released hours", lat.Rows, cache.Rows, len(want))
		}
		for i, r := range lat.Rows {
			if c := cache.Rows[i]; r.Requests != want[r.Time] || c.Time != r.Time || c.Hits+c.Misses != want[r.Time] {
				t.Errorf("hour %s: latency counts %d, cache %d+%d; want %d", r.Time, r.Requests, c.Hits, c.Misses, want[r.Time])
			}
		}
	})
	t.Run("active users", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{span + "&group_by=client_app", []string{"2026-11-22T00:00:00Z chat-web 6", "2026-11-22T00:00:00Z mobile 6",
				"2026-11-23T00:00:00Z chat-web 6", "2026-11-24T00:00:00Z chat-web 5"}},
			// The tenant-wide figure only on the day no client app was withheld.
			{span, []string{"2026-11-22T00:00:00Z  12"}},
		} {
			rep, err := rd.ActiveUsers(ctx, "t1", params(t, "active-users", tc.query))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rep.Rows {
				got = append(got, fmt.Sprintf("%s %s %d", r.Time, r.ClientApp, r.Users))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s:\n got %q\nwant %q", tc.query, got, tc.want)
			}
		}
	})
}
