package usage

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// seed writes, for day t0, chat-web used by 20 people (30 requests), mobile by 3 (4
// requests) and the tenant as a whole by 22.
func seed(t *testing.T, s Store) {
	t.Helper()
	day := dayOf(t0)
	cell := func(client, cache string, n int64) Cell {
		c := Cell{Hour: t0.Truncate(time.Hour), Tenant: "t1", ClientApp: client, Operation: "GET /v1.0/users/{id}",
			StatusClass: "2xx", Cache: cache, Requests: n}
		c.Latency[2] = n
		return c
	}
	b := Batch{ID: "seed", Cells: []Cell{cell("chat-web", "hit", 20), cell("chat-web", "miss", 10), cell("mobile", "hit", 4)},
		Users: []DailyUsers{{day, "t1", "chat-web", 20}, {day, "t1", "mobile", 3}, {day, "t1", AllClients, 22}}}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func params(t *testing.T, kind, q string) Params {
	t.Helper()
	v, _ := url.ParseQuery(q)
	p, err := ParseParams(kind, v, t0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReleaseWithholdsSmallClientAppsEverywhere(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	seed(t, s)
	rd := &Reader{Store: s, K: 5}

	req, err := rd.Requests(ctx, "t1", params(t, "requests", "group_by=client_app"))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Rows) != 1 || req.Rows[0].ClientApp != "chat-web" || req.Rows[0].Requests != 30 {
		t.Fatalf("rows %+v: want chat-web alone with 30", req.Rows)
	}
	tot, _ := rd.Requests(ctx, "t1", params(t, "requests", ""))
	if *tot.Total != 30 || *req.Total != 30 || len(tot.Rows) != 1 || tot.Rows[0].Requests != 30 {
		t.Fatalf("totals %d/%d rows %+v: a total including mobile's 4 would reveal it by subtraction", *tot.Total, *req.Total, tot.Rows)
	}
	cache, _ := rd.Cache(ctx, "t1", params(t, "cache", ""))
	if len(cache.Rows) != 1 || cache.Rows[0].Hits != 20 || cache.Rows[0].Misses != 10 {
		t.Fatalf("cache rows %+v: want 20 hits / 10 misses (chat-web only)", cache.Rows)
	}
	lat, _ := rd.Latency(ctx, "t1", params(t, "latency", "group_by=operation"))
	if len(lat.Rows) != 1 || lat.Rows[0].Requests != 30 {
		t.Fatalf("latency rows %+v", lat.Rows)
	}
	au, _ := rd.ActiveUsers(ctx, "t1", params(t, "active-users", "group_by=client_app"))
	if len(au.Rows) != 1 || au.Rows[0].ClientApp != "chat-web" || au.Rows[0].Users != 20 {
		t.Fatalf("active users %+v", au.Rows)
	}
	all, _ := rd.ActiveUsers(ctx, "t1", params(t, "active-users", ""))
	if len(all.Rows) != 0 {
		t.Fatalf("tenant-wide users released on a day with a withheld app: %+v", all.Rows)
	}

	open := &Reader{Store: s, K: 3} // with k=3 mobile is released
	all, _ = open.ActiveUsers(ctx, "t1", params(t, "active-users", ""))
	tot, _ = open.Requests(ctx, "t1", params(t, "requests", ""))
	if len(all.Rows) != 1 || all.Rows[0].Users != 22 || *tot.Total != 34 {
		t.Fatalf("k=3: users %+v total %d", all.Rows, *tot.Total)
	}
}

func TestParseParams(t *testing.T) {
	for _, tc := range []struct {
		kind, q string
		ok      bool
	}{
		{"requests", "", true},
		{"requests", "from=2026-11-01&to=2026-11-24&granularity=hour&group_by=client_app,operation,status_class,cache", true},
		{"requests", "from=2026-11-25&to=2026-11-24", false},
		{"requests", "from=24.11.2026", false},
		{"requests", "from=2020-01-01", false},
		{"requests", "granularity=week", false},
		{"requests", "group_by=user", false},
		{"requests", "group_by=operation,operation", false},
		{"latency", "group_by=cache", false},
		{"latency", "group_by=client_app", true},
		{"active-users", "granularity=hour", false},
		{"active-users", "group_by=client_app", true},
	} {
		t.Run(tc.kind+"?"+tc.q, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.q)
			p, err := ParseParams(tc.kind, v, t0)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.q == "" && (p.Granularity != Day || !p.To.Equal(dayOf(t0)) || !p.From.Equal(dayOf(t0).AddDate(0, 0, -30))) {
				t.Fatalf("defaults: %+v", p)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var h [NumBuckets]int64
	h[0], h[4] = 50, 50 // half ≤ 5 ms, half in (50, 100]
	for _, tc := range []struct {
		q, want float64
	}{{0.5, 5}, {0.9, 90}, {0.99, 99}} {
		if got := Percentile(&h, tc.q); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.q*100, got, tc.want)
		}
	}
	h = [NumBuckets]int64{}
	h[NumBuckets-1] = 1
	if got := Percentile(&h, 0.5); got != 2500 {
		t.Errorf("+Inf bucket: %v", got)
	}
}
