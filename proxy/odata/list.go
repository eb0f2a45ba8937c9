package odata

import (
	"fmt"

	"github.com/graphgate/graphgate/policy"
)

// DefaultTop is the page size of a user list without $top.
const DefaultTop = 100

// enabledOnly is the filter added to every user list: deactivated accounts are filtered
// out by Graph itself, so that counts and pages do not reveal them.
const enabledOnly = "accountEnabled eq true"

// ListQuery is a user list query checked against a client app's policy, ready to be sent
// to Graph: its $search, $filter and $orderby are the policy's normalized forms.
type ListQuery struct {
	// Search, Filter and OrderBy are normalized by the policy; Filter always holds
	// "accountEnabled eq true", alone or and-ed with the caller's filter.
	Search, Filter, OrderBy string
	// Top is the page size, 1..MaxTop.
	Top int
	// Count is always true: every list is an advanced query (see ForList).
	Count bool
	// ReportCount reports whether the answer carries @odata.count: $count=true with
	// ConsistencyLevel: eventual. Graph silently ignores $count=true without the header
	// (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects).
	ReportCount bool
	// SkipToken continues a listing: Graph's opaque token, passed unchanged.
	SkipToken string
	// Withheld lists the hidden properties of the $search clauses left out (operands of
	// an OR that keeps a visible one; see policy.Client.CheckSearch), for the answer to
	// report as withheld.
	Withheld []string
}

// ForList checks q's list options against the client app's policy and returns the query
// to send to Graph. eventual reports whether the request carried ConsistencyLevel:
// eventual (see Eventual), which $search needs (without it the error's code is
// CodeUnsupportedQuery, Graph's answer) and without which $count=true is ignored, as
// Graph ignores it. $search, $filter and $orderby must pass cl.CheckSearch (about
// others; the search clauses it leaves out are in Withheld), cl.CheckFilter and
// cl.CheckOrderBy, or the error's code is CodeBadRequest.
// The filter "accountEnabled eq true" is always added and Top defaults to DefaultTop.
// Errors are *Error.
// See https://learn.microsoft.com/graph/aad-advanced-queries.
func (q Query) ForList(cl *policy.Client, eventual bool) (ListQuery, error) {
	if q.Search != "" && !eventual {
		return ListQuery{}, &Error{Code: CodeUnsupportedQuery,
			Message: "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"}
	}
	lq := ListQuery{Top: q.Top, SkipToken: q.SkipToken, Filter: enabledOnly}
	lq.ReportCount = q.Count && eventual
	var err error
	if q.Search != "" {
		if lq.Search, lq.Withheld, err = cl.CheckSearch(q.Search, false); err != nil {
			return ListQuery{}, badRequest(fmt.Sprintf("Invalid $search: %v", err))
		}
	}
	if q.Filter != "" {
		f, err := cl.CheckFilter(q.Filter)
		if err != nil {
			return ListQuery{}, badRequest(fmt.Sprintf("Invalid $filter: %v", err))
		}
		if f != "" { // a blank $filter adds nothing
			lq.Filter = enabledOnly + " and (" + f + ")"
		}
	}
	if q.OrderBy != "" {
		if lq.OrderBy, err = cl.CheckOrderBy(q.OrderBy); err != nil {
			return ListQuery{}, badRequest(fmt.Sprintf("Invalid $orderby: %v", err))
		}
	}
	if lq.Top == 0 {
		lq.Top = DefaultTop
	}
	// The accountEnabled filter makes every list an advanced query in Graph's terms
	// (ne, not, $orderby with $filter...): ask as one, with a count.
	lq.Count = true
	return lq, nil
}
