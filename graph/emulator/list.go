package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// listQuery is a parsed query on a user collection (GET /users and GET
// /users/{id}/directReports).
type listQuery struct {
	// eventual: ConsistencyLevel: eventual, unless $expand is present: "$expand isn't
	// supported with advanced query parameters" (https://learn.microsoft.com/graph/aad-advanced-queries),
	// and Graph then answers as if the header were absent, e.g. $search with $expand gets
	// "Request with $search query parameter only works through MSGraph with a special
	// request header" despite the header (microsoftgraph/microsoft-graph-docs-contrib#2577).
	eventual bool
	expand   *expandQuery // $expand=manager[($select=...)], nil without
	sel      []string
	top      int
	count    bool // @odata.count is answered (requested and ConsistencyLevel: eventual)
	advanced bool // ConsistencyLevel: eventual and $count=true
	match    []pred
	order    []orderKey
	offset   int
	first    bool         // the first page (no $skiptoken)
	ts       *tenantState // the tenant, for $expand; set by the handler
}

// parseListQuery validates the query options of a user collection. Graph documents
// which of them need advanced query parameters in
// https://learn.microsoft.com/graph/aad-advanced-queries: ConsistencyLevel: eventual,
// and, "except for $search", $count=true.
func parseListQuery(r *http.Request) (*listQuery, *queryError) {
	q := r.URL.Query()
	lq := &listQuery{first: true}
	var qerr *queryError
	if lq.sel, qerr = parseSelect(r); qerr != nil {
		return nil, qerr
	}
	if lq.expand, qerr = parseExpand(r, false); qerr != nil {
		return nil, qerr
	}
	lq.eventual = eventual(r) && lq.expand == nil
	if lq.top, qerr = parseTop(r); qerr != nil {
		return nil, qerr
	}
	if qerr = lq.parseCount(r); qerr != nil {
		return nil, qerr
	}
	if qerr = lq.parseSearch(r); qerr != nil {
		return nil, qerr
	}
	v, hasFilter := option(q, "filter")
	hasFilter = hasFilter && strings.TrimSpace(v) != ""
	if hasFilter {
		f, qerr := parseFilter(v, lq.advanced)
		if qerr != nil {
			return nil, qerr
		}
		lq.match = append(lq.match, f)
	}
	if v, ok := option(q, "orderby"); ok && strings.TrimSpace(v) != "" {
		if qerr := lq.parseOrderBy(v, hasFilter); qerr != nil {
			return nil, qerr
		}
	}
	if _, ok := option(q, "skip"); ok {
		// Graph pages users with $skiptoken only: "'$skip' is not supported by the
		// service." (Request_BadRequest, microsoftgraph/microsoft-graph-docs#9279).
		return nil, &queryError{"Request_BadRequest", "'$skip' is not supported by the service."}
	}
	if v, ok := option(q, "skiptoken"); ok {
		off, ok := decodeSkipToken(v, pageKey(r))
		if !ok {
			return nil, badRequest("Invalid skip token.")
		}
		lq.offset, lq.first = off, false
	}
	return lq, nil
}

// parseCount reads $count=true|false. Without ConsistencyLevel: eventual, Graph
// "silently ignores the $count query parameter (?$count=true)": no @odata.count and no
// error (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects).
// Any other value is an OData syntax error.
func (lq *listQuery) parseCount(r *http.Request) *queryError {
	v, ok := option(r.URL.Query(), "count")
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		lq.count = lq.eventual
		lq.advanced = lq.eventual
	case "false":
	default:
		return badRequest(fmt.Sprintf("'%s' is not a valid count option.", v))
	}
	return nil
}

// parseSearch reads $search, which needs ConsistencyLevel: eventual (Graph's documented
// answer otherwise: https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects).
func (lq *listQuery) parseSearch(r *http.Request) *queryError {
	v, ok := option(r.URL.Query(), "search")
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	if !lq.eventual {
		return unsupported("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	f, qerr := parseSearch(v)
	if qerr != nil {
		return qerr
	}
	lq.match = append(lq.match, f)
	return nil
}

// orderKey is one $orderby item.
type orderKey struct {
	p    prop
	desc bool
}

// sortingUnsupported is Graph's answer to an $orderby it cannot serve.
var sortingUnsupported = unsupported("Sorting not supported for current query.")

// parseOrderBy reads "prop [asc|desc], ...". Graph documents users sortable by
// displayName and userPrincipalName by default and by createdDateTime only in
// advanced queries, and "Use of $filter and $orderby in the same query for directory
// objects always requires advanced query parameters":
// https://learn.microsoft.com/graph/aad-advanced-queries#support-for-sorting-by-properties-of-microsoft-entra-id-directory-objects
func (lq *listQuery) parseOrderBy(v string, hasFilter bool) *queryError {
	if hasFilter && !lq.advanced {
		return sortingUnsupported
	}
	for _, item := range strings.Split(v, ",") {
		words := strings.Fields(item)
		if len(words) == 0 || len(words) > 2 {
			return badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", len(v), v))
		}
		p, ok := userProps[strings.ToLower(words[0])]
		switch {
		case !ok:
			return unknownProp(words[0])
		case p.name == "createdDateTime" && !lq.advanced:
			return sortingUnsupported
		case p.name != "displayName" && p.name != "userPrincipalName" && p.name != "createdDateTime":
			return sortingUnsupported
		}
		k := orderKey{p: p}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", strings.Index(v, words[1]), v))
			}
		}
		lq.order = append(lq.order, k)
	}
	return nil
}

// less orders two users by the $orderby keys.
func (lq *listQuery) less(a, b *User) int {
	for _, k := range lq.order {
		var c int
		if k.p.when != nil {
			c = k.p.when(a).Compare(k.p.when(b))
		} else {
			c = strings.Compare(strings.ToLower(k.p.str(a)), strings.ToLower(k.p.str(b)))
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// page applies lq to src (callers hold e.mu for reading) and returns the response body:
// @odata.context, @odata.count (on the first page only: "When using the $count=true
// query string when querying against directory resources, the @odata.count property
// will be present only in the first page of the paged data",
// https://learn.microsoft.com/graph/paging), @odata.nextLink with a $skiptoken while
// more remain, and the page's value. Items carry @odata.type when odataType is set
// (collections of directoryObject).
func (e *Emulator) page(r *http.Request, lq *listQuery, src []*User, context string, odataType bool) ordered {
	matched := make([]*User, 0, min(len(src), 1024))
	for _, u := range src {
		if !slices.ContainsFunc(lq.match, func(f pred) bool { return !f(u) }) {
			matched = append(matched, u)
		}
	}
	if len(lq.order) > 0 {
		slices.SortStableFunc(matched, lq.less)
	}
	start := min(lq.offset, len(matched))
	end := min(start+lq.top, len(matched))
	value := make([]ordered, 0, end-start)
	for _, u := range matched[start:end] {
		item := projectUser(u, lq.sel, odataType)
		if lq.expand != nil {
			item = lq.expand.apply(item, lq.ts, u)
		}
		value = append(value, item)
	}
	body := ordered{{"@odata.context", e.url + "/v1.0/$metadata#" + context + selectSuffix(lq.sel)}}
	if lq.count && lq.first {
		body = append(body, kv{"@odata.count", len(matched)})
	}
	if end < len(matched) {
		body = append(body, kv{"@odata.nextLink", e.nextLink(r, end)})
	}
	return append(body, kv{"value", value})
}
