package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// handleGetUser serves GET /v1.0/users/{id|userPrincipalName} (and /users/$count).
func (e *Emulator) handleGetUser(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := r.PathValue("id")
	if id == "$count" {
		e.handleCount(w, r, ts)
		return
	}
	sel, qerr := parseSelect(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	u := ts.lookup(id)
	var body ordered
	if u != nil {
		body = projectUser(u, sel, false)
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#users" + selectSuffix(sel) + "/$entity"}
	writeJSON(w, http.StatusOK, append(ordered{ctx}, body...))
}

// notFound writes Graph's 404 for a directory object.
func notFound(w http.ResponseWriter, r *http.Request, id string) {
	graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// handleCount serves GET /v1.0/users/$count, with $filter and $search. Graph
// documents it as an advanced query: without ConsistencyLevel: eventual it answers
// Request_BadRequest "$count is not currently supported."
// (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects),
// and with it the count as text/plain (https://learn.microsoft.com/graph/api/user-list).
func (e *Emulator) handleCount(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	if !eventual(r) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
		return
	}
	lq := &listQuery{advanced: true}
	qerr := lq.parseSearch(r)
	if v, ok := option(r.URL.Query(), "filter"); ok && qerr == nil && strings.TrimSpace(v) != "" {
		var f pred
		if f, qerr = parseFilter(v, true); qerr == nil {
			lq.match = append(lq.match, f)
		}
	}
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	n := 0
	e.mu.RLock()
	for _, u := range e.listed(r, ts, ts.users) {
		if !slices.ContainsFunc(lq.match, func(f pred) bool { return !f(u) }) {
			n++
		}
	}
	e.mu.RUnlock()
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	_, _ = w.Write([]byte(strconv.Itoa(n)))
}

// handleListUsers serves GET /v1.0/users. Advanced queries (ConsistencyLevel:
// eventual) are answered from the lagging index (see replica.go).
func (e *Emulator) handleListUsers(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseListQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	body := e.page(r, lq, e.listed(r, ts, ts.users), "users", false)
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, body)
}
