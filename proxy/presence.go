package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// maxPresenceIDs is Graph's limit for getPresencesByUserId.
const maxPresenceIDs = 650

func presenceBody(p graph.Presence) map[string]any {
	return map[string]any{"id": p.ID, "availability": p.Availability, "activity": p.Activity}
}

// handlePresence serves /me/presence and /users/{id}/presence (v1.0 and beta).
func (s *Server) handlePresence() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, _, u, ok := s.subject(c, optsNone)
		if !ok {
			return
		}
		id := userID(u)
		key := cache.Key{Kind: kindPresence, ID: strings.ToLower(id)}
		e, outcome, err := s.load(c.Request.Context(), cl.tenant, key, errNotFound(), func(ctx context.Context) (cache.Item[entry], error) {
			p, err := cl.tenant.up.Presence(ctx, id)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{presence: p}, Size: 128, Users: []string{id}}, nil
		})
		setOutcome(c, outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		body := presenceBody(e.presence)
		body["@odata.context"] = s.contextURL(c, "users/presence/$entity")
		writeJSON(c, body)
	}
}

// handlePresences serves POST /communications/getPresencesByUserId. Unknown, foreign and
// deactivated ids are left out of the answer, as if they had no presence.
func (s *Server) handlePresences() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callerOf(c)
		var req struct {
			IDs []string `json:"ids"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
		if err := dec.Decode(&req); err != nil {
			abortWithError(c, bodyError(err, "The request body must be a JSON object with an \"ids\" array of user object ids."))
			return
		}
		if len(req.IDs) == 0 || len(req.IDs) > maxPresenceIDs {
			abortWithError(c, errBadRequest("\"ids\" must hold between 1 and 650 user object ids."))
			return
		}
		for _, id := range req.IDs {
			if !guidPattern.MatchString(id) {
				abortWithError(c, errBadRequest("Every entry of \"ids\" must be a user object id (GUID)."))
				return
			}
		}
		ids := uniqueFold(req.IDs)
		ctx := c.Request.Context()
		s.prefetchUsers(ctx, cl.tenant, ids)
		var visible []string
		for _, id := range ids {
			if u, _, err := s.loadUser(ctx, cl.tenant, id); err == nil {
				visible = append(visible, userID(u))
			}
		}
		value := []map[string]any{}
		if len(visible) > 0 {
			var ps []graph.Presence
			err := cl.tenant.call(ctx, func(ctx context.Context) error {
				var err error
				ps, err = cl.tenant.up.Presences(ctx, visible)
				return err
			})
			if err != nil {
				abortWithError(c, upstreamError(err))
				return
			}
			for _, p := range ps {
				if containsFold(visible, p.ID) {
					value = append(value, presenceBody(p))
				}
			}
		}
		writeJSON(c, gin.H{"@odata.context": s.contextURL(c, "Collection(microsoft.graph.presence)"), "value": value})
	}
}

// uniqueFold returns ids without repeats (object ids compare case-insensitively), in the
// order given: a user named twice is looked up, asked for and answered once.
func uniqueFold(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if k := strings.ToLower(id); !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	return out
}
