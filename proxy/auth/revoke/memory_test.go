package revoke

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/auth/userkey"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// newClock returns the tests' settable clock, at a fixed instant.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) }

var secret = []byte("0123456789abcdef0123456789abcdef")

const (
	tenantA = "11111111-1111-1111-1111-111111111111"
	tenantB = "22222222-2222-2222-2222-222222222222"
	userX   = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	userY   = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
)

func TestMemoryRevocationSemantics(t *testing.T) {
	clk := newClock()
	m, err := NewMemory(Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	logout := clk.Now()
	rev, err := m.Revoke(context.Background(), tenantA, userX)
	if err != nil {
		t.Fatal(err)
	}
	if !rev.CutOff.Equal(logout.Add(DefaultLockout)) || !rev.Expires.Equal(logout.Add(DefaultLockout+DefaultMaxTokenLifetime)) {
		t.Fatalf("cut-off %v expires %v", rev.CutOff, rev.Expires)
	}
	if !m.Held(tenantA, userX) || m.Held(tenantA, userY) {
		t.Error("Held does not report the revocation")
	}
	if rev.Shared || rev.Notified {
		t.Errorf("a memory list claims to share: %+v", rev)
	}
	tests := []struct {
		name         string
		tenant, user string
		iat          time.Time
		after        time.Duration // clock advance before the check
		want         Verdict
	}{
		{"token issued before logout", tenantA, userX, logout.Add(-time.Minute), 0, Revoked},
		{"token issued within lock-out", tenantA, userX, logout.Add(4 * time.Minute), 0, Revoked},
		{"token issued in the cut-off's second", tenantA, userX, rev.CutOff, 0, Revoked},
		{"token issued after the cut-off", tenantA, userX, rev.CutOff.Add(time.Second), 0, Allow},
		{"same user id, other tenant", tenantB, userX, logout.Add(-time.Minute), 0, Allow},
		{"other user, same tenant", tenantA, userY, logout.Add(-time.Minute), 0, Allow},
		{"upper-case ids match", strings.ToUpper(tenantA), strings.ToUpper(userX), logout, 0, Revoked},
		{"forgotten after retention", tenantA, userX, logout.Add(-time.Minute), DefaultLockout + DefaultMaxTokenLifetime, Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.after)
			if got := m.Check(tc.tenant, tc.user, tc.iat); got != tc.want {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"short secret", Config{Secret: []byte("short")}, false},
		{"unknown mode", Config{Secret: secret, OnUnavailable: "maybe"}, false},
		{"defaults", Config{Secret: secret}, true},
		{"fail open", Config{Secret: secret, OnUnavailable: FailOpen}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMemory(tc.cfg)
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := NewMemory(Config{Secret: secret}); err != nil {
		t.Fatal(err)
	}
	m, _ := NewMemory(Config{Secret: secret})
	if _, err := m.Revoke(context.Background(), "", userX); err == nil {
		t.Error("Revoke accepted an empty tenant")
	}
}

func TestLockoutNegativeMeansNone(t *testing.T) {
	clk := newClock()
	m, _ := NewMemory(Config{Secret: secret, Now: clk.Now, Lockout: -1})
	rev, _ := m.Revoke(context.Background(), tenantA, userX)
	if !rev.CutOff.Equal(clk.Now()) {
		t.Fatalf("cut-off %v, want the logout time", rev.CutOff)
	}
	if got := m.Check(tenantA, userX, clk.Now().Add(time.Second)); got != Allow {
		t.Errorf("a token issued after a lock-out-free logout: %v", got)
	}
}

func TestKeyIsUserkeyOf(t *testing.T) {
	// The scheme itself is tested in package userkey; here, only that revoke uses it.
	for _, ids := range [][2]string{{tenantA, userX}, {strings.ToUpper(tenantA), strings.ToUpper(userX)}, {tenantB, userY}} {
		if got, want := Key(secret, ids[0], ids[1]), userkey.Of(secret, ids[0], ids[1]); got != want {
			t.Errorf("Key(%q, %q) = %q, want userkey.Of = %q", ids[0], ids[1], got, want)
		}
	}
}

func TestKeyOf(t *testing.T) {
	m, err := NewMemory(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// No Redis needed: KeyOf is local, and the store only connects in the background.
	r, err := NewRedis(Config{Secret: secret}, RedisConfig{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stores := []struct {
		name  string
		keyOf func(tenantID, userID string) string
	}{
		{"memory", m.KeyOf},
		{"redis", r.KeyOf},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			if got, want := st.keyOf(tenantA, userX), Key(secret, tenantA, userX); got != want {
				t.Errorf("KeyOf = %q, want Key(secret, ...) = %q", got, want)
			}
			if st.keyOf(tenantA, strings.ToUpper(userX)) != st.keyOf(tenantA, userX) {
				t.Error("KeyOf is case-sensitive")
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	m, _ := NewMemory(Config{Secret: secret})
	for i := range 1000 {
		_, _ = m.Revoke(context.Background(), tenantA, strings.Repeat("0", 8)+"-"+string(rune('a'+i%26))+"aaa-aaaa-aaaa-"+strings.Repeat("1", 12))
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m.Check(tenantA, userY, now)
	}
}

func TestRetentionForIsWhatAStoreRemembers(t *testing.T) {
	tests := []struct {
		name              string
		lockout, lifetime time.Duration
		want              time.Duration
	}{
		{"defaults", 0, 0, DefaultLockout + DefaultMaxTokenLifetime},
		{"no lock-out", -1, 0, DefaultMaxTokenLifetime},
		{"negative lifetime", 0, -time.Minute, DefaultLockout + DefaultMaxTokenLifetime},
		{"configured", 10 * time.Minute, time.Hour, 70 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetentionFor(tt.lockout, tt.lifetime); got != tt.want {
				t.Errorf("RetentionFor = %v, want %v", got, tt.want)
			}
			clk := newClock()
			m, err := NewMemory(Config{Secret: secret, Lockout: tt.lockout, MaxTokenLifetime: tt.lifetime, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			rv, err := m.Revoke(context.Background(), tenantA, userX)
			if err != nil {
				t.Fatal(err)
			}
			if got := rv.Expires.Sub(clk.Now()); got != tt.want {
				t.Errorf("the store remembers the revocation for %v, RetentionFor says %v", got, tt.want)
			}
		})
	}
}
