package privacy

import (
	"slices"
	"strconv"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
)

// Notice is the record of processing. It is served as JSON as it is, and as an HTML page
// by HTML. Build it with NewNotice.
type Notice struct {
	Service        string            `json:"service"`                   // "graphgate"
	Summary        string            `json:"summary"`                   // what the processing is, in one paragraph
	Controller     string            `json:"controller"`                // Config.Controller
	Contact        string            `json:"contact"`                   // Config.Contact
	HostingRegion  string            `json:"hosting_region"`            // Config.HostingRegion
	SubProcessors  []SubProcessor    `json:"sub_processors"`            // Microsoft Graph / Entra ID
	ClientApps     []ClientRecord    `json:"client_apps"`               // one per client app of the policy
	FetchedFields  []string          `json:"fields_fetched_from_graph"` // the $select of every user read (see NewNotice)
	InternalFields []string          `json:"internal_fields"`           // policy.InternalFields
	People         *PeopleRecord     `json:"relevant_people,omitempty"` // with people.read only
	Cache          CacheRecord       `json:"cache"`                     // the memory cache
	Persisted      []PersistedRecord `json:"persisted"`                 // what outlives a request
	NeverStored    []string          `json:"never_stored"`              // kinds of data never written
	Logs           string            `json:"logs"`                      // what the access log holds
	Rights         RightsRecord      `json:"data_subject_rights"`       // how to exercise them
}

// SubProcessor is a party that processes the data on the controller's behalf.
type SubProcessor struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Data    string `json:"data"`
	Website string `json:"website"`
}

// ClientRecord is what one client app may do and see, and why.
type ClientRecord struct {
	Name        string             `json:"name"`
	AppID       string             `json:"app_id"`
	Purpose     string             `json:"purpose"`
	Operations  []policy.Operation `json:"operations"`
	SelfFields  []string           `json:"fields_of_the_signed_in_user"`
	OtherFields []string           `json:"fields_of_other_users"`
}

// PeopleRecord describes what graphgate reads of Microsoft Graph's People API for the
// client apps that may list relevant people (policy.OpPeopleRead).
type PeopleRecord struct {
	What          string   `json:"what"`
	FieldsFetched []string `json:"fields_fetched_from_graph"` // spec.PeopleSelect
	Shown         string   `json:"shown"`
}

// CacheRecord describes the in-memory cache of profile data.
type CacheRecord struct {
	What       string `json:"what"`
	Where      string `json:"where"`
	TTLSeconds int    `json:"ttl_seconds"`
	MaxEntries int    `json:"max_entries"`
	Purged     string `json:"purged"`
}

// PersistedRecord is one kind of data the gateway keeps beyond a request: where, in
// which form and for how long.
type PersistedRecord struct {
	What             string `json:"what"`
	Form             string `json:"form"`
	Where            string `json:"where"`
	Retention        string `json:"retention"`
	RetentionSeconds int64  `json:"retention_seconds,omitempty"`
	Personal         bool   `json:"personal_data"`
}

// RightsRecord says how data subjects exercise their rights.
type RightsRecord struct {
	AccessAndPortability string `json:"access_and_portability"`
	Rectification        string `json:"rectification_and_erasure"`
	Objection            string `json:"objection"`
}

// NewNotice builds the record of processing from the policy (which client apps see
// what), the fields fetched from Graph, the cache configuration and the deployment's
// privacy configuration, whose zero fields take their defaults (Config.WithDefaults).
//
// fetched is the $select every user read asks Graph for, from the one owner that
// builds it (directory.Directory.Fields), so that the record states what is actually
// fetched; the record keeps its own copy.
func NewNotice(pol *policy.Policy, fetched []string, cacheCfg cache.Config, cfg Config) *Notice {
	pc := cfg.WithDefaults()
	n := &Notice{
		Service: "graphgate",
		Summary: "graphgate shows the profile data your organisation keeps in Microsoft 365 (Microsoft Entra ID) " +
			"to the client apps listed below, each limited to the fields and operations its purpose needs. " +
			"It fetches the data from Microsoft Graph when an app asks for it, keeps it only briefly in memory, " +
			"and does not store it.",
		Controller:    pc.Controller,
		Contact:       pc.Contact,
		HostingRegion: pc.HostingRegion,
		SubProcessors: []SubProcessor{{
			Name:    "Microsoft Graph / Microsoft Entra ID (Microsoft Corporation)",
			Role:    "Source of the profile data, photos and presence (Microsoft Graph); sign-in and access tokens (Microsoft Entra ID).",
			Data:    "The directory of your organisation's Microsoft 365 tenant; graphgate only reads it, and asks only for the fields listed here.",
			Website: "https://learn.microsoft.com/en-us/graph/overview",
		}},
		FetchedFields:  slices.Clone(fetched),
		InternalFields: append([]string(nil), policy.InternalFields...),
		Cache:          cacheRecordOf(cacheCfg),
		Persisted:      persistedRecords(pc),
		NeverStored: []string{"names", "user principal names", "e-mail addresses", "phone numbers", "photos",
			"presence", "object ids in clear", "access tokens", "IP addresses", "request paths and queries",
			"who looked up whom", "who is relevant to whom", "mailbox contacts"},
		Logs: "Operational logs hold, per request: the route template (never the raw path), status, duration, " +
			"client app name, tenant id, cache outcome and a random request id. No names, user ids, UPNs, " +
			"e-mail addresses, phone numbers, tokens, queries or bodies.",
		Rights: RightsRecord{
			AccessAndPortability: "GET /privacy/v1/me/export with your access token returns, as a JSON download, everything graphgate processes about you.",
			Rectification:        "graphgate holds no copy to correct or erase: change or delete your data in Microsoft 365; graphgate's cache forgets it within the cache lifetime.",
			Objection:            "Contact the controller above.",
		},
	}
	for _, cl := range pol.Clients() {
		n.ClientApps = append(n.ClientApps, ClientRecord{Name: cl.Name, AppID: cl.AppID, Purpose: cl.Purpose,
			Operations: cl.Operations, SelfFields: cl.SelfFields, OtherFields: othersFields(cl)})
		if cl.Allows(policy.OpPeopleRead) {
			n.People = peopleRecord()
		}
	}
	return n
}

// peopleRecord describes the People API reads (graph.Client.People, proxy/people.go).
func peopleRecord() *PeopleRecord {
	return &PeopleRecord{
		What: "For the apps that may list relevant people (people.read), graphgate asks Microsoft Graph's People API " +
			"which people are most relevant to a user (Microsoft ranks them from the user's communication and " +
			"collaboration). It asks only for the ids and types of people who are users of your organisation's " +
			"directory: mailbox contacts and people outside the directory are neither fetched nor shown.",
		FieldsFetched: spec.PeopleSelect(),
		Shown: "Each person is shown from their own directory profile, with only the fields the app may see of other " +
			"users; deactivated accounts are left out, and a search finds people only by fields the app may see. " +
			"A search reaches the whole directory only for apps that may also list users. Of another user's " +
			"relevant people, only their manager, direct reports and peers are shown, as far as the app may read " +
			"them, never whom they correspond with. The ranked ids are cached like profiles and purged with them.",
	}
}

// othersFields is what a client app sees of other users: nothing unless one of its
// operations reads other users.
func othersFields(cl *policy.Client) []string {
	for _, op := range []policy.Operation{policy.OpUsersRead, policy.OpUsersList, policy.OpManagerRead,
		policy.OpDirectReportsRead, policy.OpPeopleRead} {
		if cl.Allows(op) {
			return cl.OtherFields
		}
	}
	return []string{}
}

// cacheRecordOf describes the cache as configured, with cache's own defaults.
func cacheRecordOf(c cache.Config) CacheRecord {
	ttl, entries := c.TTL, c.MaxEntries
	if ttl <= 0 {
		ttl = cache.DefaultTTL
	}
	if entries <= 0 {
		entries = cache.DefaultMaxEntries
	}
	return CacheRecord{
		What: "Profile records (the fields listed above), photos, presence, search results and relevant people's ids, " +
			"as fetched from Microsoft Graph, so that repeated look-ups do not call Graph again.",
		Where:      "The memory of the gateway process only; never written to disk, never shared between instances.",
		TTLSeconds: int(ttl / time.Second),
		MaxEntries: entries,
		Purged:     "After the time to live; at once for a user on a remote logout; for a tenant on an admin purge; on restart.",
	}
}

// persistedRecords lists what the deployment keeps beyond a request; pc has its
// defaults filled in.
func persistedRecords(pc Config) []PersistedRecord {
	var out []PersistedRecord
	if pc.UsageStore != NoUsageStore {
		out = append(out, PersistedRecord{
			What: "Anonymised usage aggregates",
			Form: "Request counts and latency buckets per UTC hour, tenant, client app, operation (route template), " +
				"status class and cache outcome; per day, an estimate of distinct users. Distinct users are counted " +
				"with keyed hashes under a random daily key that is held in memory only and never stored. " +
				"Release rule: a figure is shown only when at least " + strconv.Itoa(pc.UsageMinUsers) +
				" distinct users stand behind it, and totals are protected against subtraction.",
			Where:            pc.UsageStore,
			Retention:        HumanDuration(pc.UsageRetention),
			RetentionSeconds: int64(pc.UsageRetention / time.Second),
			Personal:         false,
		})
	}
	out = append(out, PersistedRecord{
		What: "Revocation markers (remote logout)",
		Form: "For a user an administrator logged out: a keyed hash (HMAC-SHA256) of tenant and user and the cut-off " +
			"time before which that user's tokens are refused; where shared between instances, the tenant id and " +
			"the same keyed hash, by which every instance purges its cache. No names, no user ids in any reversible form.",
		Where:            pc.RevocationStore,
		Retention:        HumanDuration(pc.RevocationLifetime) + ", then deleted automatically",
		RetentionSeconds: int64(pc.RevocationLifetime / time.Second),
		Personal:         true,
	})
	if pc.AuditSink != "" {
		out = append(out, PersistedRecord{
			What:      "Audit records of administrators' actions",
			Form:      "Time, action, tenant, actor and target as keyed hashes, result, request id. No names, UPNs or e-mail addresses.",
			Where:     pc.AuditSink,
			Retention: "as configured by the operator of the audit sink",
			Personal:  true,
		})
	}
	return out
}
