package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The $count segment (/users/$count, /users/{key}/directReports/$count) answers the
// number of matching objects as text/plain ("Get only a count of users ... Content-type:
// text/plain", https://learn.microsoft.com/graph/api/user-list;
// https://learn.microsoft.com/graph/query-parameters#count-parameter). It is an advanced
// query: "If the ConsistencyLevel=eventual header is not specified, the request returns
// an error when the $count URL segment is used" (Request_BadRequest "$count is not
// currently supported.",
// https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects),
// and it honours $filter and $search ("GET /users/$count?$filter=endsWith(mail,'@outlook.com')",
// same page), answered from the lagging index like the list's advanced queries.

// errCountUnsupported is Graph's answer to a $count segment without ConsistencyLevel.
const errCountUnsupported = "$count is not currently supported."

// countOptionError refuses query options that cannot apply to a count. The count is an
// Edm.Int32, and Graph parses URLs with Microsoft.OData, whose parser refuses
// $select/$expand on a non-structured type (UriParser_TypeInvalidForSelectExpand; Graph
// answers it e.g. as "The type 'Edm.Stream' is not valid for $select or $expand" on a
// drive item's content). $top, $skip and $orderby get the OData stack's "not a
// collection" refusal, which Graph returns for them on non-collections
// (microsoftgraph/msgraph-sdk-powershell#2466); Graph's answer on $count itself is not
// documented, so these two messages are the emulator's best evidence, not a quote.
func countOptionError(r *http.Request) *queryError {
	for k := range r.URL.Query() {
		switch strings.ToLower(strings.TrimPrefix(k, "$")) {
		case "select", "expand":
			return badRequest("The type 'Edm.Int32' is not valid for $select or $expand, only structured types are allowed.")
		case "top", "skip", "orderby":
			return badRequest("The query specified in the URI is not valid. The requested resource is not a collection. " +
				"Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections.")
		}
	}
	return nil
}

// parseCountQuery validates a $count request: its options, then ConsistencyLevel, then
// $search and $filter (always advanced here, the header being present).
func parseCountQuery(r *http.Request) (*listQuery, *queryError) {
	if qerr := countOptionError(r); qerr != nil {
		return nil, qerr
	}
	if !eventual(r) {
		return nil, &queryError{"Request_BadRequest", errCountUnsupported}
	}
	lq := &listQuery{advanced: true, eventual: true}
	if qerr := lq.parseSearch(r); qerr != nil {
		return nil, qerr
	}
	if v, ok := option(r.URL.Query(), "filter"); ok && strings.TrimSpace(v) != "" {
		f, qerr := parseFilter(v, true)
		if qerr != nil {
			return nil, qerr
		}
		lq.match = append(lq.match, f)
	}
	return lq, nil
}

// countMatching counts the users of src lq matches; callers hold e.mu.
func countMatching(lq *listQuery, src []*User) int {
	n := 0
	for _, u := range src {
		if !slices.ContainsFunc(lq.match, func(f pred) bool { return !f(u) }) {
			n++
		}
	}
	return n
}

// writeCount writes a count as Graph does: text/plain.
func writeCount(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	_, _ = w.Write([]byte(strconv.Itoa(n)))
}

// handleCount serves GET /v1.0/users/$count.
func (e *Emulator) handleCount(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseCountQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	n := countMatching(lq, e.listed(true, ts, ts.users))
	e.mu.RUnlock()
	writeCount(w, n)
}

// handleReportsCount serves GET /v1.0/users/{key}/directReports/$count, an advanced query
// on a directory relationship like the list of direct reports
// (https://learn.microsoft.com/graph/api/user-list-directreports).
func (e *Emulator) handleReportsCount(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseCountQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := userKey(r)
	e.mu.RLock()
	u := ts.lookup(id)
	n := 0
	if u != nil {
		n = countMatching(lq, e.listed(true, ts, ts.reportsOf(u)))
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	writeCount(w, n)
}
