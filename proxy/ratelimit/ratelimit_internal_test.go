package ratelimit

import "testing"

func TestBucketSetIsBounded(t *testing.T) {
	b := newBucketSet(1, 20, 3)
	for i := range 10 {
		b.bucket("tenant", string(rune('a'+i)))
	}
	if n := b.lru.Len(); n != 3 {
		t.Fatalf("%d buckets kept, want at most 3", n)
	}
	first := b.bucket("t", "x")
	if again := b.bucket("t", "x"); again != first {
		t.Error("the same key must give the same bucket")
	}
	if b.bucket("t", "x") == b.bucket("u", "x") {
		t.Error("the same id in another tenant must have its own bucket")
	}
	if b.bucket("ab", "c") == b.bucket("a", "bc") {
		t.Error("tenant and id must be separated in the key")
	}
}

func TestNegativeRatesSwitchLimitsOff(t *testing.T) {
	if l := New(Config{PerUserRPS: -1, PerClientRPS: -1}); l.users != nil || l.clients != nil {
		t.Error("negative rates must switch the limits off")
	}
}
