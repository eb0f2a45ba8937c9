// Package proxy is graphgate's gin layer: a Graph-compatible, data-minimising read path,
// the admin and usage APIs and the transparency pages. Every route is listed in
// routes.go; handler makers ask for exactly their dependencies. Data comes from
// proxy/directory, query options are parsed by proxy/odata, and errors.go maps domain
// errors to Graph's error envelope.
package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/odata"
	"github.com/graphgate/graphgate/proxy/privacy"
	"github.com/graphgate/graphgate/proxy/ratelimit"
)

// Upstream is what the gateway needs from Microsoft Graph for one tenant.
// *graph.Client implements it.
type Upstream = directory.Upstream

// Tenant is one customer tenant the gateway serves.
type Tenant = directory.Tenant

// RateLimitConfig configures the per-user and per-client-app rate limits.
type RateLimitConfig = ratelimit.Config

// PrivacyConfig describes the deployment for the record of processing at /privacy.
type PrivacyConfig = privacy.Config

// TokenVerifier validates bearer tokens. *auth.Verifier implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, rawToken string) (auth.Principal, error)
	Ready() bool
}

// AuditSink receives one record per admin action. *audit.Logger implements it.
type AuditSink interface {
	Emit(audit.Event) error
}

// Config configures a Server. Zero values of optional fields are safe defaults. New
// copies what it needs: changing a Config after New has no effect.
type Config struct {
	Tenants  []Tenant       // required: the allowed tenants
	Verifier TokenVerifier  // required
	Policy   *policy.Policy // required
	Cache    cache.Config   // TTL defaults to 60s, at most 10 min

	// UpstreamConcurrency bounds concurrent calls to Graph per tenant (default 16).
	UpstreamConcurrency int
	// UpstreamQueueWait is how long a request waits for an upstream slot before it is
	// answered 503 with Retry-After (default 2s).
	UpstreamQueueWait time.Duration
	// UpstreamTimeout bounds all the upstream work of one request, however many Graph
	// calls it makes (default DefaultUpstreamTimeout, 10s): the request's context carries
	// the deadline, and a request that reaches it is answered 503 (see requestDeadline).
	UpstreamTimeout time.Duration
	// CORSOrigins lists the browser origins allowed to call the gateway ("*" = any).
	CORSOrigins []string
	// PublicURL is the gateway's external base URL (e.g. "https://graphgate.example.com"),
	// used in @odata.nextLink and @odata.context; empty means derived from each request's
	// Host header (and TLS), which the caller controls: a spoofed Host then comes back in
	// the links of that caller's own response (never cached: no-store), so a client that
	// follows nextLink blindly could be sent to another origin with its token. Set it in
	// every deployment behind a load balancer or reverse proxy.
	PublicURL string
	// ReadyChecks are extra readiness checks reported by /readyz (e.g. "revocation"):
	// while one fails, the instance is not ready.
	ReadyChecks map[string]func() error
	// StatusChecks are reported by /readyz but never fail readiness: parts whose outage
	// costs nothing while it lasts (e.g. "usage_store": counts are kept and written when
	// the store is back).
	StatusChecks map[string]func() error
	// Logger receives the access log and operational events; nil discards.
	Logger *slog.Logger
	// RateLimit configures per-user and per-client-app rate limits (zero = defaults).
	RateLimit RateLimitConfig
	// Privacy describes the deployment for the record of processing at /privacy.
	Privacy PrivacyConfig
	// Metrics receives the operator metrics (requests, cache); nil = off. Upstream calls
	// are counted by the graph clients' OnCall hook. Serve Metrics.Handler() on a
	// listener of its own, never on the API port.
	Metrics *metrics.Metrics
	// Usage receives one anonymised usage event per authenticated request (nil = usage
	// counting off). *usage.Recorder implements it.
	Usage UsageRecorder
	// UsageReports serves the analysts' usage API under /usage/v1 (nil = no usage API).
	// *usage.Reader implements it.
	UsageReports UsageReports
	// Revocations is the per-user revocation list (remote logout): checked on every
	// request, written by the admin API. nil means an in-memory list of this instance
	// only, with the default lock-out and a random hashing key. *revoke.Redis shares it
	// between instances.
	Revocations Revocations
	// Audit receives one record per admin action (a sink of its own, apart from the
	// access log); nil discards them. *audit.Logger implements it.
	Audit AuditSink
}

// Server is the gateway. Create it with New and serve Handler().
type Server struct {
	dir      *directory.Directory
	engine   *gin.Engine
	served   map[string]bool // the engine's Graph routes
	draining atomic.Bool     // set by Drain
}

// New validates cfg and builds the gateway.
func New(cfg Config) (*Server, error) {
	if cfg.Verifier == nil || cfg.Policy == nil {
		return nil, errors.New("proxy: verifier and policy are required")
	}
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("proxy: at least one tenant is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit == nil {
		cfg.Audit = discardAudit{}
	}
	if cfg.Revocations == nil {
		var err error
		if cfg.Revocations, err = newLocalRevocations(); err != nil {
			return nil, err
		}
	}
	dir, err := directory.New(directory.Config{Tenants: cfg.Tenants, Cache: cfg.Cache,
		Fields: cfg.Policy.UpstreamFields(), Concurrency: cfg.UpstreamConcurrency, QueueWait: cfg.UpstreamQueueWait})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if err := cfg.Metrics.WatchCache("profiles", dir.Stats); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	revs := cfg.Revocations
	revs.Subscribe(revoke.Subscriber{
		UserRevoked:  func(tenantID, key string) { purgeUserByKey(dir, revs, tenantID, key) },
		TenantPurged: func(tenantID string) { dir.PurgeTenant(tenantID) },
	})
	s := &Server{dir: dir}
	if s.engine, err = routes(cfg, dir, http.HandlerFunc(s.serveHTTP), s.draining.Load); err != nil {
		return nil, err
	}
	s.served = map[string]bool{}
	for _, r := range s.engine.Routes() {
		s.served[r.Path] = odata.IsGraphPath(r.Path)
	}
	return s, nil
}

// Handler returns the gateway's HTTP handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP routes a request. A Graph path (under /v1.0 or /beta) is first read by
// proxy/odata's URL grammar, the one reader of every spelling Graph accepts (any casing,
// keys as a segment or in parentheses, percent-encoded or not, qualified names); the
// engine then routes the target's canonical route, which holds no key, and handlers read
// the key from the target. A path the grammar refuses, or a target no route serves (Graph
// has it, graphgate does not offer it), is routed to unroutable and answered with the
// grammar's error. Direct requests and $batch items both come through here.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		// Tell keep-alive clients to reconnect (to another instance) after this answer,
		// as production proxies do while draining: net/http closes the connection once
		// the response is written, so no request is lost on a connection closed under it.
		w.Header().Set("Connection", "close")
	}
	if odata.IsGraphPath(r.URL.Path) {
		t, err := odata.ParsePath(r.URL.EscapedPath())
		if err == nil && !s.served[t.Route()] {
			err = odata.ErrNotOffered
		}
		r = r.WithContext(context.WithValue(r.Context(), targetKey{}, parsedPath{t, err}))
		u := *r.URL // the caller's request keeps its URL
		u.Path, u.RawPath = unroutable, ""
		if err == nil {
			u.Path = t.Route()
		}
		r.URL = &u
	}
	s.engine.ServeHTTP(w, r)
}

// Drain starts a graceful stop: from now on /readyz answers 503 (so load balancers stop
// sending new connections) while every request is still served, each answer with
// "Connection: close" so that keep-alive clients move to another instance. The caller
// shuts the HTTP server down after its drain period. Drain is idempotent.
func (s *Server) Drain() { s.draining.Store(true) }

// CacheStats reports the profile cache's counters.
func (s *Server) CacheStats() cache.Stats { return s.dir.Stats() }

// PurgeUser drops every cached entry holding data of one user of one tenant.
func (s *Server) PurgeUser(tenantID, userID string) int { return s.dir.PurgeUser(tenantID, userID) }

// PurgeTenant drops every cached entry of one tenant.
func (s *Server) PurgeTenant(tenantID string) int { return s.dir.PurgeTenant(tenantID) }

// newLocalRevocations is the default revocation list: this instance's memory, with a
// random hashing key.
func newLocalRevocations() (Revocations, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("proxy: revocation key: %w", err)
	}
	m, err := revoke.NewMemory(revoke.Config{Secret: secret})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return m, nil
}

// discardAudit is the AuditSink used when none is configured.
type discardAudit struct{}

func (discardAudit) Emit(audit.Event) error { return nil }

func newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.UseRawPath = false
	e.ContextWithFallback = true
	return e
}
