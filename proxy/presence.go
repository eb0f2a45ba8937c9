package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

func presenceBody(p graph.Presence) map[string]any {
	return map[string]any{"id": p.ID, "availability": p.Availability, "activity": p.Activity}
}

// handlePresence serves /me/presence and /users/{id}/presence (v1.0 and beta).
func handlePresence(dir *directory.Directory, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		_, u, ok := subject(c, dir, odata.None)
		if !ok {
			return
		}
		sc := scopeOf(c)
		p, outcome, err := dir.Presence(c.Request.Context(), sc.tenantID(), u.ID())
		sc.setOutcome(outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		body := presenceBody(p)
		body["@odata.context"] = ln.context(c, "users/presence/$entity")
		writeJSON(c, body)
	}
}

// errPresenceIDs answers a getPresencesByUserId body whose ids are out of Graph's bounds.
var errPresenceIDs = errBadRequest(fmt.Sprintf("\"ids\" must hold between 1 and %d user object ids.", spec.MaxPresenceIDs))

// handlePresences serves POST /communications/getPresencesByUserId. Unknown, foreign and
// deactivated ids are left out of the answer, as if they had no presence.
func handlePresences(dir *directory.Directory, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		var req struct {
			IDs []string `json:"ids"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
		if err := dec.Decode(&req); err != nil {
			abortWithError(c, bodyError(err, "The request body must be a JSON object with an \"ids\" array of user object ids."))
			return
		}
		if len(req.IDs) == 0 || len(req.IDs) > spec.MaxPresenceIDs {
			abortWithError(c, errPresenceIDs)
			return
		}
		for _, id := range req.IDs {
			if !spec.IsObjectID(id) {
				abortWithError(c, errBadRequest("Every entry of \"ids\" must be a user object id (GUID)."))
				return
			}
		}
		ps, err := dir.Presences(c.Request.Context(), scopeOf(c).tenantID(), req.IDs)
		if err != nil {
			abortWithError(c, err)
			return
		}
		value := make([]map[string]any, 0, len(ps))
		for _, p := range ps {
			value = append(value, presenceBody(p))
		}
		writeJSON(c, gin.H{"@odata.context": ln.context(c, "Collection(microsoft.graph.presence)"), "value": value})
	}
}
