// Package directory is the gateway's data layer: cached, single-flighted, tenant-scoped
// reads of users, photos, the org chart, presence and relevant people from Microsoft
// Graph. It knows nothing of HTTP or gin: it answers with graph records and the domain
// errors below, and proxy/errors.go maps those to Graph's error envelope.
//
// Every record is fetched with the same $select (the union of fields some policy
// allows plus the internal fields) and cached under a key that starts with the tenant
// id. Deactivated and unknown accounts are both ErrNotFound; only AnyUser returns a
// deactivated account's record (for its initials avatar and for session checks).
package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// Upstream is what the directory needs from Microsoft Graph for one tenant.
// *graph.Client implements it.
type Upstream interface {
	User(ctx context.Context, idOrUPN string, fields []string) (graph.User, error)
	Users(ctx context.Context, q graph.Query) (graph.UserPage, error)
	Manager(ctx context.Context, id string, fields []string) (graph.User, error)
	DirectReports(ctx context.Context, id string, fields []string) ([]graph.User, error)
	Photo(ctx context.Context, id, size string) (graph.Photo, error)
	Presence(ctx context.Context, id string) (graph.Presence, error)
	Presences(ctx context.Context, ids []string) ([]graph.Presence, error)
	UsersByID(ctx context.Context, ids []string, fields []string) (map[string]graph.BatchResult, error)
	RevokeSignInSessions(ctx context.Context, id string) error
	People(ctx context.Context, id, search string, directory bool, top int) ([]string, error)
}

// Tenant is one customer tenant the directory reads.
type Tenant struct {
	ID       string // Entra tenant id (GUID), as in the tokens' tid claim
	Upstream Upstream
}

// Config configures a Directory. Zero values of optional fields are safe defaults.
type Config struct {
	// Tenants are the tenants served; each needs an id and an upstream.
	Tenants []Tenant
	// Cache configures the memory cache (TTL default 60 s, at most 10 min).
	Cache cache.Config
	// Fields is the $select of every user read: the fields some policy allows plus the
	// internal ones (policy.Policy.UpstreamFields).
	Fields []string
	// Concurrency bounds concurrent calls to Graph per tenant (default 16).
	Concurrency int
	// QueueWait is how long a read waits for an upstream slot before failing with
	// ErrBusy (default 2 s).
	QueueWait time.Duration
}

// Domain errors. Upstream failures other than these wrap one of ErrRejected, ErrDenied
// or ErrUnavailable around the graph package's error (the cause, for logs only).
var (
	// ErrNotFound: the user (or manager, or presence) does not exist in the tenant, or
	// the account is deactivated; the two are never told apart.
	ErrNotFound = errors.New("directory: not found")
	// ErrNoPhoto: the user has no photo (Graph's ImageNotFound).
	ErrNoPhoto = errors.New("directory: no photo")
	// ErrBusy: no upstream slot of the tenant freed up within Config.QueueWait.
	ErrBusy = errors.New("directory: upstream concurrency limit reached")
	// ErrUnknownTenant: the tenant is not served by this directory.
	ErrUnknownTenant = errors.New("directory: tenant not served")
	// ErrRejected: Graph refused the request as malformed (400).
	ErrRejected = errors.New("directory: graph rejected the request")
	// ErrInvalid: the graph package refused to send the request (e.g. an object id
	// holding "/"), so Graph never saw it.
	ErrInvalid = errors.New("directory: request not sendable to graph")
	// ErrDenied: Graph denied the gateway's own access for the tenant (401/403).
	ErrDenied = errors.New("directory: graph denied access")
	// ErrUnavailable: Graph failed or could not be reached.
	ErrUnavailable = errors.New("directory: graph unavailable")
)

// ThrottledError reports that Graph is throttling the tenant: no call is made until
// RetryAfter has passed.
type ThrottledError struct {
	RetryAfter time.Duration
	cause      error
}

// Error describes the throttling without personal data.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("directory: graph throttling, retry after %s", e.RetryAfter)
}

// Unwrap returns the graph package's error, for logs.
func (e *ThrottledError) Unwrap() error { return e.cause }

// Directory reads the tenants' directories through one cache. It is safe for
// concurrent use.
type Directory struct {
	cache   *cache.Cache[entry]
	tenants map[string]*tenant
	fields  []string
}

// New validates cfg and builds the directory.
func New(cfg Config) (*Directory, error) {
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("directory: at least one tenant is required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 2 * time.Second
	}
	c, err := cache.New[entry](cfg.Cache)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	d := &Directory{cache: c, tenants: map[string]*tenant{}, fields: append([]string(nil), cfg.Fields...)}
	for _, t := range cfg.Tenants {
		if t.ID == "" || t.Upstream == nil {
			return nil, errors.New("directory: a tenant needs an id and an upstream")
		}
		d.tenants[t.ID] = newTenant(t, cfg.Concurrency, cfg.QueueWait)
	}
	return d, nil
}

// Serves reports whether the tenant is one of the directory's.
func (d *Directory) Serves(tenantID string) bool { _, ok := d.tenants[tenantID]; return ok }

// Fields is the $select every user read asks Graph for. The slice is shared: read only.
func (d *Directory) Fields() []string { return d.fields }

// Stats reports the cache's counters.
func (d *Directory) Stats() cache.Stats { return d.cache.Stats() }

// PurgeUser drops every cached record holding data of one user of one tenant and
// returns how many were dropped.
func (d *Directory) PurgeUser(tenantID, userID string) int {
	return d.cache.PurgeUser(tenantID, userID)
}

// PurgeUsersWhere drops every cached record of the tenant holding data of a user whose
// object id match accepts (used to purge by a keyed hash of the id).
func (d *Directory) PurgeUsersWhere(tenantID string, match func(userID string) bool) int {
	return d.cache.PurgeUsersWhere(tenantID, match)
}

// PurgeTenant drops every cached record of one tenant.
func (d *Directory) PurgeTenant(tenantID string) int { return d.cache.PurgeTenant(tenantID) }

// RevokeSignInSessions asks Graph to revoke the user's refresh tokens and browser
// sessions (POST /users/{id}/revokeSignInSessions). It is never cached.
func (d *Directory) RevokeSignInSessions(ctx context.Context, tenantID, userID string) error {
	t, ok := d.tenants[tenantID]
	if !ok {
		return ErrUnknownTenant
	}
	return t.call(ctx, func(ctx context.Context) error { return t.up.RevokeSignInSessions(ctx, userID) })
}
