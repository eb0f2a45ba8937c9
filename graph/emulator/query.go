package emulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// queryError is a 400 answer to a bad OData query option.
type queryError struct {
	code, msg string
}

func (q *queryError) Error() string { return q.msg }

func badRequest(msg string) *queryError  { return &queryError{"BadRequest", msg} }
func unsupported(msg string) *queryError { return &queryError{"Request_UnsupportedQuery", msg} }
func unknownProp(name string) *queryError {
	return badRequest("Could not find a property named '" + name + "' on type 'microsoft.graph.user'.")
}

// unsupportedFilter refuses a property, or an operator on it, that $filter does not
// support. Graph documents this answer: "If a property has not been indexed to support
// a query parameter, even if the advanced query parameters are specified, the request
// returns an error" (Request_UnsupportedQuery, "Unsupported or invalid query filter
// clause specified for property 'createdDateTime' of resource 'Group'."):
// https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects
func unsupportedFilter(name string) *queryError {
	return unsupported("Unsupported or invalid query filter clause specified for property '" + name + "' of resource 'User'.")
}

// needsAdvanced refuses an operator supported only in advanced queries. Graph
// documents: "If a property or query parameter in the URL is supported only in
// advanced queries but either the ConsistencyLevel header or the $count=true query
// string is missing, the request returns an error" with this code and message:
// https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects
func needsAdvanced(op string) *queryError {
	return unsupported("Operator '" + op + "' is not supported because the required parameters might be missing. " +
		"Try adding $count=true query parameter and ConsistencyLevel:eventual header. " +
		"Refer to https://aka.ms/graph-docs/advanced-queries for more information")
}

// Page sizes of directory collections (/users, /users/{id}/directReports).
const (
	defaultTop = 100
	maxTop     = 999
)

// parseTop reads $top: a non-integer or negative value is an OData syntax error
// (BadRequest, Microsoft.OData's message); an integer outside 1..999 is refused with
// Request_UnsupportedQuery "Invalid page size specified: '1000'. Must be between 1 and
// 999 inclusive.", the answer Graph gives for directory collections (documented only
// as "Microsoft Graph might return an error" for a page size over the maximum:
// https://learn.microsoft.com/graph/paging; 999 is the largest page of List users:
// https://learn.microsoft.com/graph/api/user-list).
func parseTop(r *http.Request) (int, *queryError) {
	v, ok := option(r.URL.Query(), "top")
	if !ok {
		return defaultTop, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("Invalid value '" + v + "' for $top query option found. The $top query option requires a non-negative integer value.")
	}
	if n < 1 || n > maxTop {
		return 0, unsupported("Invalid page size specified: '" + v + "'. Must be between 1 and 999 inclusive.")
	}
	return n, nil
}

// writeQueryError writes err in Graph's envelope.
func writeQueryError(w http.ResponseWriter, r *http.Request, err *queryError) {
	graphError(w, r, http.StatusBadRequest, err.code, err.msg)
}

// option returns a system query option, accepting "$name" and "name" in any case.
func option(q url.Values, name string) (string, bool) {
	for k, v := range q {
		if strings.EqualFold(strings.TrimPrefix(k, "$"), name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// eventual reports whether the request carries ConsistencyLevel: eventual.
func eventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

// parseSelect parses $select into canonical property names (nil when absent) and
// records the raw list in the request log.
func parseSelect(r *http.Request) ([]string, *queryError) {
	raw, ok := option(r.URL.Query(), "select")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	sel, logged, qerr := selectList(raw)
	if qerr != nil {
		return nil, qerr
	}
	state(r).selects = logged
	return sel, nil
}

// selectList parses a comma-separated $select list into canonical property names
// (without repeats) and the names as sent.
func selectList(raw string) (sel, logged []string, qerr *queryError) {
	seen := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, ok := userProps[strings.ToLower(f)]
		if !ok {
			return nil, nil, unknownProp(f)
		}
		logged = append(logged, f)
		if !seen[p.name] {
			seen[p.name] = true
			sel = append(sel, p.name)
		}
	}
	return sel, logged, nil
}

// selectSuffix renders "(a,b)" for @odata.context ("" without $select).
func selectSuffix(sel []string) string {
	if sel == nil {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}
