// Package proxy is graphgate's gin gateway: a Graph-compatible, data-minimising read
// path. Every route is listed in routes.go; handlers ask for exactly their dependencies.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// Upstream is what the gateway needs from Microsoft Graph for one tenant.
// *graph.Client implements it.
type Upstream interface {
	User(ctx context.Context, idOrUPN string, fields []string) (graph.User, error)
	Users(ctx context.Context, q graph.Query) (graph.UserPage, error)
	Manager(ctx context.Context, id string, fields []string) (graph.User, error)
	DirectReports(ctx context.Context, id string, fields []string) ([]graph.User, error)
	Photo(ctx context.Context, id, size string) (graph.Photo, error)
	Presence(ctx context.Context, id string) (graph.Presence, error)
	Presences(ctx context.Context, ids []string) ([]graph.Presence, error)
	UsersByID(ctx context.Context, ids []string, fields []string) (map[string]graph.BatchResult, error)
	RevokeSignInSessions(ctx context.Context, id string) error
}

// TokenVerifier validates bearer tokens. *auth.Verifier implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, rawToken string) (auth.Principal, error)
	Ready() bool
}

// Tenant is one customer tenant the gateway serves.
type Tenant struct {
	ID       string // Entra tenant id (GUID), as in the tokens' tid claim
	Upstream Upstream
}

// Config configures a Server. Zero values of optional fields are safe defaults.
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
	// CORSOrigins lists the browser origins allowed to call the gateway ("*" = any).
	CORSOrigins []string
	// PublicURL is the gateway's external base URL (e.g. "https://graphgate.example.com"),
	// used in @odata.nextLink and @odata.context; empty means derived from each request's
	// Host header (and TLS), which the caller controls: a spoofed Host then comes back in
	// the links of that caller's own response (never cached: no-store), so a client that
	// follows nextLink blindly could be sent to another origin with its token. Set it in
	// every deployment behind a load balancer or reverse proxy.
	PublicURL string
	// ReadyChecks are extra readiness checks reported by /readyz (e.g. "redis").
	ReadyChecks map[string]func() error
	// Logger receives the access log and operational events; nil discards.
	Logger *slog.Logger
	// RateLimit configures per-user and per-client-app rate limits (zero = defaults).
	RateLimit RateLimitConfig
	// Privacy describes the deployment for the record of processing at /privacy.
	Privacy PrivacyConfig
	// Metrics receives the operator metrics (requests, upstream calls, cache); nil = off.
	// Serve Metrics.Handler() on a listener of its own, never on the API port.
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
	cfg     Config
	log     *slog.Logger
	tenants map[string]*tenantState
	cache   *cache.Cache[entry]
	fields  []string // upstream $select: union of fields any policy allows + internal
	engine  *gin.Engine
	limiter *rateLimiter
	notice  *privacyNotice
	// decisions memoises policy decisions per client, operation and $select.
	decisions *lru.Cache[decisionKey, policy.Decision]
}

// New validates cfg and builds the gateway.
func New(cfg Config) (*Server, error) {
	if cfg.Verifier == nil || cfg.Policy == nil {
		return nil, errors.New("proxy: verifier and policy are required")
	}
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("proxy: at least one tenant is required")
	}
	if cfg.UpstreamConcurrency <= 0 {
		cfg.UpstreamConcurrency = 16
	}
	if cfg.UpstreamQueueWait <= 0 {
		cfg.UpstreamQueueWait = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := cache.New[entry](cfg.Cache)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	s := &Server{cfg: cfg, log: log, cache: c, tenants: map[string]*tenantState{},
		fields: cfg.Policy.UpstreamFields(), limiter: newRateLimiter(cfg.RateLimit)}
	s.notice = newPrivacyNotice(cfg)
	if s.decisions, err = lru.New[decisionKey, policy.Decision](1024); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	for _, t := range cfg.Tenants {
		if t.ID == "" || t.Upstream == nil {
			return nil, errors.New("proxy: a tenant needs an id and an upstream")
		}
		t.Upstream = instrumentUpstream(t.Upstream, cfg.Metrics)
		s.tenants[t.ID] = newTenantState(t, cfg.UpstreamConcurrency, cfg.UpstreamQueueWait)
	}
	if err := cfg.Metrics.WatchCache("profiles", s.CacheStats); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if err := s.initSessions(); err != nil {
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the gateway's HTTP handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP routes a request after giving its path Graph's canonical casing: Graph's
// URLs are case-insensitive ("/Users/{id}/DirectReports").
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	r.URL.Path = canonicalPath(r.URL.Path)
	r.URL.RawPath = ""
	s.engine.ServeHTTP(w, r)
}

// CacheStats reports the profile cache's counters.
func (s *Server) CacheStats() cache.Stats { return s.cache.Stats() }

// PurgeUser drops every cached entry holding data of one user of one tenant.
func (s *Server) PurgeUser(tenantID, userID string) int { return s.cache.PurgeUser(tenantID, userID) }

// PurgeTenant drops every cached entry of one tenant.
func (s *Server) PurgeTenant(tenantID string) int { return s.cache.PurgeTenant(tenantID) }

// clientName is the policy name of a client app, or "other" for unknown apps; it is what
// logs and metrics record instead of raw app ids of unknown callers.
func (s *Server) clientName(appID string) string {
	if cl, ok := s.cfg.Policy.Client(appID); ok {
		return cl.Name
	}
	return "other"
}

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
