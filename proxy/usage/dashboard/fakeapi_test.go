package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeAPI answers /usage/v1/* with contract-shaped JSON (the shapes of proxy/usage's
// reports) and records the queries the page sent. It checks the bearer token and the
// parameters as strictly as the real API.
type fakeAPI struct {
	token string
	fail  map[string]int // report kind -> status to answer with an error envelope

	mu      sync.Mutex
	queries []string
}

var allowedGroups = map[string][]string{
	"requests":     {"client_app", "operation", "status_class", "cache"},
	"latency":      {"client_app", "operation"},
	"cache":        {"client_app"},
	"active-users": {"client_app"},
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := strings.TrimPrefix(r.URL.Path, "/usage/v1/")
	f.mu.Lock()
	f.queries = append(f.queries, kind+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return
	}
	allowed, ok := allowedGroups[kind]
	if !ok {
		writeError(w, http.StatusNotFound, "BadRequest", "unknown report")
		return
	}
	if status := f.fail[kind]; status != 0 {
		writeError(w, status, "Authorization_RequestDenied", "Insufficient privileges: the caller lacks the app role Gateway.Analyst.")
		return
	}
	q := r.URL.Query()
	from, errF := time.Parse(time.DateOnly, q.Get("from"))
	to, errT := time.Parse(time.DateOnly, q.Get("to"))
	gran := q.Get("granularity")
	var groups []string
	if g := q.Get("group_by"); g != "" {
		groups = strings.Split(g, ",")
	}
	switch {
	case errF != nil || errT != nil || from.After(to):
		writeError(w, http.StatusBadRequest, "BadRequest", "from and to must be dates YYYY-MM-DD.")
		return
	case gran != "hour" && gran != "day", kind == "active-users" && gran != "day":
		writeError(w, http.StatusBadRequest, "BadRequest", "granularity must be hour or day.")
		return
	}
	for _, g := range groups {
		if !slices.Contains(allowed, g) {
			writeError(w, http.StatusBadRequest, "BadRequest", "bad group_by")
			return
		}
	}
	body := map[string]any{"from": q.Get("from"), "to": q.Get("to"), "granularity": gran,
		"group_by": groups, "k": 5, "rows": f.rows(kind, from, to, gran, groups)}
	if kind == "requests" {
		var total int64
		for _, row := range body["rows"].([]map[string]any) {
			total += row["requests"].(int64)
		}
		body["total"] = total
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// rows makes deterministic rows for every slot and group value.
func (f *fakeAPI) rows(kind string, from, to time.Time, gran string, groups []string) []map[string]any {
	step := 24 * time.Hour
	if gran == "hour" {
		step = time.Hour
	}
	apps := []string{""}
	if slices.Contains(groups, "client_app") {
		apps = []string{"chat-web", "mobile", "intranet-directory"}
	}
	ops := []string{""}
	if slices.Contains(groups, "operation") {
		ops = []string{"GET /v1.0/users/{id}", "GET /v1.0/me", "GET /v1.0/users/{id}/photo/$value"}
	}
	var out []map[string]any
	n := int64(0)
	for t := from; t.Before(to.AddDate(0, 0, 1)); t = t.Add(step) {
		for i, app := range apps {
			for j, op := range ops {
				n++
				row := map[string]any{"time": t.UTC().Format(time.RFC3339)}
				if app != "" {
					row["client_app"] = app
				}
				if op != "" {
					row["operation"] = op
				}
				base := 40 + (n*37)%60 + int64(20*i+10*j)
				switch kind {
				case "requests":
					row["requests"] = base
				case "latency":
					row["p50_ms"], row["p90_ms"], row["p99_ms"] = 4.5, 25.0+float64(n%7), 180.0+float64(n%11)
					row["requests"] = base
				case "cache":
					hits := base * 4 / 5
					row["hits"], row["misses"] = hits, base-hits
					row["ratio"] = float64(hits) / float64(base)
				case "active-users":
					row["users"] = 5 + base/10
				}
				out = append(out, row)
			}
		}
	}
	return out
}

func (f *fakeAPI) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

func (f *fakeAPI) String() string { return fmt.Sprintf("fakeAPI(%d queries)", len(f.seen())) }
