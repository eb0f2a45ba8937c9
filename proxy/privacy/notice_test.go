package privacy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/privacy"
)

const testPolicy = `clients:
  - app_id: 11111111-2222-3333-4444-555555555555
    name: chat-web
    purpose: Show colleagues' names, photos and presence in chat.
    operations: [me.read, users.read, users.list, photo.read, presence.read]
    fields:
      self: [displayName, mail, jobTitle]
      others: [displayName, jobTitle]
  - app_id: 99999999-8888-7777-6666-555555555555
    name: mobile
    purpose: The mobile app shows the signed-in user's own profile <only>.
    operations: [me.read, photo.read]
    fields:
      self: [id, displayName, mobilePhone]
`

func testPol(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoticeStatesThePolicy(t *testing.T) {
	pol := testPol(t)
	n := privacy.NewNotice(pol, pol.UpstreamFields(), cache.Config{}, privacy.Config{})
	if !slices.Equal(n.FetchedFields, pol.UpstreamFields()) {
		t.Errorf("fetched fields %v, want the policy's %v", n.FetchedFields, pol.UpstreamFields())
	}
	if !slices.Equal(n.InternalFields, policy.InternalFields) {
		t.Errorf("internal fields %v", n.InternalFields)
	}
	clients := pol.Clients()
	if len(n.ClientApps) != len(clients) {
		t.Fatalf("%d client apps, want %d", len(n.ClientApps), len(clients))
	}
	for i, cl := range clients {
		got := n.ClientApps[i]
		if got.Name != cl.Name || got.AppID != cl.AppID || got.Purpose != cl.Purpose ||
			!slices.Equal(got.Operations, cl.Operations) || !slices.Equal(got.SelfFields, cl.SelfFields) {
			t.Errorf("client app %d: %+v", i, got)
		}
	}
	if o := n.ClientApps[0].OtherFields; !slices.Equal(o, clients[0].OtherFields) || len(o) == 0 {
		t.Errorf("chat-web reads other users, yet lists %v of them", o)
	}
	if o := n.ClientApps[1].OtherFields; o == nil || len(o) != 0 {
		t.Errorf("mobile reads no other user, yet lists %#v of them", o)
	}
	if len(n.SubProcessors) != 1 || !strings.Contains(n.SubProcessors[0].Name, "Microsoft Graph") {
		t.Errorf("sub-processors %+v", n.SubProcessors)
	}
}

func TestNoticeStatesTheCache(t *testing.T) {
	tests := []struct {
		name        string
		cfg         cache.Config
		ttl, maxEnt int
	}{
		{"defaults are cache's", cache.Config{}, int(cache.DefaultTTL / time.Second), cache.DefaultMaxEntries},
		{"configured", cache.Config{TTL: 30 * time.Second, MaxEntries: 500}, 30, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := privacy.NewNotice(nil, nil, tt.cfg, privacy.Config{}).Cache
			if c.TTLSeconds != tt.ttl || c.MaxEntries != tt.maxEnt {
				t.Errorf("cache record %+v, want ttl %d s, %d entries", c, tt.ttl, tt.maxEnt)
			}
		})
	}
}

func TestNoticeStatesWhatIsPersisted(t *testing.T) {
	tests := []struct {
		name  string
		cfg   privacy.Config
		check func(t *testing.T, p map[string]privacy.PersistedRecord)
	}{
		{"defaults", privacy.Config{}, func(t *testing.T, p map[string]privacy.PersistedRecord) {
			u, r := p["usage"], p["revocation"]
			want := privacy.Config{}.WithDefaults()
			if u.Where != "sqlite" || u.Retention != "13 months" || u.RetentionSeconds != int64(want.UsageRetention/time.Second) ||
				u.Personal || !strings.Contains(u.Form, "at least 5 distinct users") {
				t.Errorf("usage %+v", u)
			}
			if r.Where != "memory" || r.RetentionSeconds != int64(want.RevocationLifetime/time.Second) ||
				r.Retention != "95 minutes, then deleted automatically" || !r.Personal || !strings.Contains(r.Form, "keyed hash") {
				t.Errorf("revocation %+v", r)
			}
			if _, ok := p["audit"]; ok {
				t.Error("audit records listed without an audit sink")
			}
		}},
		{"configured", privacy.Config{UsageStore: "postgres", UsageMinUsers: 7, UsageRetention: 400 * 24 * time.Hour,
			RevocationStore: "redis", RevocationLifetime: 2 * time.Hour, AuditSink: "file"},
			func(t *testing.T, p map[string]privacy.PersistedRecord) {
				if u := p["usage"]; u.Where != "postgres" || u.Retention != "400 days" || !strings.Contains(u.Form, "at least 7 distinct users") {
					t.Errorf("usage %+v", u)
				}
				if r := p["revocation"]; r.Where != "redis" || r.RetentionSeconds != 7200 || !strings.HasPrefix(r.Retention, "2 hours") {
					t.Errorf("revocation %+v", r)
				}
				if a := p["audit"]; a.Where != "file" || !a.Personal {
					t.Errorf("audit %+v", a)
				}
			}},
		{"no usage store", privacy.Config{UsageStore: privacy.NoUsageStore}, func(t *testing.T, p map[string]privacy.PersistedRecord) {
			if u, ok := p["usage"]; ok {
				t.Errorf("usage aggregates listed though none are kept: %+v", u)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byKind := map[string]privacy.PersistedRecord{}
			for _, p := range privacy.NewNotice(nil, nil, cache.Config{}, tt.cfg).Persisted {
				for _, k := range []string{"usage", "revocation", "audit"} {
					if strings.Contains(strings.ToLower(p.What), k) {
						byKind[k] = p
					}
				}
			}
			tt.check(t, byKind)
		})
	}
}

// TestNoticeJSONShape pins the JSON field names clients of /privacy read.
func TestNoticeJSONShape(t *testing.T) {
	b, err := json.Marshal(privacy.NewNotice(testPol(t), testPol(t).UpstreamFields(), cache.Config{}, privacy.Config{AuditSink: "file"}))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"cache", "client_apps", "contact", "controller", "data_subject_rights", "fields_fetched_from_graph",
		"hosting_region", "internal_fields", "logs", "never_stored", "persisted", "service", "sub_processors", "summary"}
	var got []string
	for k := range doc {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("top-level fields %v, want %v", got, want)
	}
	nested := []struct{ field, want string }{
		{"client_apps", `"fields_of_the_signed_in_user"`}, {"client_apps", `"fields_of_other_users"`},
		{"cache", `"ttl_seconds"`}, {"cache", `"max_entries"`}, {"persisted", `"retention_seconds"`},
		{"persisted", `"personal_data"`}, {"data_subject_rights", `"rectification_and_erasure"`},
		{"sub_processors", `"website"`},
	}
	for _, f := range nested {
		if !strings.Contains(string(doc[f.field]), f.want) {
			t.Errorf("%s lacks %s: %s", f.field, f.want, doc[f.field])
		}
	}
}

// TestNoticeStatesThePeopleReads: the record describes the People API reads exactly
// when an app may list relevant people, with the fields graphgate asks for.
func TestNoticeStatesThePeopleReads(t *testing.T) {
	pol := testPol(t)
	if n := privacy.NewNotice(pol, pol.UpstreamFields(), cache.Config{}, privacy.Config{}); n.People != nil {
		t.Errorf("no app may list people, yet the record describes people reads: %+v", n.People)
	}
	withPeople, err := policy.Parse([]byte(strings.Replace(testPolicy, "presence.read]", "presence.read, people.read]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	n := privacy.NewNotice(withPeople, withPeople.UpstreamFields(), cache.Config{}, privacy.Config{})
	if n.People == nil || !slices.Equal(n.People.FieldsFetched, spec.PeopleSelect()) {
		t.Fatalf("people record %+v, want the fields %v", n.People, spec.PeopleSelect())
	}
	if got := n.ClientApps[0].OtherFields; !slices.Equal(got, withPeople.Clients()[0].OtherFields) {
		t.Errorf("others' fields of an app with people.read: %v", got)
	}
	page, err := n.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Relevant people", "<code>personType</code>", "mailbox contacts"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
