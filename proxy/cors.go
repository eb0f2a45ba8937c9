package proxy

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

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
