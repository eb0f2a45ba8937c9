package proxy

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
)

// validUserKey accepts what Graph accepts as a user key: an object id (GUID) or a
// userPrincipalName. Anything else is refused before it reaches a cache key or Graph.
var (
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	upnPattern  = regexp.MustCompile(`^[A-Za-z0-9._%+'#!$&*=?^{}|~-]{1,113}@[A-Za-z0-9.-]{1,140}$`)
)

// userKeyParam returns the {id} path parameter if it is a GUID or a UPN.
func userKeyParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if guidPattern.MatchString(id) || upnPattern.MatchString(id) {
		return id, nil
	}
	return "", &apiError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
		Message: "Invalid object identifier: expected an object id (GUID) or a userPrincipalName."}
}

// target resolves the user a /me or /users/{id} route is about, hiding deactivated and
// unknown accounts alike.
func (s *Server) target(c *gin.Context, cl caller) (graph.User, error) {
	key := cl.principal.ObjectID
	if c.Param("id") != "" {
		var err error
		if key, err = userKeyParam(c); err != nil {
			return nil, err
		}
	}
	u, outcome, err := s.loadUser(c.Request.Context(), cl.tenant, key)
	setOutcome(c, outcome)
	return u, err
}

// subject begins a handler about one user (/me or /users/{id}): it parses the route's
// query options and resolves the user. On failure it has already answered.
func (s *Server) subject(c *gin.Context, opts []string) (caller, odataQuery, graph.User, bool) {
	cl := callerOf(c)
	q, err := parseQuery(c, opts)
	if err == nil {
		var u graph.User
		if u, err = s.target(c, cl); err == nil {
			return cl, q, u, true
		}
	}
	abortWithError(c, err)
	return cl, q, nil, false
}

// handleUser serves GET /me and GET /users/{id}.
func (s *Server) handleUser() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, q, u, ok := s.subject(c, optsEntity)
		if !ok {
			return
		}
		op := policy.OpUsersRead
		if isSelf(cl, u) && cl.client.Allows(policy.OpMeRead) {
			op = policy.OpMeRead
		}
		d := s.decide(c, cl, op, u, q)
		if !d.Allowed {
			abortWithError(c, errForbidden(d.Reason))
			return
		}
		body := project(u, d.Fields)
		body["@odata.context"] = s.contextURL(c, selectFragment("users", q.Select, d.Fields)+"/$entity")
		writeJSON(c, body)
	}
}

// handleUserList serves GET /users: search, filter, order, paging and count, limited to
// fields the caller may see of others, and never listing deactivated accounts.
func (s *Server) handleUserList() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callerOf(c)
		q, err := parseQuery(c, optsList)
		if err != nil {
			abortWithError(c, err)
			return
		}
		gq, err := upstreamQuery(c, cl.client, q)
		if err != nil {
			abortWithError(c, err)
			return
		}
		gq.Fields = s.fields
		key := cache.Key{Kind: kindList, ID: listKey(gq)}
		e, outcome, err := s.load(c.Request.Context(), cl.tenant, key, nil, func(ctx context.Context) (cache.Item[entry], error) {
			p, err := cl.tenant.up.Users(ctx, gq)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			size := 64
			for _, u := range p.Users {
				size += sizeOfUser(u)
			}
			return cache.Item[entry]{Value: entry{page: p}, Size: size, Users: userIDs(p.Users)}, nil
		})
		setOutcome(c, outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		d := s.decision(cl.client, policy.OpUsersList, false, q)
		noteWithheld(c, d.Withheld)
		value := make([]map[string]any, 0, len(e.page.Users))
		for _, u := range e.page.Users {
			if enabled(u) {
				value = append(value, project(u, d.Fields))
			}
		}
		body := gin.H{"@odata.context": s.contextURL(c, selectFragment("users", q.Select, d.Fields)), "value": value}
		if q.Count && e.page.Count != nil {
			body["@odata.count"] = *e.page.Count
		}
		if e.page.SkipToken != "" {
			body["@odata.nextLink"] = s.baseURL(c) + "/v1.0/users?" + q.encode(e.page.SkipToken)
		}
		writeJSON(c, body)
	}
}

// upstreamQuery validates the list options against the caller's policy and builds the
// query sent to Graph. Deactivated accounts are filtered out by Graph itself, so counts
// and pages do not reveal them.
func upstreamQuery(c *gin.Context, cl *policy.Client, q odataQuery) (graph.Query, error) {
	gq := graph.Query{Top: q.Top, Count: q.Count, SkipToken: q.SkipToken}
	eventual := strings.EqualFold(c.GetHeader("ConsistencyLevel"), "eventual")
	if (q.Search != "" || q.Count) && !eventual {
		return gq, errUnsupportedQuery("Request with $search or $count query parameters only works with a special request header: 'ConsistencyLevel: eventual'")
	}
	var err error
	if q.Search != "" {
		if gq.Search, err = cl.CheckSearch(q.Search, false); err != nil {
			return gq, errBadRequest(fmt.Sprintf("Invalid $search: %v", err))
		}
	}
	gq.Filter = "accountEnabled eq true"
	if q.Filter != "" {
		f, err := cl.CheckFilter(q.Filter)
		if err != nil {
			return gq, errBadRequest(fmt.Sprintf("Invalid $filter: %v", err))
		}
		gq.Filter = "accountEnabled eq true and (" + f + ")"
	}
	if q.OrderBy != "" {
		if gq.OrderBy, err = cl.CheckOrderBy(q.OrderBy); err != nil {
			return gq, errBadRequest(fmt.Sprintf("Invalid $orderby: %v", err))
		}
	}
	if gq.Top == 0 {
		gq.Top = 100
	}
	// The accountEnabled filter makes every list an advanced query in Graph's terms
	// (ne, not, $orderby with $filter...): ask as one, with a count.
	gq.Count = true
	return gq, nil
}

// listKey identifies a list query in the cache (the tenant is added by load).
func listKey(q graph.Query) string {
	return fmt.Sprintf("s=%q f=%q o=%q t=%d c=%t k=%q", q.Search, q.Filter, q.OrderBy, q.Top, q.Count, q.SkipToken)
}
