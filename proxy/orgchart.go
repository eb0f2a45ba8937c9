package proxy

import (
	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
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
// deactivated accounts.
func handleDirectReports(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, reports, ok := subjectReports(c, dir, odata.Entity)
		if !ok {
			return
		}
		value := make([]map[string]any, 0, len(reports))
		for _, r := range reports {
			d := dec.decide(c, policy.OpDirectReportsRead, r, q)
			item := project(r, d.Fields)
			item["@odata.type"] = userType
			value = append(value, item)
		}
		writeJSON(c, gin.H{"@odata.context": ln.context(c, "directoryObjects"), "value": value})
	}
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
