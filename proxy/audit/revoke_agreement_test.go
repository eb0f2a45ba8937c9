package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
)

// TestRecordsAndRevocationListNameUsersAlike proves that, for the same secret, an audit
// record names its actor and target by the key under which the revocation list holds
// them, whatever the case of the ids, so an operator can match the two.
func TestRecordsAndRevocationListNameUsersAlike(t *testing.T) {
	rl, err := revoke.NewMemory(revoke.Config{Secret: key})
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "11111111-1111-1111-1111-111111111111"
	tests := []struct {
		name                     string
		tenant, actor, target    string
		revTenant, revA, revT    string // the same people as the revocation list is asked about them
		wantActorSame, wantTSame bool
	}{
		{"same spelling", tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb",
			tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", true, true},
		{"mixed case in the audit event", "11111111-1111-1111-1111-111111111111", "AAAAaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "Alice@Contoso.example",
			tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "alice@contoso.example", true, true},
		{"mixed case at the revocation list", tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "alice@contoso.example",
			"11111111-1111-1111-1111-111111111111", "AAAAAAAA-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "ALICE@contoso.EXAMPLE", true, true},
		{"other users", tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb",
			tenant, "cccccccc-cccc-cccc-cccc-cccccccccccc", "dddddddd-dddd-dddd-dddd-dddddddddddd", false, false},
		{"another tenant", tenant, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb",
			"22222222-2222-2222-2222-222222222222", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := audit.New(&buf, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Emit(audit.Event{Action: "user.logout", TenantID: tt.tenant, ActorID: tt.actor,
				TargetID: tt.target, Result: audit.ResultSuccess, Status: 200}); err != nil {
				t.Fatal(err)
			}
			var rec struct{ Actor, Target string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.Actor == rl.KeyOf(tt.revTenant, tt.revA); got != tt.wantActorSame {
				t.Errorf("actor %q, revocation key %q: same = %v, want %v", rec.Actor, rl.KeyOf(tt.revTenant, tt.revA), got, tt.wantActorSame)
			}
			if got := rec.Target == rl.KeyOf(tt.revTenant, tt.revT); got != tt.wantTSame {
				t.Errorf("target %q, revocation key %q: same = %v, want %v", rec.Target, rl.KeyOf(tt.revTenant, tt.revT), got, tt.wantTSame)
			}
			if tt.wantActorSame && rec.Actor != revoke.Key(key, tt.tenant, tt.actor) {
				t.Errorf("actor %q is not revoke.Key of the event's ids", rec.Actor)
			}
		})
	}
}
