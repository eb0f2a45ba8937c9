package proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/usage"
)

// UsageRecorder receives one anonymised event per authenticated request (see observe).
// *usage.Recorder implements it; Record must not block.
type UsageRecorder interface {
	Record(ev usage.Event)
}

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
func observe(log *slog.Logger, pol *policy.Policy, m *metrics.Metrics, rec UsageRecorder) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		sc := scopeOf(c)
		r := accessRecord{
			Route:        routeTemplate(c),
			Status:       c.Writer.Status(),
			Duration:     time.Since(start),
			RequestID:    sc.requestID,
			CacheOutcome: string(sc.cacheOutcome),
		}
		p := sc.principal
		if sc.authenticated {
			r.Tenant = p.TenantID
			r.ClientApp = clientName(pol, p.ClientAppID)
		}
		m.ObserveRequest(r.Route, r.Status, r.ClientApp, r.Duration)
		if sc.authenticated && rec != nil {
			// The recorder only hashes the oid, for counting distinct users.
			rec.Record(usage.Event{Time: start.Add(r.Duration), Tenant: r.Tenant, ClientApp: r.ClientApp,
				Operation: r.Route, Status: r.Status, Cache: r.CacheOutcome, Latency: r.Duration, UserKey: p.ObjectID})
		}
		logAccess(c, log, r)
	}
}

// clientName is the policy name of a client app, or "other" for unknown apps; it is what
// logs and metrics record instead of raw app ids of unknown callers.
func clientName(pol *policy.Policy, appID string) string {
	if cl, ok := pol.Client(appID); ok {
		return cl.Name
	}
	return "other"
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
					slog.String("panic_type", fmt.Sprintf("%T", v)), slog.String("request_id", scopeOf(c).requestID))
				abortWithError(c, errInternal(fmt.Errorf("panic")))
			}
		}()
		c.Next()
	}
}
