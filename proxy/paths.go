package proxy

import (
	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/odata"
)

// targetKey is the request-context key of the parsed Graph path (a parsedPath), set by
// Server.serveHTTP before routing.
type targetKey struct{}

// parsedPath is what proxy/odata made of a Graph request path.
type parsedPath struct {
	target odata.Target
	err    error
}

// unroutable is the route of a Graph request whose path the grammar refused, or whose
// target no route serves: handleGrammarError answers it, after authentication and rate
// limiting as for any Graph request. No spelling of a path can reach it otherwise.
const unroutable = "/v1.0/{unparsable}"

// pathOf returns the request's parsed Graph path; ok is false for a request that did
// not come through Server.serveHTTP's grammar (graphgate's own APIs).
func pathOf(c *gin.Context) (parsedPath, bool) {
	p, ok := c.Request.Context().Value(targetKey{}).(parsedPath)
	return p, ok
}

// handleGrammarError answers a Graph request routed to unroutable with the URL
// grammar's error.
func handleGrammarError(c *gin.Context) {
	if p, ok := pathOf(c); ok && p.err != nil {
		abortWithError(c, p.err)
		return
	}
	abortWithError(c, errNoRoute)
}
