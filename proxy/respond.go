package proxy

import (
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
func (s *Server) decide(c *gin.Context, cl caller, op policy.Operation, u graph.User, q odataQuery) policy.Decision {
	d := s.decision(cl.client, op, isSelf(cl, u), q)
	noteWithheld(c, d.Withheld)
	return d
}

// decisionKey is everything a policy decision depends on.
type decisionKey struct {
	client *policy.Client
	op     policy.Operation
	self   bool
	sel    string // the raw $select; "" means Graph's default set
}

// decision returns the client's decision for the request's $select, memoised: the same
// few field lists come again and again. The returned slices are shared: read only.
func (s *Server) decision(cl *policy.Client, op policy.Operation, self bool, q odataQuery) policy.Decision {
	k := decisionKey{client: cl, op: op, self: self, sel: q.raw["select"]}
	if d, ok := s.decisions.Get(k); ok {
		return d
	}
	d := cl.Decide(op, self, q.Select)
	s.decisions.Add(k, d)
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
