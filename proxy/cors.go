package proxy

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// CORS. Browsers call the gateway with bearer tokens that the page attaches itself; the
// gateway sets no cookie and honours none, so a cross-origin request carries no ambient
// authority, and the only question CORS answers here is which pages may read the answers
// (cors.allowed_origins). For those pages a preflight admits whatever request headers the
// browser asks for, each checked to be a header name: Graph clients add headers of their
// own, and a fixed list drops their requests in the browser. Seen in their sources:
//   - @microsoft/microsoft-graph-client 3.x: Authorization (AuthenticationHandler),
//     Retry-Attempt on every retry of a 429, 503 or 504 (RetryHandler), SdkVersion and
//     client-request-id (TelemetryHandler); github.com/microsoftgraph/msgraph-sdk-javascript
//     src/middleware/*.ts. A preflight that refused SdkVersion broke it in browsers:
//     https://github.com/microsoftgraph/msgraph-sdk-javascript/issues/109
//   - kiota-typescript (the Graph TypeScript SDK's HTTP layer): Retry-Attempt
//     (retryHandler.ts), User-Agent (userAgentHandler.ts), Content-Encoding: gzip
//     (compressionHandler.ts), Content-Type; msgraph-sdk-typescript-core adds SdkVersion
//     (GraphTelemetryHandler.ts). github.com/microsoft/kiota-typescript
//     packages/http/fetch/src/middlewares.
//   - Microsoft Graph Toolkit 4.x: X-PeopleQuery-QuerySources (mgt-components
//     graph.people.ts, graph.user.ts; https://learn.microsoft.com/en-us/graph/people-insights-overview),
//     ConsistencyLevel (graph.user.ts, graph.groups.ts), Cache-Control: no-store,
//     If-Match and Prefer (graph.todo.ts, graph.planner.ts), SdkVersion
//     (mgt-element SdkVersionMiddleware.ts), and any header of ProxyProvider's
//     getCustomHeaders.
//   - Tracing in browsers adds traceparent and tracestate (https://www.w3.org/TR/trace-context/).
// Authorization must be named in Access-Control-Allow-Headers: the "*" wildcard does not
// cover it (https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name), so
// the names asked for are reflected rather than answered with "*".
// Access-Control-Allow-Credentials is never sent.

// corsExposed are the response headers Graph clients read, exposed to pages on allowed
// origins (the CORS-safelisted ones, such as Content-Type, are readable anyway:
// https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name):
//   - Retry-After: RetryHandler waits as long as it says (msgraph-sdk-javascript
//     RetryHandler.getDelay, kiota-typescript retryHandler.ts; without it they guess);
//   - request-id, client-request-id, Date: what Graph's support asks for to find a request
//     (https://learn.microsoft.com/en-us/graph/errors; Graph Explorer could not show them
//     when not exposed: https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/995,
//     https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/2262);
//   - WWW-Authenticate: kiota's FetchRequestAdapter reads a claims challenge from a 401;
//   - ETag: the Toolkit compares a photo's ETag with the cached one (graph.userWithPhoto.ts);
//   - Location: kiota follows it on 3xx, upload sessions return it;
//   - Graphgate-Withheld-Fields: which asked-for fields the policy withheld.
var corsExposed = []string{"request-id", "client-request-id", "Date", "Retry-After",
	"WWW-Authenticate", "ETag", "Location", HeaderWithheld}

// CORS limits and answers.
const (
	corsAllowMethods = "GET, POST"
	corsMaxAge       = 10 * time.Minute
	// corsMaxRequestHeadersLen and corsMaxRequestHeaderNames bound
	// Access-Control-Request-Headers: the longest list a Graph client sends is under 200
	// bytes and a dozen names.
	corsMaxRequestHeadersLen  = 4096
	corsMaxRequestHeaderNames = 64
	msgCORSOriginRefused      = "The request's Origin is not allowed to call this gateway."
	msgCORSBadRequestHeaders  = "The preflight's Access-Control-Request-Headers is not a comma-separated list of header names."
	msgCORSLongRequestHeaders = "The preflight's Access-Control-Request-Headers is longer than this gateway accepts."
	msgCORSBadRequestMethod   = "The preflight's Access-Control-Request-Method is not an HTTP method."
)

// corsMiddleware lets pages on origins (["*"] = any) call the gateway from browsers. A
// cross-origin request from any other origin, preflight or not, is refused with 403 in
// Graph's error envelope; requests without Origin, and same-origin requests, pass. Every
// answer varies on Origin. With no origins configured it does nothing.
func corsMiddleware(origins []string) gin.HandlerFunc {
	if len(origins) == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	allowAll := slices.Contains(origins, "*")
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))] = true
	}
	exposed := strings.Join(corsExposed, ", ")
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin") // the answer depends on Origin, even when it is absent
		origin := c.GetHeader("Origin")
		host := c.Request.Host
		if origin == "" || origin == "http://"+host || origin == "https://"+host {
			c.Next()
			return
		}
		if !allowAll && !allowed[strings.ToLower(origin)] {
			abortWithError(c, errForbidden(msgCORSOriginRefused))
			return
		}
		allowOrigin := origin
		if allowAll {
			allowOrigin = "*"
		}
		if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
			preflight(c, allowOrigin)
			return
		}
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		h.Set("Access-Control-Expose-Headers", exposed)
		c.Next()
	}
}

// preflight answers a CORS preflight from an allowed origin: 204 admitting the methods
// the gateway serves and every request header asked for, or 400 in Graph's envelope when
// the browser's request is malformed (no browser sends such a preflight).
func preflight(c *gin.Context, allowOrigin string) {
	h := c.Writer.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if !isToken(c.Request.Header.Get("Access-Control-Request-Method")) {
		abortWithError(c, errBadRequest(msgCORSBadRequestMethod))
		return
	}
	names, err := requestedHeaders(c.Request.Header.Values("Access-Control-Request-Headers"))
	if err != nil {
		abortWithError(c, err)
		return
	}
	h.Set("Access-Control-Allow-Origin", allowOrigin)
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	if len(names) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(names, ", "))
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsMaxAge/time.Second)))
	c.AbortWithStatus(http.StatusNoContent)
}

// requestedHeaders parses Access-Control-Request-Headers (one or more field lines of
// comma-separated names, RFC 9110 §5.6.1: optional whitespace and empty elements
// allowed) into distinct lower-case names, refusing anything that is not a token or a
// list longer than the bounds.
func requestedHeaders(lines []string) ([]string, *apiError) {
	total := 0
	var names []string
	for _, line := range lines {
		if total += len(line); total > corsMaxRequestHeadersLen {
			return nil, errBadRequest(msgCORSLongRequestHeaders)
		}
		for _, name := range strings.Split(line, ",") {
			name = strings.ToLower(strings.Trim(name, " \t"))
			if name == "" || slices.Contains(names, name) {
				continue
			}
			if !isToken(name) {
				return nil, errBadRequest(msgCORSBadRequestHeaders)
			}
			if names = append(names, name); len(names) > corsMaxRequestHeaderNames {
				return nil, errBadRequest(msgCORSLongRequestHeaders)
			}
		}
	}
	return names, nil
}

// isToken reports whether s is an RFC 9110 §5.6.2 token (1*tchar), the syntax of header
// names and methods.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if !ok {
			return false
		}
	}
	return true
}
