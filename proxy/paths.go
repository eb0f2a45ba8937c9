package proxy

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// caseFolder gives request paths Graph's canonical casing before routing: Graph's URLs
// are case-insensitive ("/Users/{id}/DirectReports"). Its words are the static segments
// of the engine's Graph routes (under /v1.0 and /beta), so a new Graph route is
// case-insensitive without more code; graphgate's own APIs (/admin, /usage, /privacy)
// keep their exact spelling.
type caseFolder map[string]string // lower-cased segment -> the routes' casing

// newCaseFolder collects the static segments of the engine's Graph routes.
func newCaseFolder(routes gin.RoutesInfo) caseFolder {
	f := caseFolder{}
	for _, r := range routes {
		if !isGraphRoute(r.Path) {
			continue
		}
		for _, seg := range strings.Split(r.Path, "/") {
			if seg != "" && seg[0] != ':' && seg[0] != '*' {
				f[strings.ToLower(seg)] = seg
			}
		}
	}
	return f
}

// canonical rewrites known static segments of path to the routes' casing. Path
// parameters (ids, UPNs, sizes) are left as they are: a segment right after "users" is
// a user key, never rewritten.
func (f caseFolder) canonical(path string) string {
	parts := strings.Split(path, "/")
	changed := false
	for i, p := range parts {
		if c, ok := f[strings.ToLower(p)]; ok && c != p {
			if i > 0 && strings.EqualFold(parts[i-1], "users") {
				continue
			}
			parts[i], changed = c, true
		}
	}
	if !changed {
		return path
	}
	return strings.Join(parts, "/")
}

// isGraphRoute reports whether a route path is one of Graph's (under /v1.0 or /beta).
func isGraphRoute(path string) bool {
	return strings.HasPrefix(path, "/v1.0/") || strings.HasPrefix(path, "/beta/")
}
