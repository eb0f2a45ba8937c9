package proxy

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
)

// project returns the user's values for exactly fields, in Graph's shape: a selected
// property without a value is present as null.
func project(u graph.User, fields []string) map[string]any {
	out := make(map[string]any, len(fields)+2)
	for _, f := range fields {
		out[f] = u[f]
	}
	return out
}

// isSelf reports whether the user record is the caller's own.
func isSelf(cl caller, u graph.User) bool {
	return strings.EqualFold(userID(u), cl.principal.ObjectID)
}

// decide applies the caller's policy to one user record and sets the withheld-fields
// header. It is the single place where response fields are chosen.
func decide(c *gin.Context, cl caller, op policy.Operation, u graph.User, requested []string) policy.Decision {
	d := cl.client.Decide(op, isSelf(cl, u), requested)
	noteWithheld(c, d.Withheld)
	return d
}

// noteWithheld adds fields to the response's withheld-fields header.
func noteWithheld(c *gin.Context, withheld []string) {
	if len(withheld) == 0 {
		return
	}
	h := c.Writer.Header()
	have := h.Get(HeaderWithheld)
	for _, f := range withheld {
		if !containsFold(strings.Split(have, ","), f) {
			if have != "" {
				have += ","
			}
			have += f
		}
	}
	h.Set(HeaderWithheld, have)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// baseURL is the gateway's external base URL, for @odata links.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// contextURL builds an @odata.context value like Graph's ("…/v1.0/$metadata#users/$entity").
func (s *Server) contextURL(c *gin.Context, fragment string) string {
	return s.baseURL(c) + "/" + apiVersion(c) + "/$metadata#" + fragment
}

// apiVersion is "v1.0" or "beta", from the matched route.
func apiVersion(c *gin.Context) string {
	if strings.HasPrefix(c.FullPath(), "/beta/") {
		return "beta"
	}
	return "v1.0"
}

// selectFragment renders "users(a,b)" for a $select, "users" without one.
func selectFragment(set string, requested, fields []string) string {
	if requested == nil {
		return set
	}
	return set + "(" + strings.Join(fields, ",") + ")"
}

// setOutcome records the cache outcome for the access log.
func setOutcome(c *gin.Context, o cache.Outcome) {
	if o != "" {
		c.Set(ctxCacheOutcome, string(o))
	}
}

// writeJSON writes a Graph JSON body with Graph's content type.
func writeJSON(c *gin.Context, body any) {
	c.Header("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	c.JSON(http.StatusOK, body)
}
