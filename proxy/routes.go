package proxy

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/usage/dashboard"
)

// routes lists the gateway's whole API surface.
func (s *Server) routes() *gin.Engine {
	e := newEngine()
	e.Use(recoverer(s.log), requestContext(), s.observe(), corsMiddleware(s.cfg.CORSOrigins))
	e.Use(requestLimits())
	e.NoRoute(func(c *gin.Context) { abortWithError(c, errNoRoute()) })
	e.NoMethod(func(c *gin.Context) { abortWithError(c, errMethodNotAllowed()) })

	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", s.handleReadyz())

	// Transparency: the record of processing (public) and the data subject's own export.
	e.GET("/privacy", s.handlePrivacy())
	e.GET("/privacy/v1/me/export", requestBody(), s.authenticate(), s.rateLimit(), s.handleExport())

	v1 := e.Group("/v1.0", requestBody(), s.authenticate(), s.rateLimit())
	v1.GET("/me", require(policy.OpMeRead), s.handleUser())
	v1.GET("/users", require(policy.OpUsersList), s.handleUserList())
	v1.GET("/users/:id", requireAny(policy.OpUsersRead, policy.OpMeRead), s.handleUser())
	for _, who := range []string{"/me", "/users/:id"} {
		v1.GET(who+"/photo", require(policy.OpPhotoRead), s.handlePhotoMeta())
		v1.GET(who+"/photo/$value", require(policy.OpPhotoRead), s.handlePhotoValue())
		v1.GET(who+"/photos/:size/$value", require(policy.OpPhotoRead), s.handlePhotoValue())
		v1.GET(who+"/manager", require(policy.OpManagerRead), s.handleManager())
		v1.GET(who+"/directReports", require(policy.OpDirectReportsRead), s.handleDirectReports())
		v1.GET(who+"/presence", require(policy.OpPresenceRead), s.handlePresence())
	}
	v1.POST("/communications/getPresencesByUserId", require(policy.OpPresenceRead), s.handlePresences())
	v1.POST("/$batch", s.handleBatch())

	// Microsoft Graph Toolkit reads presence from the beta endpoint.
	beta := e.Group("/beta", requestBody(), s.authenticate(), s.rateLimit(), require(policy.OpPresenceRead))
	beta.GET("/me/presence", s.handlePresence())
	beta.GET("/users/:id/presence", s.handlePresence())
	beta.POST("/communications/getPresencesByUserId", s.handlePresences())
	beta.POST("/$batch", s.handleBatch())

	// Analysts' usage API: anonymised aggregates of the caller's tenant, released only
	// under the k-rule (proxy/usage). Needs app role Gateway.Analyst.
	if s.cfg.UsageReports != nil {
		u := e.Group("/usage/v1", s.authenticateSession(), requireRole(RoleAnalyst))
		for _, kind := range []string{"requests", "latency", "cache", "active-users"} {
			u.GET("/"+kind, s.handleUsageReport(kind))
		}
	}

	// Analysts' dashboard page: static files embedded in the binary (proxy/usage/dashboard).
	// The page loads without a token; its calls to /usage/v1 carry the analyst's.
	if s.cfg.UsageReports != nil {
		page := gin.WrapH(dashboard.Handler("/usage/"))
		e.GET("/usage/", page)
		e.GET("/usage/assets/*file", dashboardAsset(page, dashboard.Assets()))
		e.GET("/usage", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/usage/") })
	}

	// Admin API (remote logout, cache purge): app role Gateway.Admin, caller's tenant only;
	// the read policy is not consulted (see authenticateSession). One audit record per call.
	admin := e.Group("/admin/v1", requestBody(), s.authenticateSession())
	admin.POST("/users/:id/logout", s.audited("user.logout"), requireRole(RoleAdmin), s.handleLogout())
	admin.POST("/cache/purge", s.audited("cache.purge"), requireRole(RoleAdmin), s.handlePurgeTenant())
	return e
}

func handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }
}

// handleReadyz reports ready once every tenant's signing keys are loaded and every
// registered readiness check passes.
func (s *Server) handleReadyz() gin.HandlerFunc {
	return func(c *gin.Context) {
		checks := gin.H{"tokens": "ok"}
		ready := true
		if !s.cfg.Verifier.Ready() {
			checks["tokens"], ready = "signing keys not loaded", false
		}
		for name, check := range s.cfg.ReadyChecks {
			if err := check(); err != nil {
				checks[name], ready = err.Error(), false
			} else {
				checks[name] = "ok"
			}
		}
		status := http.StatusOK
		if !ready {
			status = http.StatusServiceUnavailable
		}
		c.JSON(status, gin.H{"ready": ready, "checks": checks})
	}
}

// requireAny refuses the request with 403 unless the caller may use one of ops.
func requireAny(ops ...policy.Operation) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callerOf(c).client
		for _, op := range ops {
			if cl.Allows(op) {
				c.Next()
				return
			}
		}
		abortWithError(c, errForbidden("The client application may not read user profiles."))
	}
}
