package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/odata"
)

// RoleAdmin is the app role of graphgate's app registration that grants the admin API.
const RoleAdmin = "Gateway.Admin"

// auditNote is what an admin handler reports for the request's audit record.
type auditNote struct {
	target  string // the target user's object id (or the key as given, until resolved)
	result  string // "" = derived from the response status
	details *auditDetails
}

// auditDetails are the non-personal facts of an admin action's outcome.
type auditDetails struct {
	CachePurged       int
	Shared            bool
	InstancesNotified bool
	CutOff            time.Time // logout only; zero is not written
	GraphRevoked      *bool     // logout only
}

// fields renders the details as the audit record's details object.
func (d *auditDetails) fields() map[string]any {
	if d == nil {
		return nil
	}
	m := map[string]any{"cache_purged": d.CachePurged, "shared": d.Shared, "instances_notified": d.InstancesNotified}
	if !d.CutOff.IsZero() {
		m["cut_off"] = d.CutOff
	}
	if d.GraphRevoked != nil {
		m["graph_revoked"] = *d.GraphRevoked
	}
	return m
}

// audited emits exactly one audit record for the admin action once the handler chain
// has finished, whatever its outcome.
func audited(sink AuditSink, log *slog.Logger, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		sc := scopeOf(c)
		p := sc.principal
		ev := audit.Event{
			Time: time.Now(), Action: action, TenantID: p.TenantID, ActorID: p.ObjectID,
			ClientApp: p.ClientAppID, Status: c.Writer.Status(), RequestID: sc.requestID,
			TargetID: sc.audit.target, Result: sc.audit.result, Details: sc.audit.details.fields(),
		}
		if ev.Result == "" {
			ev.Result = resultOf(ev.Status)
		}
		if err := sink.Emit(ev); err != nil {
			log.Error("audit record not written", "action", action, "request_id", ev.RequestID,
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

// errNoSuchUser answers an admin action on a user the caller's tenant does not have.
var errNoSuchUser = &apiError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
	Message: "The user does not exist in the caller's tenant."}

// resolveTarget returns the object id of a user of the tenant given by id or UPN,
// deactivated accounts included. Another tenant's user is not found. When Graph cannot
// be reached, an object id is taken as given: a revocation of an id that does not exist
// in the tenant harms no one.
func resolveTarget(ctx context.Context, dir *directory.Directory, tenantID, key string) (string, error) {
	u, _, err := dir.AnyUser(ctx, tenantID, key)
	switch {
	case err == nil:
		return strings.ToLower(u.ID()), nil
	case errors.Is(err, directory.ErrNotFound):
		return "", errNoSuchUser
	case spec.IsObjectID(key):
		return strings.ToLower(key), nil
	default:
		return "", err
	}
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
func handleLogout(dir *directory.Directory, revs Revocations, m *metrics.Metrics, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		sc := scopeOf(c)
		tenantID := sc.tenantID()
		key, err := odata.ParseUserKey(c.Param("id"))
		if err != nil {
			abortWithError(c, err)
			return
		}
		sc.audit.target = key
		oid, err := resolveTarget(ctx, dir, tenantID, key)
		if err != nil {
			abortWithError(c, err)
			return
		}
		sc.audit.target = oid
		rev, err := revs.Revoke(ctx, tenantID, oid)
		m.ObserveRevocation(err)
		if err != nil {
			abortWithError(c, errInternal(err))
			return
		}
		purged := dir.PurgeUser(tenantID, oid)
		res := logoutResult{Status: "revoked", CutOff: rev.CutOff.UTC(), Forgotten: rev.Expires.UTC(),
			Instances: instancesOf(rev.Shared, rev.Notified, rev.Receivers)}
		gerr := dir.RevokeSignInSessions(ctx, tenantID, oid)
		res.Graph.Succeeded = gerr == nil
		if gerr != nil {
			ae := apiErrorOf(gerr)
			res.Graph.Error, res.Graph.Message = ae.Code, ae.Message+" The gateway-side revocation holds."
			log.Warn("graph revokeSignInSessions failed", "tenant", tenantID, "error_code", ae.Code, "request_id", sc.requestID)
		}
		res.Cache.EntriesPurged = purged + dir.PurgeUser(tenantID, oid)
		if gerr != nil || (rev.Shared && !rev.Notified) {
			sc.audit.result = audit.ResultPartial
		} else {
			sc.audit.result = audit.ResultSuccess
		}
		sc.audit.details = &auditDetails{CutOff: res.CutOff, GraphRevoked: &res.Graph.Succeeded,
			CachePurged: res.Cache.EntriesPurged, Shared: rev.Shared, InstancesNotified: rev.Notified}
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
func handlePurgeTenant(dir *directory.Directory, revs Revocations) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := scopeOf(c)
		n := dir.PurgeTenant(sc.tenantID())
		notified, err := revs.PurgeTenant(c.Request.Context(), sc.tenantID())
		shared := notified || err != nil // a list of this instance only has no one to tell
		res := purgeResult{Status: "purged", Cache: purgeOutcome{EntriesPurged: n},
			Instances: instancesOf(shared, notified, 0)}
		if err != nil {
			sc.audit.result = audit.ResultPartial
		}
		sc.audit.details = &auditDetails{CachePurged: n, Shared: shared, InstancesNotified: notified}
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
