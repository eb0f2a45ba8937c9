package privacy_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/privacy"
	"github.com/graphgate/graphgate/proxy/usage"
)

// TestDefaultsAreThoseOfTheirOwners keeps the record and the running defaults from
// drifting apart: the zero Config states usage's and revoke's defaults.
func TestDefaultsAreThoseOfTheirOwners(t *testing.T) {
	def, err := usage.ParseRetention("")
	if err != nil {
		t.Fatal(err)
	}
	pc := privacy.Config{}.WithDefaults()
	tests := []struct {
		name      string
		got, want any
	}{
		{"usage retention is usage.DefaultRetention", pc.UsageRetention, usage.DefaultRetention.Approx()},
		{"usage retention is what an unset retention parses to", pc.UsageRetention, def.Approx()},
		{"usage retention reads as 13 months", privacy.HumanDuration(pc.UsageRetention), "13 months"},
		{"k is usage.DefaultK", pc.UsageMinUsers, usage.DefaultK},
		{"revocation lifetime is revoke's lock-out plus token lifetime", pc.RevocationLifetime,
			revoke.DefaultLockout + revoke.DefaultMaxTokenLifetime},
		{"usage store", pc.UsageStore, "sqlite"},
		{"revocation store", pc.RevocationStore, "memory"},
		{"contact", pc.Contact, "not configured"},
		{"hosting region", pc.HostingRegion, "not configured"},
		{"no audit sink", pc.AuditSink, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if pc.Controller == "" {
		t.Error("no default controller")
	}
}

func TestWithDefaultsKeepsConfiguredValues(t *testing.T) {
	held := func(string, string) (bool, bool) { return true, true }
	in := privacy.Config{Controller: "Contoso GmbH", Contact: "privacy@contoso.example", HostingRegion: "EU",
		UsageStore: privacy.NoUsageStore, UsageRetention: 400 * 24 * time.Hour, UsageMinUsers: 7,
		RevocationStore: "redis", RevocationLifetime: time.Hour, AuditSink: "file", RevocationHeld: held}
	out := in.WithDefaults()
	if out.RevocationHeld == nil {
		t.Fatal("RevocationHeld dropped")
	}
	in.RevocationHeld, out.RevocationHeld = nil, nil
	if !reflect.DeepEqual(in, out) {
		t.Errorf("WithDefaults changed configured values:\n got %+v\nwant %+v", out, in)
	}
}

// TestRevocationLifetimeIsWhatTheListKeeps checks revoke.RetentionFor, which the record
// states (cmd passes it the configured lock-out and lifetime), against what a revocation
// list configured alike actually does.
func TestRevocationLifetimeIsWhatTheListKeeps(t *testing.T) {
	tests := []struct {
		name              string
		lockout, lifetime time.Duration
		want              time.Duration
	}{
		{"defaults", 0, 0, revoke.DefaultLockout + revoke.DefaultMaxTokenLifetime},
		{"no lock-out", -time.Second, 0, revoke.DefaultMaxTokenLifetime},
		{"default lock-out", 0, time.Hour, revoke.DefaultLockout + time.Hour},
		{"configured", 10 * time.Minute, 2 * time.Hour, 130 * time.Minute},
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := revoke.RetentionFor(tt.lockout, tt.lifetime)
			if got != tt.want {
				t.Errorf("RetentionFor = %v, want %v", got, tt.want)
			}
			m, err := revoke.NewMemory(revoke.Config{Secret: []byte("0123456789abcdef"), Lockout: tt.lockout,
				MaxTokenLifetime: tt.lifetime, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			rv, err := m.Revoke(context.Background(), "tenant", "user")
			if err != nil {
				t.Fatal(err)
			}
			if kept := rv.Expires.Sub(now); kept != got {
				t.Errorf("the list keeps a marker for %v, the record says %v", kept, got)
			}
		})
	}
}
