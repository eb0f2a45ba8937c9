package proxy

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// upnPattern accepts the userPrincipalName shapes a user key may take.
var upnPattern = regexp.MustCompile(`^[A-Za-z0-9._%+'#!$&*=?^{}|~-]{1,113}@[A-Za-z0-9.-]{1,140}$`)

// errInvalidUserKey answers a {id} that is neither an object id nor a UPN.
var errInvalidUserKey = &apiError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
	Message: "Invalid object identifier: expected an object id (GUID) or a userPrincipalName."}

// userKeyParam returns the {id} path parameter if it is an object id or a UPN. Anything
// else is refused before it reaches a cache key or Graph.
func userKeyParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if spec.IsObjectID(id) || upnPattern.MatchString(id) {
		return id, nil
	}
	return "", errInvalidUserKey
}

// subjectKey is the user a /me or /users/{id} route is about: the caller's object id or
// the validated {id}.
func subjectKey(c *gin.Context) (string, error) {
	if c.Param("id") == "" {
		return scopeOf(c).principal.ObjectID, nil
	}
	return userKeyParam(c)
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
		q, u, ok := subject(c, dir, odata.Entity)
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
