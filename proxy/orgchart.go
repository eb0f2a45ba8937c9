package proxy

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/policy"
)

const userType = "#microsoft.graph.user"

// handleManager serves /me/manager and /users/{id}/manager. A deactivated manager is
// treated as no manager.
func (s *Server) handleManager() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, q, u, ok := s.subject(c, optsEntity)
		if !ok {
			return
		}
		id := userID(u)
		key := cache.Key{Kind: kindManager, ID: strings.ToLower(id)}
		e, outcome, err := s.load(c.Request.Context(), cl.tenant, key, errNotFound(), func(ctx context.Context) (cache.Item[entry], error) {
			m, err := cl.tenant.up.Manager(ctx, id, s.fields)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{user: m}, Size: sizeOfUser(m), Users: []string{id, userID(m)}}, nil
		})
		setOutcome(c, outcome)
		if err == nil && !enabled(e.user) {
			err = errNotFound()
		}
		if err != nil {
			abortWithError(c, err)
			return
		}
		d := s.decide(c, cl, policy.OpManagerRead, e.user, q)
		body := project(e.user, d.Fields)
		body["@odata.type"] = userType
		body["@odata.context"] = s.contextURL(c, "directoryObjects/$entity")
		writeJSON(c, body)
	}
}

// handleDirectReports serves /me/directReports and /users/{id}/directReports, without
// deactivated accounts.
func (s *Server) handleDirectReports() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, q, u, ok := s.subject(c, optsEntity)
		if !ok {
			return
		}
		id := userID(u)
		key := cache.Key{Kind: kindReports, ID: strings.ToLower(id)}
		e, outcome, err := s.load(c.Request.Context(), cl.tenant, key, nil, func(ctx context.Context) (cache.Item[entry], error) {
			rs, err := cl.tenant.up.DirectReports(ctx, id, s.fields)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			size := 64
			for _, r := range rs {
				size += sizeOfUser(r)
			}
			e := entry{}
			e.page.Users = rs
			return cache.Item[entry]{Value: e, Size: size, Users: append(userIDs(rs), id)}, nil
		})
		setOutcome(c, outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		value := make([]map[string]any, 0, len(e.page.Users))
		for _, r := range e.page.Users {
			if !enabled(r) {
				continue
			}
			d := s.decide(c, cl, policy.OpDirectReportsRead, r, q)
			item := project(r, d.Fields)
			item["@odata.type"] = userType
			value = append(value, item)
		}
		writeJSON(c, gin.H{"@odata.context": s.contextURL(c, "directoryObjects"), "value": value})
	}
}
