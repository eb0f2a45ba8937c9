package proxy

import (
	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// targetOf returns the request's Graph target as proxy/odata's URL grammar read it.
func targetOf(c *gin.Context) odata.Target {
	p, _ := pathOf(c)
	return p.target
}

// subjectKey is the user a /me or /users/{id} route is about: the caller's object id or
// the key the URL grammar read and validated (an object id or userPrincipalName).
func subjectKey(c *gin.Context) (string, error) {
	t := targetOf(c)
	if t.Me {
		return scopeOf(c).principal.ObjectID, nil
	}
	if t.UserKey == "" {
		return "", odata.ErrNoSuchUser
	}
	return t.UserKey, nil
}

// parseQuery parses the request's OData query options (proxy/odata) and notes the Graph
// properties graphgate never serves that $select named as withheld.
func parseQuery(c *gin.Context, allowed odata.Options) (odata.Query, error) {
	q, err := odata.Parse(c.Request.URL.RawQuery, allowed)
	noteWithheld(c, q.Unserved) // also on a 400 for $top or $count
	return q, err
}

// subject begins a handler about one enabled user (/me or /users/{id}): it parses the
// route's query options and resolves the user, hiding deactivated and unknown accounts
// alike. On failure it has already answered.
func subject(c *gin.Context, dir *directory.Directory, allowed odata.Options) (odata.Query, graph.User, bool) {
	q, err := parseQuery(c, allowed)
	var u graph.User
	if err == nil {
		u, err = lookupSubject(c, dir)
	}
	if err != nil {
		abortWithError(c, err)
		return q, nil, false
	}
	return q, u, true
}

// lookupSubject resolves the enabled user a /me or /users/{id} route is about.
func lookupSubject(c *gin.Context, dir *directory.Directory) (graph.User, error) {
	key, err := subjectKey(c)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(c)
	u, outcome, err := dir.User(c.Request.Context(), sc.tenantID(), key)
	sc.setOutcome(outcome)
	return u, err
}

// handleUser serves GET /me and GET /users/{id}.
func handleUser(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, u, ok := subject(c, dir, odata.User)
		if !ok {
			return
		}
		sc := scopeOf(c)
		op := policy.OpUsersRead
		if isSelf(sc, u) && sc.client.Allows(policy.OpMeRead) {
			op = policy.OpMeRead
		}
		d := dec.decide(c, op, u, q)
		if !d.Allowed {
			abortWithError(c, errForbidden(d.Reason))
			return
		}
		body := project(u, d.Fields)
		if err := expandManager(c, dir, dec, q, u, body); err != nil {
			abortWithError(c, err)
			return
		}
		body["@odata.context"] = ln.context(c, selectFragment("users", q.Select, d.Fields)+"/$entity")
		writeJSON(c, body)
	}
}

// handleUserList serves GET /users: search, filter, order, paging and count, limited to
// fields the caller may see of others, and never listing deactivated accounts.
func handleUserList(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := scopeOf(c)
		q, err := parseQuery(c, odata.List)
		if err != nil {
			abortWithError(c, err)
			return
		}
		lq, err := q.ForList(sc.client, odata.Eventual(c.GetHeader(odata.ConsistencyLevelHeader)))
		if err != nil {
			abortWithError(c, err)
			return
		}
		noteWithheld(c, lq.Withheld)
		page, outcome, err := dir.Users(c.Request.Context(), sc.tenantID(), graph.Query{Search: lq.Search,
			Filter: lq.Filter, OrderBy: lq.OrderBy, Top: lq.Top, Count: lq.Count, SkipToken: lq.SkipToken})
		sc.setOutcome(outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		d := dec.decision(sc.client, policy.OpUsersList, false, q)
		noteWithheld(c, d.Withheld)
		value := make([]map[string]any, 0, len(page.Users))
		for _, u := range page.Users {
			value = append(value, project(u, d.Fields))
		}
		body := gin.H{"@odata.context": ln.context(c, selectFragment("users", q.Select, d.Fields)), "value": value}
		if lq.ReportCount && page.Count != nil {
			body["@odata.count"] = *page.Count
		}
		if page.SkipToken != "" {
			body["@odata.nextLink"] = ln.base(c) + "/v1.0/users?" + q.Encode(page.SkipToken)
		}
		writeJSON(c, body)
	}
}
