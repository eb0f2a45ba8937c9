package proxy

import (
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/policy"
)

// PrivacyConfig describes the deployment for the record of processing served at
// /privacy. Zero fields take defaults that describe graphgate's defaults.
type PrivacyConfig struct {
	// Controller names the organisation responsible for the processing.
	Controller string
	// Contact is where data subjects and DPOs reach the controller (address or URL).
	Contact string
	// HostingRegion is where the gateway runs, e.g. "EU (Germany West Central)".
	HostingRegion string
	// UsageStore says where anonymised usage aggregates are kept: "sqlite", "postgres",
	// or "none" when nothing is persisted (default "sqlite").
	UsageStore string
	// UsageRetention is how long the aggregates are kept (default 13 months).
	UsageRetention time.Duration
	// UsageMinUsers is the release rule's k: the fewest distinct users a released cell
	// holds (default 5).
	UsageMinUsers int
	// RevocationStore says where revocation markers live: "memory" or "redis"
	// (default "memory").
	RevocationStore string
	// RevocationLifetime is how long a revocation marker is kept (default 95 min: the
	// 5 min lock-out plus the 90 min maximum token lifetime).
	RevocationLifetime time.Duration
	// AuditSink says where audit records of admin actions go ("" = not configured).
	AuditSink string
	// RevocationHeld reports whether a revocation marker is held for a user, for the
	// data subject's export; known is false when the store cannot tell right now. Nil
	// means asking Config.Revocations (when it can tell: *revoke.Memory, *revoke.Redis).
	RevocationHeld func(tenantID, userID string) (held, known bool)
}

func (c PrivacyConfig) withDefaults() PrivacyConfig {
	c.Controller = orDefault(c.Controller, "the operator of this graphgate deployment (not configured)")
	c.Contact = orDefault(c.Contact, "not configured")
	c.HostingRegion = orDefault(c.HostingRegion, "not configured")
	c.UsageStore = orDefault(c.UsageStore, "sqlite")
	c.RevocationStore = orDefault(c.RevocationStore, "memory")
	if c.UsageRetention <= 0 {
		c.UsageRetention = 395 * 24 * time.Hour
	}
	if c.UsageMinUsers <= 0 {
		c.UsageMinUsers = 5
	}
	if c.RevocationLifetime <= 0 {
		c.RevocationLifetime = 95 * time.Minute
	}
	return c
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// privacyNotice is the record of processing, rendered as JSON and as an HTML page.
type privacyNotice struct {
	Service        string            `json:"service"`
	Summary        string            `json:"summary"`
	Controller     string            `json:"controller"`
	Contact        string            `json:"contact"`
	HostingRegion  string            `json:"hosting_region"`
	SubProcessors  []subProcessor    `json:"sub_processors"`
	ClientApps     []clientRecord    `json:"client_apps"`
	FetchedFields  []string          `json:"fields_fetched_from_graph"`
	InternalFields []string          `json:"internal_fields"`
	Cache          cacheRecord       `json:"cache"`
	Persisted      []persistedRecord `json:"persisted"`
	NeverStored    []string          `json:"never_stored"`
	Logs           string            `json:"logs"`
	Rights         rightsRecord      `json:"data_subject_rights"`
}

type subProcessor struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Data    string `json:"data"`
	Website string `json:"website"`
}

type clientRecord struct {
	Name        string             `json:"name"`
	AppID       string             `json:"app_id"`
	Purpose     string             `json:"purpose"`
	Operations  []policy.Operation `json:"operations"`
	SelfFields  []string           `json:"fields_of_the_signed_in_user"`
	OtherFields []string           `json:"fields_of_other_users"`
}

type cacheRecord struct {
	What       string `json:"what"`
	Where      string `json:"where"`
	TTLSeconds int    `json:"ttl_seconds"`
	MaxEntries int    `json:"max_entries"`
	Purged     string `json:"purged"`
}

type persistedRecord struct {
	What             string `json:"what"`
	Form             string `json:"form"`
	Where            string `json:"where"`
	Retention        string `json:"retention"`
	RetentionSeconds int64  `json:"retention_seconds,omitempty"`
	Personal         bool   `json:"personal_data"`
}

type rightsRecord struct {
	AccessAndPortability string `json:"access_and_portability"`
	Rectification        string `json:"rectification_and_erasure"`
	Objection            string `json:"objection"`
}

// newPrivacyNotice builds the record of processing from the policy and configuration.
func newPrivacyNotice(cfg Config) *privacyNotice {
	pc := cfg.Privacy.withDefaults()
	n := &privacyNotice{
		Service: "graphgate",
		Summary: "graphgate shows the profile data your organisation keeps in Microsoft 365 (Microsoft Entra ID) " +
			"to the client apps listed below, each limited to the fields and operations its purpose needs. " +
			"It fetches the data from Microsoft Graph when an app asks for it, keeps it only briefly in memory, " +
			"and does not store it.",
		Controller:    pc.Controller,
		Contact:       pc.Contact,
		HostingRegion: pc.HostingRegion,
		SubProcessors: []subProcessor{{
			Name:    "Microsoft Graph / Microsoft Entra ID (Microsoft Corporation)",
			Role:    "Source of the profile data, photos and presence (Microsoft Graph); sign-in and access tokens (Microsoft Entra ID).",
			Data:    "The directory of your organisation's Microsoft 365 tenant; graphgate only reads it, and asks only for the fields listed here.",
			Website: "https://learn.microsoft.com/en-us/graph/overview",
		}},
		FetchedFields:  cfg.Policy.UpstreamFields(),
		InternalFields: append([]string(nil), policy.InternalFields...),
		Cache:          cacheRecordOf(cfg.Cache),
		Persisted:      persistedRecords(pc),
		NeverStored: []string{"names", "user principal names", "e-mail addresses", "phone numbers", "photos",
			"presence", "object ids in clear", "access tokens", "IP addresses", "request paths and queries",
			"who looked up whom"},
		Logs: "Operational logs hold, per request: the route template (never the raw path), status, duration, " +
			"client app name, tenant id, cache outcome and a random request id. No names, user ids, UPNs, " +
			"e-mail addresses, phone numbers, tokens, queries or bodies.",
		Rights: rightsRecord{
			AccessAndPortability: "GET /privacy/v1/me/export with your access token returns, as a JSON download, everything graphgate processes about you.",
			Rectification:        "graphgate holds no copy to correct or erase: change or delete your data in Microsoft 365; graphgate's cache forgets it within the cache lifetime.",
			Objection:            "Contact the controller above.",
		},
	}
	for _, cl := range cfg.Policy.Clients() {
		n.ClientApps = append(n.ClientApps, clientRecord{Name: cl.Name, AppID: cl.AppID, Purpose: cl.Purpose,
			Operations: cl.Operations, SelfFields: cl.SelfFields, OtherFields: othersFields(cl)})
	}
	return n
}

// othersFields is what a client app sees of other users: nothing unless one of its
// operations reads other users.
func othersFields(cl *policy.Client) []string {
	for _, op := range []policy.Operation{policy.OpUsersRead, policy.OpUsersList, policy.OpManagerRead, policy.OpDirectReportsRead} {
		if cl.Allows(op) {
			return cl.OtherFields
		}
	}
	return []string{}
}

func cacheRecordOf(c cache.Config) cacheRecord {
	ttl, entries := c.TTL, c.MaxEntries
	if ttl <= 0 {
		ttl = cache.DefaultTTL
	}
	if entries <= 0 {
		entries = cache.DefaultMaxEntries
	}
	return cacheRecord{
		What: "Profile records (the fields listed above), photos, presence and search results, " +
			"as fetched from Microsoft Graph, so that repeated look-ups do not call Graph again.",
		Where:      "The memory of the gateway process only; never written to disk, never shared between instances.",
		TTLSeconds: int(ttl / time.Second),
		MaxEntries: entries,
		Purged:     "After the time to live; at once for a user on a remote logout; for a tenant on an admin purge; on restart.",
	}
}

func persistedRecords(pc PrivacyConfig) []persistedRecord {
	var out []persistedRecord
	if pc.UsageStore != "none" {
		out = append(out, persistedRecord{
			What: "Anonymised usage aggregates",
			Form: "Request counts and latency buckets per UTC hour, tenant, client app, operation (route template), " +
				"status class and cache outcome; per day, an estimate of distinct users. Distinct users are counted " +
				"with keyed hashes under a random daily key that is held in memory only and never stored. " +
				"Release rule: a figure is shown only when at least " + itoa(pc.UsageMinUsers) +
				" distinct users stand behind it, and totals are protected against subtraction.",
			Where:            pc.UsageStore,
			Retention:        humanDuration(pc.UsageRetention),
			RetentionSeconds: int64(pc.UsageRetention / time.Second),
			Personal:         false,
		})
	}
	out = append(out, persistedRecord{
		What: "Revocation markers (remote logout)",
		Form: "For a user an administrator logged out: a keyed hash (HMAC-SHA256) of tenant and user and the cut-off " +
			"time before which that user's tokens are refused; where shared between instances, the tenant id and " +
			"the same keyed hash, by which every instance purges its cache. No names, no user ids in any reversible form.",
		Where:            pc.RevocationStore,
		Retention:        humanDuration(pc.RevocationLifetime) + ", then deleted automatically",
		RetentionSeconds: int64(pc.RevocationLifetime / time.Second),
		Personal:         true,
	})
	if pc.AuditSink != "" {
		out = append(out, persistedRecord{
			What:      "Audit records of administrators' actions",
			Form:      "Time, action, tenant, actor and target as keyed hashes, result, request id. No names, UPNs or e-mail addresses.",
			Where:     pc.AuditSink,
			Retention: "as configured by the operator of the audit sink",
			Personal:  true,
		})
	}
	return out
}
