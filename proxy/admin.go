package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/audit"
)

// RoleAdmin is the app role of graphgate's app registration that grants the admin API.
const RoleAdmin = "Gateway.Admin"

// Context keys the admin handlers set for their audit record.
const (
	ctxAuditTarget  = "graphgate.auditTarget"
	ctxAuditResult  = "graphgate.auditResult"
	ctxAuditDetails = "graphgate.auditDetails"
)

// requireRole refuses the request with 403 unless the caller holds the app role.
func requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p, _ := principalOf(c); !p.HasRole(role) {
			abortWithError(c, errForbidden("The caller does not hold the app role "+role+" of the gateway."))
			return
		}
		c.Next()
	}
}

// audited emits exactly one audit record for the admin action once the handler chain
// has finished, whatever its outcome.
func (s *Server) audited(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		p, _ := principalOf(c)
		ev := audit.Event{
			Time: time.Now(), Action: action, TenantID: p.TenantID, ActorID: p.ObjectID,
			ClientApp: p.ClientAppID, Status: c.Writer.Status(), RequestID: requestID(c),
			TargetID: c.GetString(ctxAuditTarget), Result: c.GetString(ctxAuditResult),
		}
		if d, ok := c.Get(ctxAuditDetails); ok {
			ev.Details, _ = d.(map[string]any)
		}
		if ev.Result == "" {
			ev.Result = resultOf(ev.Status)
		}
		if err := s.cfg.Audit.Emit(ev); err != nil {
			s.log.Error("audit record not written", "action", action, "request_id", ev.RequestID,
				"error_type", "audit")
		}
	}
}

// resultOf maps a response status to an audit result.
func resultOf(status int) string {
	switch {
	case status < 300:
		return audit.ResultSuccess
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return audit.ResultDenied
	case status == http.StatusNotFound:
		return audit.ResultNotFound
	case status < 500:
		return audit.ResultInvalid
	default:
		return audit.ResultFailed
	}
}

// tenantOf returns the caller's tenant, set by verifyCaller.
func tenantOf(c *gin.Context) *tenantState {
	t, _ := c.MustGet(ctxTenant).(*tenantState)
	return t
}

// resolveTarget returns the object id of a user of the caller's tenant given by id or
// UPN, deactivated accounts included. Another tenant's user is not found. When Graph
// cannot be reached, an object id is taken as given: a revocation of an id that does
// not exist in the tenant harms no one.
func (s *Server) resolveTarget(c *gin.Context, t *tenantState, key string) (string, bool, error) {
	u, _, err := s.loadAnyUser(c.Request.Context(), t, key)
	if err == nil {
		return strings.ToLower(userID(u)), true, nil
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return "", false, &apiError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: "The user does not exist in the caller's tenant."}
	}
	if guidPattern.MatchString(key) {
		return strings.ToLower(key), false, nil
	}
	return "", false, err
}

// logoutResult is the answer of POST /admin/v1/users/{id}/logout.
type logoutResult struct {
	Status    string        `json:"status"` // "revoked"
	CutOff    time.Time     `json:"cutOff"`
	Forgotten time.Time     `json:"revocationExpires"`
	Graph     graphOutcome  `json:"graphRevokeSignInSessions"`
	Cache     purgeOutcome  `json:"cache"`
	Instances instanceNotes `json:"instances"`
}

type graphOutcome struct {
	Succeeded bool   `json:"succeeded"`
	Error     string `json:"error,omitempty"`
	Message   string `json:"message,omitempty"`
}

type purgeOutcome struct {
	EntriesPurged int `json:"entriesPurged"`
}

type instanceNotes struct {
	Shared    bool   `json:"shared"`   // revocations are shared between instances (Redis)
	Notified  bool   `json:"notified"` // the other instances were told
	Receivers int64  `json:"receivers,omitempty"`
	Message   string `json:"message"`
}

// handleLogout serves POST /admin/v1/users/{id|userPrincipalName}/logout: it refuses
// every token of the user issued before the cut-off (now plus the lock-out window) on
// every instance, purges the user's cached data and asks Graph to revoke the user's
// sign-in sessions. The gateway-side revocation holds even when Graph fails.
func (s *Server) handleLogout() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		t := tenantOf(c)
		key, err := userKeyParam(c)
		if err != nil {
			abortWithError(c, err)
			return
		}
		c.Set(ctxAuditTarget, key)
		oid, _, err := s.resolveTarget(c, t, key)
		if err != nil {
			abortWithError(c, err)
			return
		}
		c.Set(ctxAuditTarget, oid)
		rev, err := s.cfg.Revocations.Revoke(ctx, t.id, oid)
		s.cfg.Metrics.ObserveRevocation(err)
		if err != nil {
			abortWithError(c, errInternal(err))
			return
		}
		purged := s.PurgeUser(t.id, oid)
		res := logoutResult{Status: "revoked", CutOff: rev.CutOff.UTC(), Forgotten: rev.Expires.UTC(),
			Instances: instancesOf(rev.Shared, rev.Notified, rev.Receivers)}
		gerr := t.call(ctx, func(ctx context.Context) error { return t.up.RevokeSignInSessions(ctx, oid) })
		res.Graph.Succeeded = gerr == nil
		if gerr != nil {
			ae := upstreamError(gerr)
			res.Graph.Error, res.Graph.Message = ae.Code, ae.Message+" The gateway-side revocation holds."
			s.log.Warn("graph revokeSignInSessions failed", "tenant", t.id, "error_code", ae.Code, "request_id", requestID(c))
		}
		res.Cache.EntriesPurged = purged + s.PurgeUser(t.id, oid)
		result := audit.ResultSuccess
		if gerr != nil || (rev.Shared && !rev.Notified) {
			result = audit.ResultPartial
		}
		c.Set(ctxAuditResult, result)
		c.Set(ctxAuditDetails, map[string]any{"cut_off": res.CutOff, "graph_revoked": res.Graph.Succeeded,
			"cache_purged": res.Cache.EntriesPurged, "shared": rev.Shared, "instances_notified": rev.Notified})
		c.JSON(http.StatusOK, res)
	}
}

// purgeResult is the answer of POST /admin/v1/cache/purge.
type purgeResult struct {
	Status    string        `json:"status"` // "purged"
	Cache     purgeOutcome  `json:"cache"`
	Instances instanceNotes `json:"instances"`
}

// handlePurgeTenant serves POST /admin/v1/cache/purge: it drops every cached entry of
// the caller's tenant on this instance and tells the other instances to do the same.
func (s *Server) handlePurgeTenant() gin.HandlerFunc {
	return func(c *gin.Context) {
		t := tenantOf(c)
		n := s.PurgeTenant(t.id)
		notified, err := s.cfg.Revocations.PurgeTenant(c.Request.Context(), t.id)
		shared := notified || err != nil // a list of this instance only has no one to tell
		res := purgeResult{Status: "purged", Cache: purgeOutcome{EntriesPurged: n},
			Instances: instancesOf(shared, notified, 0)}
		if err != nil {
			c.Set(ctxAuditResult, audit.ResultPartial)
		}
		c.Set(ctxAuditDetails, map[string]any{"cache_purged": n, "shared": shared, "instances_notified": notified})
		c.JSON(http.StatusOK, res)
	}
}

// instancesOf describes whether the other gateway instances were told.
func instancesOf(shared, notified bool, receivers int64) instanceNotes {
	n := instanceNotes{Shared: shared, Notified: notified, Receivers: receivers}
	switch {
	case !shared:
		n.Message = "This gateway runs without a shared revocation store: only this instance was changed."
	case notified:
		n.Message = "The other instances were notified and apply the change within a second."
	default:
		n.Message = "The shared store is unreachable: this instance applies the change now and shares it once the store is back."
	}
	return n
}
