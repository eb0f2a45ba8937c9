package proxy

import (
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/auth"
)

// HeaderWithheld lists, on a response, the requested fields the caller's policy withheld.
const HeaderWithheld = "Graphgate-Withheld-Fields"

// scope is what the middleware learns about one request, set once by the stage that
// learns it and read by the later ones through the accessors below. It is the only
// value the gateway keeps in gin's context.
type scope struct {
	requestID       string // random, per request
	clientRequestID string // the client's, if well formed, else requestID

	principal     auth.Principal // the verified token; zero until authenticated
	authenticated bool
	client        *policy.Client // the caller's policy entry (read path only)

	cacheOutcome cache.Outcome // for the access log and usage counting
	withheld     []string      // requested fields the policy withheld
	audit        auditNote     // what an admin handler reports for its audit record
}

// scopeKey is the gin context key of the request's scope.
type scopeKey struct{}

// scopeOf returns the request's scope; a request that did not pass requestContext (a
// test engine) gets an empty one.
func scopeOf(c *gin.Context) *scope {
	if v, ok := c.Get(scopeKey{}); ok {
		return v.(*scope)
	}
	sc := &scope{}
	c.Set(scopeKey{}, sc)
	return sc
}

// setPrincipal records the verified caller.
func (sc *scope) setPrincipal(p auth.Principal) { sc.principal, sc.authenticated = p, true }

// tenantID is the caller's tenant ("" before authentication).
func (sc *scope) tenantID() string { return sc.principal.TenantID }

// setOutcome records the cache outcome of the request's main read.
func (sc *scope) setOutcome(o cache.Outcome) {
	if o != "" {
		sc.cacheOutcome = o
	}
}

// safeClientRequestID accepts the client-request-id values real Graph clients send (GUIDs
// and similar tokens); anything else is replaced so it cannot smuggle data into logs.
var safeClientRequestID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// securityHeaders are set on every response, in canonical form.
var securityHeaders = map[string][]string{
	"Cache-Control":             {"no-store"},
	"Pragma":                    {"no-cache"},
	"X-Content-Type-Options":    {"nosniff"},
	"X-Frame-Options":           {"DENY"},
	"Referrer-Policy":           {"no-referrer"},
	"Strict-Transport-Security": {"max-age=31536000"},
}

// requestContext creates the request's scope: it assigns the request id, echoes a
// well-formed client-request-id and sets the security headers every response carries.
func requestContext() gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := &scope{requestID: uuid.NewString()}
		sc.clientRequestID = c.GetHeader("client-request-id")
		if !safeClientRequestID.MatchString(sc.clientRequestID) {
			sc.clientRequestID = sc.requestID
		}
		c.Set(scopeKey{}, sc)
		h := c.Writer.Header()
		h.Set("request-id", sc.requestID)
		h.Set("client-request-id", sc.clientRequestID)
		for k, v := range securityHeaders {
			h[k] = v // shared, never appended to: cap == len
		}
		c.Next()
	}
}

// noteWithheld adds fields to the request's withheld list and to the response header
// that reports it.
func noteWithheld(c *gin.Context, withheld []string) {
	if len(withheld) == 0 {
		return
	}
	sc := scopeOf(c)
	added := false
	for _, f := range withheld {
		if !slices.ContainsFunc(sc.withheld, func(w string) bool { return strings.EqualFold(w, f) }) {
			sc.withheld, added = append(sc.withheld, f), true
		}
	}
	if added {
		c.Writer.Header().Set(HeaderWithheld, strings.Join(sc.withheld, ","))
	}
}
