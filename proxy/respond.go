package proxy

import (
	"strings"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/odata"
)

// project returns the user's values for exactly fields, in Graph's shape: a selected
// property without a value is present as null. A property with the same value for
// every user the gateway serves (accountEnabled: true) has that value.
func project(u graph.User, fields []string) map[string]any {
	out := make(map[string]any, len(fields)+2)
	for _, f := range fields {
		if v, ok := policy.ConstantValue(f); ok {
			out[f] = v
			continue
		}
		out[f] = u[f]
	}
	return out
}

// isSelf reports whether the user record is the caller's own.
func isSelf(sc *scope, u graph.User) bool {
	return strings.EqualFold(u.ID(), sc.principal.ObjectID)
}

// decider applies the callers' policies, memoising decisions: the same few field lists
// come again and again.
type decider struct {
	memo   *lru.Cache[decisionKey, policy.Decision]
	people *lru.Cache[decisionKey, policy.PersonDecision]
}

// decisionKey is everything a policy decision depends on.
type decisionKey struct {
	client *policy.Client
	op     policy.Operation
	self   bool
	sel    string // the raw $select; "" means Graph's default set
}

func newDecider() (*decider, error) {
	memo, err := lru.New[decisionKey, policy.Decision](1024)
	if err != nil {
		return nil, err
	}
	people, err := lru.New[decisionKey, policy.PersonDecision](256)
	return &decider{memo: memo, people: people}, err
}

// personDecision returns the client's decision for a people list's $select
// (policy.Client.DecidePerson). The returned slices are shared: read only.
func (d *decider) personDecision(cl *policy.Client, q odata.PeopleQuery) policy.PersonDecision {
	k := decisionKey{client: cl, op: policy.OpPeopleRead, sel: q.RawSelect()}
	if dec, ok := d.people.Get(k); ok {
		return dec
	}
	dec := cl.DecidePerson(q.Select)
	d.people.Add(k, dec)
	return dec
}

// decision returns the client's decision for the request's $select. The returned slices
// are shared: read only.
func (d *decider) decision(cl *policy.Client, op policy.Operation, self bool, q odata.Query) policy.Decision {
	k := decisionKey{client: cl, op: op, self: self, sel: q.RawSelect()}
	if dec, ok := d.memo.Get(k); ok {
		return dec
	}
	dec := cl.Decide(op, self, q.Select)
	d.memo.Add(k, dec)
	return dec
}

// decide applies the caller's policy to one user record and notes the withheld fields.
// It is the single place where response fields are chosen.
func (d *decider) decide(c *gin.Context, op policy.Operation, u graph.User, q odata.Query) policy.Decision {
	sc := scopeOf(c)
	dec := d.decision(sc.client, op, isSelf(sc, u), q)
	noteWithheld(c, dec.Withheld)
	return dec
}

// links builds the gateway's external URLs for @odata.context and @odata.nextLink.
type links struct {
	publicURL string // Config.PublicURL; "" derives the base from the request
}

// base is the gateway's external base URL.
func (l links) base(c *gin.Context) string {
	if l.publicURL != "" {
		return strings.TrimRight(l.publicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// context builds an @odata.context value like Graph's ("…/v1.0/$metadata#users/$entity").
func (l links) context(c *gin.Context, fragment string) string {
	return l.base(c) + "/" + apiVersion(c) + "/$metadata#" + fragment
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
