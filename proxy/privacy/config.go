// Package privacy builds graphgate's record of processing, served at /privacy: who is
// responsible, which client apps see which fields for which purpose, what is fetched
// from Microsoft Graph, what is cached, stored and logged, and for how long. It renders
// the record as JSON (the Notice itself) and as a self-contained HTML page (HTML, CSP).
//
// The package knows no HTTP framework: the gateway serves what it builds. Its defaults
// are taken from the packages that own them (usage, revoke, cache), so the record cannot
// state something other than what a default deployment does.
package privacy

import (
	"time"

	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/usage"
)

// Config describes the deployment for the record of processing. The zero value is
// useful: every zero field takes a default that describes graphgate's own defaults
// (see WithDefaults).
type Config struct {
	// Controller names the organisation responsible for the processing. Empty means a
	// note that it is not configured.
	Controller string
	// Contact is where data subjects and data protection officers reach the controller
	// (an address or a URL). Empty means "not configured".
	Contact string
	// HostingRegion is where the gateway runs, e.g. "EU (Germany West Central)". Empty
	// means "not configured".
	HostingRegion string
	// UsageStore says where anonymised usage aggregates are kept, in words for people,
	// e.g. "SQLite database in the data directory"; "none" means nothing is persisted
	// and the record lists no usage aggregates. Empty means "sqlite".
	UsageStore string
	// UsageRetention is how long the aggregates are kept. Zero or negative means
	// usage.DefaultRetention (13 months) as usage.Retention.Approx states it.
	UsageRetention time.Duration
	// UsageMinUsers is the release rule's k: the fewest distinct users a released cell
	// holds. Zero or negative means usage.DefaultK.
	UsageMinUsers int
	// RevocationStore says where revocation markers live, in words for people, e.g.
	// "memory" or "Redis shared by the gateway instances". Empty means "memory".
	RevocationStore string
	// RevocationLifetime is how long a revocation marker is kept. Zero or negative
	// means revoke's default, revoke.DefaultLockout + revoke.DefaultMaxTokenLifetime;
	// a deployment that configures the revocation list sets it with revoke.RetentionFor.
	RevocationLifetime time.Duration
	// AuditSink says where audit records of admin actions go, in words for people.
	// Empty means no audit sink is configured and the record lists no audit records.
	AuditSink string
	// RevocationHeld reports whether a revocation marker is held for a user, for the
	// data subject's export; known is false when the store cannot tell right now. Nil
	// means the gateway asks its revocation list itself (when the list can tell, as
	// *revoke.Memory and *revoke.Redis can).
	RevocationHeld func(tenantID, userID string) (held, known bool)
}

// Defaults of Config's text fields.
const (
	defaultController      = "the operator of this graphgate deployment (not configured)"
	notConfigured          = "not configured"
	defaultUsageStore      = "sqlite"
	defaultRevocationStore = "memory"
)

// NoUsageStore is the Config.UsageStore of a deployment that persists no usage
// aggregates: the record then lists none.
const NoUsageStore = "none"

// WithDefaults returns c with every zero field set to its default. The defaults are
// read from their owners: usage.DefaultRetention, usage.DefaultK and revoke's
// DefaultLockout and DefaultMaxTokenLifetime.
func (c Config) WithDefaults() Config {
	c.Controller = orDefault(c.Controller, defaultController)
	c.Contact = orDefault(c.Contact, notConfigured)
	c.HostingRegion = orDefault(c.HostingRegion, notConfigured)
	c.UsageStore = orDefault(c.UsageStore, defaultUsageStore)
	c.RevocationStore = orDefault(c.RevocationStore, defaultRevocationStore)
	if c.UsageRetention <= 0 {
		c.UsageRetention = usage.DefaultRetention.Approx()
	}
	if c.UsageMinUsers <= 0 {
		c.UsageMinUsers = usage.DefaultK
	}
	if c.RevocationLifetime <= 0 {
		c.RevocationLifetime = revoke.RetentionFor(0, 0)
	}
	return c
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
