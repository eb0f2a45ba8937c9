package emulator

import (
	"net/http"
)

// handleManager serves GET /v1.0/users/{id}/manager.
func (e *Emulator) handleManager(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	sel, qerr := parseSelect(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := userKey(r)
	e.mu.RLock()
	u := ts.lookup(id)
	var m *User
	var body ordered
	if u != nil && u.ManagerID != "" {
		if m = ts.byID[u.ManagerID]; m != nil {
			body = projectUser(m, sel, true)
		}
	}
	e.mu.RUnlock()
	switch {
	case u == nil:
		notFound(w, r, id)
	case m == nil:
		notFound(w, r, "manager")
	default:
		ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#directoryObjects" + selectSuffix(sel) + "/$entity"}
		writeJSON(w, http.StatusOK, append(ordered{ctx}, body...))
	}
}

// handleDirectReports serves GET /v1.0/users/{id}/directReports, a paged collection of
// directoryObject with the query options of a user list: "$top ... to specify the page
// size" and @odata.nextLink "a URL to the next page of results"
// (https://learn.microsoft.com/graph/paging), $count and the other advanced queries
// Graph documents for the directReports relationship
// (https://learn.microsoft.com/graph/aad-advanced-queries,
// https://learn.microsoft.com/graph/api/user-list-directreports).
func (e *Emulator) handleDirectReports(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseListQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := userKey(r)
	lq.ts = ts
	e.mu.RLock()
	u := ts.lookup(id)
	var body ordered
	if u != nil {
		body = e.page(r, lq, e.listed(lq.eventual, ts, ts.reportsOf(u)), "directoryObjects", true)
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// reportsOf returns u's direct reports in directory order; callers hold e.mu.
func (ts *tenantState) reportsOf(u *User) []*User {
	reports := make([]*User, 0, len(ts.reports[u.ID]))
	for _, rid := range ts.reports[u.ID] {
		if rep := ts.byID[rid]; rep != nil {
			reports = append(reports, rep)
		}
	}
	return reports
}
