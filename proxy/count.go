package proxy

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// errCountNeedsEventual is Graph's answer to a $count segment on directory objects
// without ConsistencyLevel: eventual: counting is an advanced query.
// See https://learn.microsoft.com/graph/aad-advanced-queries#support-for-count-on-directory-objects.
var errCountNeedsEventual = &apiError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
	Message: "$count is not currently supported."}

// errNoCount is an upstream answer to a count query without @odata.count.
var errNoCount = errors.New("proxy: Graph answered a count query without @odata.count")

// writeCount answers a $count segment as Graph does: the number as text/plain.
func writeCount(c *gin.Context, n int64) {
	c.Data(http.StatusOK, "text/plain", []byte(strconv.FormatInt(n, 10)))
}

// countQuery parses the query options a $count segment takes and checks
// ConsistencyLevel: eventual.
func countQuery(c *gin.Context, allowed odata.Options) (odata.Query, error) {
	q, err := parseQuery(c, allowed)
	if err != nil {
		return q, err
	}
	return q, needEventual(c)
}

// needEventual refuses a $count segment without ConsistencyLevel: eventual.
func needEventual(c *gin.Context) error {
	if !odata.Eventual(c.GetHeader(odata.ConsistencyLevelHeader)) {
		return errCountNeedsEventual
	}
	return nil
}

// handleUserCount serves GET /users/$count (as the Graph SDKs' count builders call it):
// the number of enabled users matching the caller's $filter and $search, which the
// caller's policy checks as for a list. Deactivated accounts are not counted.
func handleUserCount(dir *directory.Directory) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := scopeOf(c)
		q, err := countQuery(c, odata.OptSearch|odata.OptFilter)
		if err != nil {
			abortWithError(c, err)
			return
		}
		lq, err := q.ForList(sc.client, true)
		if err != nil {
			abortWithError(c, err)
			return
		}
		noteWithheld(c, lq.Withheld)
		page, outcome, err := dir.Users(c.Request.Context(), sc.tenantID(), graph.Query{Search: lq.Search,
			Filter: lq.Filter, Top: 1, Count: true})
		sc.setOutcome(outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		if page.Count == nil {
			abortWithError(c, errInternal(errNoCount))
			return
		}
		writeCount(c, *page.Count)
	}
}

// handleDirectReportsCount serves GET {user}/directReports/$count: the number of the
// user's enabled direct reports.
func handleDirectReportsCount(dir *directory.Directory) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := needEventual(c); err != nil {
			abortWithError(c, err)
			return
		}
		_, reports, ok := subjectReports(c, dir, odata.None) // parses the (no) options
		if !ok {
			return
		}
		writeCount(c, int64(len(reports)))
	}
}
