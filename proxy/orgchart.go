package proxy

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

const userType = "#microsoft.graph.user"

// handleManager serves /me/manager and /users/{id}/manager. A deactivated manager is
// treated as no manager.
func handleManager(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, u, ok := subject(c, dir, odata.Entity)
		if !ok {
			return
		}
		sc := scopeOf(c)
		m, outcome, err := dir.Manager(c.Request.Context(), sc.tenantID(), u.ID())
		sc.setOutcome(outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		d := dec.decide(c, policy.OpManagerRead, m, q)
		body := project(m, d.Fields)
		body["@odata.type"] = userType
		body["@odata.context"] = ln.context(c, "directoryObjects/$entity")
		writeJSON(c, body)
	}
}

// handleDirectReports serves /me/directReports and /users/{id}/directReports, without
// deactivated accounts: pages of $top reports (all of them without $top) continued by
// an @odata.nextLink whose $skiptoken is graphgate's own (an offset into the cached
// list), and @odata.count on the first page for $count=true with ConsistencyLevel:
// eventual, as Graph pages and counts them.
func handleDirectReports(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, reports, ok := subjectReports(c, dir, odata.Reports)
		if !ok {
			return
		}
		from, err := reportsOffset(q.SkipToken, len(reports))
		if err != nil {
			abortWithError(c, err)
			return
		}
		to := len(reports)
		if q.Top > 0 {
			to = min(from+q.Top, to)
		}
		value := make([]map[string]any, 0, to-from)
		for _, r := range reports[from:to] {
			d := dec.decide(c, policy.OpDirectReportsRead, r, q)
			item := project(r, d.Fields)
			item["@odata.type"] = userType
			value = append(value, item)
		}
		body := gin.H{"@odata.context": ln.context(c, "directoryObjects"), "value": value}
		if q.Count && from == 0 && odata.Eventual(c.GetHeader(odata.ConsistencyLevelHeader)) {
			body["@odata.count"] = len(reports)
		}
		if to < len(reports) {
			body["@odata.nextLink"] = ln.base(c) + "/v1.0" + subjectPath(targetOf(c)) + "/directReports?" +
				q.Encode(strconv.Itoa(to))
		}
		writeJSON(c, body)
	}
}

// errReportsSkipToken answers a $skiptoken graphgate did not issue for this list.
var errReportsSkipToken = &apiError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery",
	Message: "Invalid $skiptoken: continue with the @odata.nextLink of the previous page."}

// reportsOffset reads a direct-reports $skiptoken: the offset of the next page.
func reportsOffset(token string, n int) (int, error) {
	if token == "" {
		return 0, nil
	}
	i, err := strconv.Atoi(token)
	if err != nil || i <= 0 || i >= n {
		return 0, errReportsSkipToken
	}
	return i, nil
}

// subjectPath writes a route's subject as a Graph path: /me, /users/{object id}, or a
// UPN in parentheses, the spelling that addresses every UPN.
func subjectPath(t odata.Target) string {
	switch {
	case t.Me:
		return "/me"
	case spec.IsObjectID(t.UserKey):
		return "/users/" + t.UserKey
	}
	return "/users" + spec.KeyInParentheses(t.UserKey)
}

// subjectReports begins a handler about the enabled direct reports of the route's user:
// it parses the route's query options, resolves the user and reads the reports. On
// failure it has already answered.
func subjectReports(c *gin.Context, dir *directory.Directory, allowed odata.Options) (odata.Query, []graph.User, bool) {
	q, u, ok := subject(c, dir, allowed)
	if !ok {
		return q, nil, false
	}
	sc := scopeOf(c)
	reports, outcome, err := dir.DirectReports(c.Request.Context(), sc.tenantID(), u.ID())
	sc.setOutcome(outcome)
	if err != nil {
		abortWithError(c, err)
		return q, nil, false
	}
	return q, reports, true
}
