package proxy

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/privacy"
	"github.com/graphgate/graphgate/proxy/ratelimit"
	"github.com/graphgate/graphgate/proxy/usage/dashboard"
)

// routes builds the engine: the gateway's whole API surface. dispatch is the gateway's
// own handler, through which $batch items are served.
func routes(cfg Config, dir *directory.Directory, dispatch http.Handler, draining func() bool) (*gin.Engine, error) {
	dec, err := newDecider()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	lim := ratelimit.New(cfg.RateLimit)
	ln := links{publicURL: cfg.PublicURL}
	who := &callers{verifier: cfg.Verifier, policy: cfg.Policy, dir: dir, revs: cfg.Revocations,
		metrics: cfg.Metrics, log: cfg.Logger}
	// The record states the fields the directory asks Graph for: their one owner.
	notice := privacy.NewNotice(cfg.Policy, dir.Fields(), cfg.Cache, cfg.Privacy)

	e := newEngine()
	e.Use(recoverer(cfg.Logger), requestContext(), observe(cfg.Logger, cfg.Policy, cfg.Metrics, cfg.Usage),
		corsMiddleware(cfg.CORSOrigins), requestLimits(), requestDeadline(cfg.UpstreamTimeout))
	e.NoRoute(func(c *gin.Context) { abortWithError(c, errNoRoute) })
	e.NoMethod(func(c *gin.Context) { abortWithError(c, errMethodNotAllowed) })

	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(cfg.Verifier, maps.Clone(cfg.ReadyChecks), maps.Clone(cfg.StatusChecks), draining))

	// Transparency: the record of processing (public) and the data subject's own export.
	e.GET("/privacy", handlePrivacy(notice))
	e.GET("/privacy/v1/me/export", requestBody(), who.authenticate(), rateLimit(lim),
		handleExport(dir, notice, exportRevocations(cfg)))

	// Graph routes are canonical routes of proxy/odata's URL grammar (odata.Target.Route):
	// Server.serveHTTP reads every spelling of a path into one of these; {id} and {size}
	// are literal placeholders, the values are in the request's target.
	v1 := e.Group("/v1.0", requestBody(), who.authenticate(), rateLimit(lim))
	v1.GET("/me", require(policy.OpMeRead), handleUser(dir, dec, ln))
	v1.GET("/users", require(policy.OpUsersList), handleUserList(dir, dec, ln))
	v1.GET("/users/$count", require(policy.OpUsersList), handleUserCount(dir))
	v1.GET("/users/{id}", requireAny(policy.OpUsersRead, policy.OpMeRead), handleUser(dir, dec, ln))
	for _, subject := range []string{"/me", "/users/{id}"} {
		v1.GET(subject+"/photo", require(policy.OpPhotoRead), handlePhotoMeta(dir, ln))
		v1.GET(subject+"/photo/$value", require(policy.OpPhotoRead), handlePhotoValue(dir))
		v1.GET(subject+"/photos/{size}", require(policy.OpPhotoRead), handlePhotoMeta(dir, ln))
		v1.GET(subject+"/photos/{size}/$value", require(policy.OpPhotoRead), handlePhotoValue(dir))
		v1.GET(subject+"/manager", require(policy.OpManagerRead), handleManager(dir, dec, ln))
		v1.GET(subject+"/directReports", require(policy.OpDirectReportsRead), handleDirectReports(dir, dec, ln))
		v1.GET(subject+"/directReports/$count", require(policy.OpDirectReportsRead), handleDirectReportsCount(dir))
		v1.GET(subject+"/presence", require(policy.OpPresenceRead), handlePresence(dir, ln))
		v1.GET(subject+"/people", require(policy.OpPeopleRead), handlePeople(dir, dec, ln))
	}
	v1.POST("/communications/getPresencesByUserId", require(policy.OpPresenceRead), handlePresences(dir, ln))
	v1.POST("/$batch", handleBatch(dir, lim, dispatch))
	v1.Any(unroutable[len("/v1.0"):], handleGrammarError)

	// Microsoft Graph Toolkit reads presence from the beta endpoint.
	beta := e.Group("/beta", requestBody(), who.authenticate(), rateLimit(lim), require(policy.OpPresenceRead))
	beta.GET("/me/presence", handlePresence(dir, ln))
	beta.GET("/users/{id}/presence", handlePresence(dir, ln))
	beta.POST("/communications/getPresencesByUserId", handlePresences(dir, ln))
	beta.POST("/$batch", handleBatch(dir, lim, dispatch))

	if cfg.UsageReports != nil {
		usageRoutes(e, who, cfg.UsageReports)
	}
	adminRoutes(e, who, cfg, dir)
	return e, nil
}

// usageRoutes adds the analysts' usage API (anonymised aggregates of the caller's
// tenant, released only under the k-rule; app role Gateway.Analyst) and dashboard page
// (static files embedded in the binary: the page loads without a token, its calls to
// /usage/v1 carry the analyst's).
func usageRoutes(e *gin.Engine, who *callers, reports UsageReports) {
	u := e.Group("/usage/v1", who.authenticateSession(), requireRole(RoleAnalyst))
	for _, kind := range []string{"requests", "latency", "cache", "active-users"} {
		u.GET("/"+kind, handleUsageReport(reports, kind))
	}
	page := gin.WrapH(dashboard.Handler("/usage/"))
	e.GET("/usage/", page)
	e.GET("/usage/assets/*file", dashboardAsset(page, dashboard.Assets()))
	e.GET("/usage", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/usage/") })
}

// adminRoutes adds the admin API (remote logout, cache purge): app role Gateway.Admin,
// caller's tenant only; the read policy is not consulted (see authenticateSession).
// One audit record per call.
func adminRoutes(e *gin.Engine, who *callers, cfg Config, dir *directory.Directory) {
	admin := e.Group("/admin/v1", requestBody(), who.authenticateSession())
	admin.POST("/users/:id/logout", audited(cfg.Audit, cfg.Logger, "user.logout"), requireRole(RoleAdmin),
		handleLogout(dir, cfg.Revocations, cfg.Metrics, cfg.Logger))
	admin.POST("/cache/purge", audited(cfg.Audit, cfg.Logger, "cache.purge"), requireRole(RoleAdmin),
		handlePurgeTenant(dir, cfg.Revocations))
}

func handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }
}

// handleReadyz reports ready once every tenant's signing keys are loaded and every
// readiness check passes, and until the server starts draining (Server.Drain). Status
// checks are reported alongside but never make the instance unready.
func handleReadyz(v TokenVerifier, checks, status map[string]func() error, draining func() bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		report := gin.H{"tokens": "ok"}
		ready := true
		if !v.Ready() {
			report["tokens"], ready = "signing keys not loaded", false
		}
		if draining() {
			report["shutdown"], ready = "draining", false
		}
		for name, check := range checks {
			if err := check(); err != nil {
				report[name], ready = err.Error(), false
			} else {
				report[name] = "ok"
			}
		}
		for name, check := range status {
			report[name] = "ok"
			if err := check(); err != nil {
				report[name] = err.Error()
			}
		}
		status := http.StatusOK
		if !ready {
			status = http.StatusServiceUnavailable
		}
		c.JSON(status, gin.H{"ready": ready, "checks": report})
	}
}
