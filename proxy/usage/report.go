package usage

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"
)

// Report is the answer of every usage report: its parameters, the release threshold and
// released rows only. Total (requests only) sums the released rows.
type Report[R any] struct {
	From        string   `json:"from"`
	To          string   `json:"to"`
	Granularity string   `json:"granularity"`
	GroupBy     []string `json:"group_by"`
	K           int      `json:"k"`
	Rows        []R      `json:"rows"`
	Total       *int64   `json:"total,omitempty"`
}

// RequestRow is one row of the requests report; only grouped dimensions are set.
type RequestRow struct {
	Tenant      string `json:"tenant,omitempty"` // set by exports only
	Time        string `json:"time"`
	ClientApp   string `json:"client_app,omitempty"`
	Operation   string `json:"operation,omitempty"`
	StatusClass string `json:"status_class,omitempty"`
	Cache       string `json:"cache,omitempty"`
	Requests    int64  `json:"requests"`
}

// LatencyRow is one row of the latency report, percentiles estimated from the buckets.
type LatencyRow struct {
	Tenant    string  `json:"tenant,omitempty"`
	Time      string  `json:"time"`
	ClientApp string  `json:"client_app,omitempty"`
	Operation string  `json:"operation,omitempty"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Requests  int64   `json:"requests"`
}

// CacheRow is one row of the cache report. Hits count "hit" and "shared" (answered
// without a Graph call of its own); requests that did not involve the cache are left out.
type CacheRow struct {
	Tenant    string  `json:"tenant,omitempty"`
	Time      string  `json:"time"`
	ClientApp string  `json:"client_app,omitempty"`
	Hits      int64   `json:"hits"`
	Misses    int64   `json:"misses"`
	Ratio     float64 `json:"ratio"`
}

// UsersRow is one row of the active-users report.
type UsersRow struct {
	Tenant    string `json:"tenant,omitempty"`
	Time      string `json:"time"`
	ClientApp string `json:"client_app,omitempty"`
	Users     int64  `json:"users"`
}

// Reader answers usage reports from a Store, applying the release rule to everything.
type Reader struct {
	Store Store
	K     int // release threshold (default DefaultK)
}

func (r *Reader) k() int {
	if r.K < 1 {
		return DefaultK
	}
	return r.K
}

// released loads a tenant's aggregates for p and applies Release.
func (r *Reader) released(ctx context.Context, tenant string, p Params) (Released, error) {
	cells, err := r.Store.Cells(ctx, tenant, p.From, p.end())
	if err != nil {
		return Released{}, err
	}
	users, err := r.Store.DailyUsers(ctx, tenant, p.From, p.end())
	if err != nil {
		return Released{}, err
	}
	return Release(cells, users, r.k()), nil
}

func newReport[R any](p Params, k int) Report[R] {
	return Report[R]{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly),
		Granularity: p.Granularity, GroupBy: p.GroupBy, K: k, Rows: []R{}}
}

// groupKey is a report row's identity.
type groupKey struct {
	t                        int64
	client, op, class, cache string
}

func (p Params) keyOf(c Cell) groupKey {
	k := groupKey{t: p.slot(c.Hour).Unix()}
	if p.groups(DimClientApp) {
		k.client = c.ClientApp
	}
	if p.groups(DimOperation) {
		k.op = c.Operation
	}
	if p.groups(DimStatusClass) {
		k.class = c.StatusClass
	}
	if p.groups(DimCache) {
		k.cache = c.Cache
	}
	return k
}

func sortedKeys[V any](m map[groupKey]V) []groupKey {
	keys := make([]groupKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.client, b.client), cmp.Compare(a.op, b.op),
			cmp.Compare(a.class, b.class), cmp.Compare(a.cache, b.cache))
	})
	return keys
}

func rfc(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// Requests reports request counts of one tenant.
func (r *Reader) Requests(ctx context.Context, tenant string, p Params) (Report[RequestRow], error) {
	rel, err := r.released(ctx, tenant, p)
	if err != nil {
		return Report[RequestRow]{}, err
	}
	sums := map[groupKey]int64{}
	var total int64
	for _, c := range rel.Cells {
		sums[p.keyOf(c)] += c.Requests
		total += c.Requests
	}
	rep := newReport[RequestRow](p, r.k())
	for _, k := range sortedKeys(sums) {
		rep.Rows = append(rep.Rows, RequestRow{Time: rfc(k.t), ClientApp: k.client, Operation: k.op,
			StatusClass: k.class, Cache: k.cache, Requests: sums[k]})
	}
	rep.Total = &total
	return rep, nil
}

// Latency reports latency percentiles of one tenant.
func (r *Reader) Latency(ctx context.Context, tenant string, p Params) (Report[LatencyRow], error) {
	rel, err := r.released(ctx, tenant, p)
	if err != nil {
		return Report[LatencyRow]{}, err
	}
	hist := map[groupKey]*[NumBuckets]int64{}
	for _, c := range rel.Cells {
		k := p.keyOf(c)
		h := hist[k]
		if h == nil {
			h = &[NumBuckets]int64{}
			hist[k] = h
		}
		for i, n := range c.Latency {
			h[i] += n
		}
	}
	rep := newReport[LatencyRow](p, r.k())
	for _, k := range sortedKeys(hist) {
		h := hist[k]
		var n int64
		for _, v := range h {
			n += v
		}
		rep.Rows = append(rep.Rows, LatencyRow{Time: rfc(k.t), ClientApp: k.client, Operation: k.op,
			P50: Percentile(h, 0.5), P90: Percentile(h, 0.9), P99: Percentile(h, 0.99), Requests: n})
	}
	return rep, nil
}

// Percentile estimates the q-quantile (0 < q < 1) in milliseconds from bucket counts,
// interpolating linearly within a bucket; in the +Inf bucket it answers the last bound.
func Percentile(h *[NumBuckets]int64, q float64) float64 {
	var n int64
	for _, v := range h {
		n += v
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var cum float64
	for i, v := range h {
		if v == 0 || cum+float64(v) < rank {
			cum += float64(v)
			continue
		}
		if i == len(LatencyBounds) {
			return LatencyBounds[len(LatencyBounds)-1]
		}
		lo := 0.0
		if i > 0 {
			lo = LatencyBounds[i-1]
		}
		est := lo + (LatencyBounds[i]-lo)*(rank-cum)/float64(v)
		return math.Round(est*10) / 10
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// Cache reports the cache hit ratio of one tenant.
func (r *Reader) Cache(ctx context.Context, tenant string, p Params) (Report[CacheRow], error) {
	rel, err := r.released(ctx, tenant, p)
	if err != nil {
		return Report[CacheRow]{}, err
	}
	type hm struct{ hits, misses int64 }
	sums := map[groupKey]*hm{}
	for _, c := range rel.Cells {
		if c.Cache == CacheNone {
			continue
		}
		k := p.keyOf(c)
		s := sums[k]
		if s == nil {
			s = &hm{}
			sums[k] = s
		}
		if c.Cache == "miss" {
			s.misses += c.Requests
		} else {
			s.hits += c.Requests
		}
	}
	rep := newReport[CacheRow](p, r.k())
	for _, k := range sortedKeys(sums) {
		s := sums[k]
		ratio := math.Round(float64(s.hits)/float64(s.hits+s.misses)*10000) / 10000
		rep.Rows = append(rep.Rows, CacheRow{Time: rfc(k.t), ClientApp: k.client, Hits: s.hits, Misses: s.misses, Ratio: ratio})
	}
	return rep, nil
}

// ActiveUsers reports distinct users per day of one tenant: per client app when grouped
// by client_app, tenant-wide otherwise. Only counts of at least k are released.
func (r *Reader) ActiveUsers(ctx context.Context, tenant string, p Params) (Report[UsersRow], error) {
	rel, err := r.released(ctx, tenant, p)
	if err != nil {
		return Report[UsersRow]{}, err
	}
	byApp := p.groups(DimClientApp)
	rep := newReport[UsersRow](p, r.k())
	for _, u := range rel.Users {
		if (u.ClientApp == AllClients) == byApp {
			continue
		}
		row := UsersRow{Time: u.Day.Format(time.RFC3339), Users: u.Users}
		if byApp {
			row.ClientApp = u.ClientApp
		}
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(a, b UsersRow) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.ClientApp, b.ClientApp))
	})
	return rep, nil
}
