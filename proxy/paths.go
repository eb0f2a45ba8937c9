package proxy

import (
	"strings"

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

// unroutable is the path a Graph request whose path the grammar refused is routed to: no
// route has it, so the engine's NoRoute handler answers with the grammar's error.
const unroutable = "/v1.0/{unparsable}"

// isGraphPath reports whether a request path is one of Graph's (under /v1.0 or /beta,
// in any casing), to be read by the URL grammar.
func isGraphPath(path string) bool {
	p := strings.ToLower(path)
	return p == "/v1.0" || p == "/beta" || strings.HasPrefix(p, "/v1.0/") || strings.HasPrefix(p, "/beta/")
}

// pathOf returns the request's parsed Graph path; ok is false for a request that did
// not come through Server.serveHTTP's grammar (graphgate's own APIs).
func pathOf(c *gin.Context) (parsedPath, bool) {
	p, ok := c.Request.Context().Value(targetKey{}).(parsedPath)
	return p, ok
}

// handleNoRoute answers a request no route matched: with the URL grammar's error for a
// Graph path it refused, else with Graph's answer for an unknown resource.
func handleNoRoute(c *gin.Context) {
	if p, ok := pathOf(c); ok && p.err != nil {
		abortWithError(c, p.err)
		return
	}
	abortWithError(c, errNoRoute)
}
