package proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/graphgate/graphgate/proxy/usage"
)

// Context keys set by the middleware.
const (
	ctxRequestID       = "graphgate.requestID"
	ctxClientRequestID = "graphgate.clientRequestID"
	ctxCacheOutcome    = "graphgate.cacheOutcome"
)

// HeaderWithheld lists, on a response, the requested fields the caller's policy withheld.
const HeaderWithheld = "Graphgate-Withheld-Fields"

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

// requestContext assigns the request id, echoes a well-formed client-request-id and sets
// the security headers every response carries.
func requestContext() gin.HandlerFunc {
	return func(c *gin.Context) {
		rid := uuid.NewString()
		c.Set(ctxRequestID, rid)
		crid := c.GetHeader("client-request-id")
		if !safeClientRequestID.MatchString(crid) {
			crid = rid
		}
		c.Set(ctxClientRequestID, crid)
		h := c.Writer.Header()
		h.Set("request-id", rid)
		h.Set("client-request-id", crid)
		for k, v := range securityHeaders {
			h[k] = v // shared, never appended to: cap == len
		}
		c.Next()
	}
}

func requestID(c *gin.Context) string       { return c.GetString(ctxRequestID) }
func clientRequestID(c *gin.Context) string { return c.GetString(ctxClientRequestID) }

// routeTemplate is the route a request matched, in Graph's notation ("GET /v1.0/users/{id}").
// It is what logs and metrics use instead of the raw path, which can hold a UPN.
func routeTemplate(c *gin.Context) string {
	key := routeKey{c.Request.Method, c.FullPath()}
	if t, ok := routeTemplates.Load(key); ok {
		return t.(string)
	}
	t := templateOf(key)
	if key.path != "" { // the set of matched routes is finite; unmatched methods are not cached
		routeTemplates.Store(key, t)
	}
	return t
}

// routeKey identifies a matched gin route.
type routeKey struct{ method, path string }

// routeTemplates memoises templateOf per matched route.
var routeTemplates sync.Map

// templateOf renders a gin route ("/v1.0/users/:id") in Graph's notation.
func templateOf(k routeKey) string {
	if k.path == "" {
		return k.method + " (unmatched)"
	}
	parts := strings.Split(k.path, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return k.method + " " + strings.Join(parts, "/")
}

// accessRecord is the one log record written per request. Its fields are the complete
// allow-list of what the access log may hold: nothing personal.
type accessRecord struct {
	Route        string
	Status       int
	Duration     time.Duration
	Tenant       string
	ClientApp    string
	CacheOutcome string
	RequestID    string
	ErrorCode    string
}

func (r accessRecord) attrs() []slog.Attr {
	a := []slog.Attr{
		slog.String("route", r.Route),
		slog.Int("status", r.Status),
		slog.Float64("duration_ms", float64(r.Duration.Microseconds())/1000),
		slog.String("request_id", r.RequestID),
	}
	if r.Tenant != "" {
		a = append(a, slog.String("tenant", r.Tenant))
	}
	if r.ClientApp != "" {
		a = append(a, slog.String("client_app", r.ClientApp))
	}
	if r.CacheOutcome != "" {
		a = append(a, slog.String("cache", r.CacheOutcome))
	}
	if r.ErrorCode != "" {
		a = append(a, slog.String("error_code", r.ErrorCode))
	}
	return a
}

// observe measures each request once and hands what it learnt to the three observers:
// the access log (one accessRecord), the operator metrics and, for authenticated
// callers, the anonymised usage recorder. None of them sees the raw path.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		rec := accessRecord{
			Route:        routeTemplate(c),
			Status:       c.Writer.Status(),
			Duration:     time.Since(start),
			RequestID:    requestID(c),
			CacheOutcome: c.GetString(ctxCacheOutcome),
		}
		p, known := principalOf(c)
		if known {
			rec.Tenant = p.TenantID
			rec.ClientApp = s.clientName(p.ClientAppID)
		}
		s.cfg.Metrics.ObserveRequest(rec.Route, rec.Status, rec.ClientApp, rec.Duration)
		if known && s.cfg.Usage != nil {
			// The recorder only hashes the oid, for counting distinct users.
			s.cfg.Usage.Record(usage.Event{Time: start.Add(rec.Duration), Tenant: rec.Tenant, ClientApp: rec.ClientApp,
				Operation: rec.Route, Status: rec.Status, Cache: rec.CacheOutcome, Latency: rec.Duration, UserKey: p.ObjectID})
		}
		logAccess(c, s.log, rec)
	}
}

// logAccess writes the request's access record: info, or warn for server-side errors.
func logAccess(c *gin.Context, log *slog.Logger, rec accessRecord) {
	level := slog.LevelInfo
	if len(c.Errors) > 0 {
		if ae, ok := c.Errors.Last().Err.(*apiError); ok {
			rec.ErrorCode = ae.Code
			if ae.Status >= 500 {
				level = slog.LevelWarn
			}
		}
	}
	if ctx := c.Request.Context(); log.Enabled(ctx, level) {
		log.LogAttrs(ctx, level, "request", rec.attrs()...)
	}
}

// recoverer turns a panic into a 500 in Graph's envelope. The panic value is logged by
// type only: its text could hold request data.
func recoverer(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic in handler", slog.String("route", routeTemplate(c)),
					slog.String("panic_type", fmt.Sprintf("%T", v)), slog.String("request_id", requestID(c)))
				abortWithError(c, errInternal(fmt.Errorf("panic")))
			}
		}()
		c.Next()
	}
}

// corsMiddleware allows browser clients on the configured origins to call the gateway
// with the headers Graph clients send. A request from any other origin (preflight or
// not) is refused with 403 in Graph's error envelope, not with gin-contrib/cors's empty
// 403; requests without Origin, and same-origin requests, pass as before.
func corsMiddleware(origins []string) gin.HandlerFunc {
	if len(origins) == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	allowAll := len(origins) == 1 && origins[0] == "*"
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.ToLower(strings.TrimSpace(o))] = true // as gin-contrib/cors normalises them
	}
	originOK := func(origin string) bool { return allowAll || allowed[origin] }
	cfg := cors.Config{
		AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders: []string{"Authorization", "ConsistencyLevel", "Content-Type",
			"client-request-id", "SdkVersion", "return-client-request-id", "Prefer", "Cache-Control"},
		ExposeHeaders: []string{"request-id", "client-request-id", "Retry-After", HeaderWithheld,
			"WWW-Authenticate", "Content-Type"},
		MaxAge: 10 * time.Minute,
	}
	if allowAll {
		cfg.AllowAllOrigins = true
	} else {
		cfg.AllowOrigins, cfg.AllowOriginFunc = origins, originOK // the check below is the one authority
	}
	handle := cors.New(cfg)
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		host := c.Request.Host
		cross := origin != "" && origin != "http://"+host && origin != "https://"+host
		if cross && !originOK(origin) {
			abortWithError(c, errForbidden("The request's Origin is not allowed to call this gateway."))
			return
		}
		handle(c)
	}
}
