package emulator

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Fault is injected misbehaviour for one route: added latency, and with probability
// ErrorRate an error response with Status (0 => 503). A 429 or 503 fault carries
// Retry-After: 1 unless OmitRetryAfter is set (Graph documents that the header may be
// missing: see Throttle).
type Fault struct {
	Latency        time.Duration
	ErrorRate      float64
	Status         int
	OmitRetryAfter bool
}

// Throttle is Graph-style throttling: at most Budget requests per app and tenant per
// Window (0 => 10s); beyond it requests get 429 with Retry-After = RetryAfter (0 => the
// rest of the window; fractional seconds allowed). The zero value is off.
//
// Graph does not always send Retry-After: "If no Retry-After header is provided by the
// response, we recommend implementing an exponential backoff retry policy"
// (https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling).
// OmitRetryAfter makes that deterministic: 0 sends the header on every 429, 1 never
// sends it, n > 1 leaves it out of every n-th 429 the emulator answers (1st, n+1st, …).
type Throttle struct {
	Budget         int
	Window         time.Duration
	RetryAfter     time.Duration
	OmitRetryAfter int
}

// Request is one entry of the request log. Select is the $select list as sent, then
// any $select inside $expand=manager(...) (the managers' fields); Filter
// and Search are the $filter and $search options verbatim (URL-decoded, not
// interpreted), for direct requests and $batch items alike, so tests can assert what a
// client asked Graph for.
type Request struct {
	Time     time.Time `json:"time"`
	Method   string    `json:"method"`
	Route    string    `json:"route"`
	TenantID string    `json:"tenantId,omitempty"`
	AppID    string    `json:"appId,omitempty"`
	Select   []string  `json:"select,omitempty"`
	Filter   string    `json:"filter,omitempty"`
	Search   string    `json:"search,omitempty"`
	Status   int       `json:"status"`
	InBatch  bool      `json:"inBatch"`
}

type window struct {
	start time.Time
	used  int
}

// faultState holds faults, throttling and the outage switch.
type faultState struct {
	mu        sync.Mutex
	faults    map[string]Fault
	throttle  Throttle
	windows   map[string]*window
	throttled int // 429s answered under the current Throttle, for OmitRetryAfter
	down      bool
	revoke    RevokeAnswer
	rng       *rand.Rand
}

func (f *faultState) init() {
	f.faults = map[string]Fault{}
	f.windows = map[string]*window{}
	f.rng = rand.New(rand.NewPCG(1, 2))
}

func (f *faultState) outage() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// pick returns the fault for a route and whether the request fails; "" faults apply to
// Graph routes only.
func (f *faultState) pick(route string, graphRoute bool) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, ok := f.faults[route]
	if !ok && graphRoute {
		ft, ok = f.faults[""]
	}
	if !ok {
		return Fault{}, false
	}
	return ft, ft.ErrorRate > 0 && f.rng.Float64() < ft.ErrorRate
}

// take consumes one unit of key's budget; when exhausted it returns the Retry-After,
// zero when this 429 goes without the header (Throttle.OmitRetryAfter).
func (f *faultState) take(key string, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.throttle
	if t.Budget <= 0 {
		return 0, true
	}
	retry, ok := f.spend(key, now)
	if ok {
		return 0, true
	}
	f.throttled++
	if n := t.OmitRetryAfter; n == 1 || (n > 1 && f.throttled%n == 1) {
		return 0, false
	}
	return retry, false
}

// spend consumes one unit of key's budget under f.mu; when exhausted it returns the
// Retry-After the throttle asks for.
func (f *faultState) spend(key string, now time.Time) (time.Duration, bool) {
	t := f.throttle
	win := t.Window
	if win <= 0 {
		win = 10 * time.Second
	}
	w := f.windows[key]
	if w == nil || now.Sub(w.start) >= win {
		w = &window{start: now}
		f.windows[key] = w
	}
	if w.used >= t.Budget {
		if t.RetryAfter > 0 {
			return t.RetryAfter, false
		}
		return max(w.start.Add(win).Sub(now).Round(time.Millisecond), time.Millisecond), false
	}
	w.used++
	return 0, true
}

// SetFault sets the fault for a route template ("GET /v1.0/users/{id}"); "" applies to
// every Graph route without its own fault. A zero Fault removes it.
func (e *Emulator) SetFault(route string, f Fault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	if f == (Fault{}) {
		delete(e.faults.faults, route)
		return
	}
	e.faults.faults[route] = f
}

// SetThrottle sets throttling; the zero value turns it off. Windows restart.
func (e *Emulator) SetThrottle(t Throttle) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.throttle = t
	e.faults.windows = map[string]*window{}
	e.faults.throttled = 0
}

// SetOutage switches a full outage: every request (except the control API) fails at the
// connection level.
func (e *Emulator) SetOutage(on bool) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.down = on
}

// ResetFaults removes faults, throttling and the outage, and restores the default
// revokeSignInSessions answer (RevokeByTenant).
func (e *Emulator) ResetFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.faults = map[string]Fault{}
	e.faults.throttle = Throttle{}
	e.faults.windows = map[string]*window{}
	e.faults.throttled = 0
	e.faults.down = false
	e.faults.revoke = RevokeByTenant
}

// applyFaults sleeps the route's latency and writes its error if the request fails;
// it reports whether the handler may proceed.
func (e *Emulator) applyFaults(w http.ResponseWriter, r *http.Request, route string, graphRoute bool) bool {
	ft, fail := e.faults.pick(route, graphRoute)
	if ft.Latency > 0 {
		t := time.NewTimer(ft.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	if !fail {
		return true
	}
	status := ft.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && !ft.OmitRetryAfter {
		w.Header().Set("Retry-After", "1")
	}
	code, msg := statusCode(status)
	graphError(w, r, status, code, msg)
	return false
}

// applyThrottle writes 429 when the app's budget in the tenant is spent.
func (e *Emulator) applyThrottle(w http.ResponseWriter, r *http.Request, tenantID, appID string) bool {
	retry, ok := e.faults.take(tenantID+"|"+appID, e.now())
	if ok {
		return true
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.FormatFloat(retry.Seconds(), 'f', -1, 64))
	}
	graphError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Too many requests, please try again later.")
	return false
}

// requestLog is the bounded in-memory request log.
type requestLog struct {
	mu      sync.Mutex
	entries []Request
}

const maxLog = 200_000

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxLog {
		l.entries = slices.Delete(l.entries, 0, maxLog/2)
	}
	l.entries = append(l.entries, r)
}

// Requests returns a copy of the request log, oldest first.
func (e *Emulator) Requests() []Request {
	e.reqlog.mu.Lock()
	defer e.reqlog.mu.Unlock()
	out := make([]Request, len(e.reqlog.entries))
	for i, r := range e.reqlog.entries {
		r.Select = slices.Clone(r.Select)
		out[i] = r
	}
	return out
}

// ResetRequests empties the request log.
func (e *Emulator) ResetRequests() {
	e.reqlog.mu.Lock()
	defer e.reqlog.mu.Unlock()
	e.reqlog.entries = nil
}

// Count returns how many HTTP requests (not $batch items) matched a route template; ""
// counts all.
func (e *Emulator) Count(route string) int {
	e.reqlog.mu.Lock()
	defer e.reqlog.mu.Unlock()
	n := 0
	for _, r := range e.reqlog.entries {
		if !r.InBatch && (route == "" || r.Route == route) {
			n++
		}
	}
	return n
}
