package emulator

import (
	"net/http"
)

// handleGetUser serves GET /v1.0/users/{id|userPrincipalName} in every key spelling
// (keys.go), with $select and $expand=manager (expand.go).
func (e *Emulator) handleGetUser(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := userKey(r)
	sel, qerr := parseSelect(r)
	var x *expandQuery
	if qerr == nil {
		x, qerr = parseExpand(r, true)
	}
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	u := ts.lookup(id)
	var body ordered
	if u != nil {
		body = projectUser(u, sel, false)
		if x != nil {
			body = x.apply(body, ts, u)
		}
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

// handleListUsers serves GET /v1.0/users. Advanced queries (ConsistencyLevel:
// eventual) are answered from the lagging index (see replica.go).
func (e *Emulator) handleListUsers(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseListQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	lq.ts = ts
	e.mu.RLock()
	body := e.page(r, lq, e.listed(lq.eventual, ts, ts.users), "users", false)
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, body)
}
