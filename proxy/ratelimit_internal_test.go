package proxy

import (
	"testing"
	"time"
)

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

func TestRateLimitDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   RateLimitConfig
		want RateLimitConfig
	}{
		{"zero", RateLimitConfig{}, RateLimitConfig{PerUserRPS: 20, PerUserBurst: 100, PerClientRPS: 1000, PerClientBurst: 2000, MaxTrackedUsers: 100_000}},
		{"burst below a batch", RateLimitConfig{PerUserRPS: 1, PerUserBurst: 2, PerClientRPS: 5, PerClientBurst: 3, MaxTrackedUsers: 10},
			RateLimitConfig{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: 5, PerClientBurst: 20, MaxTrackedUsers: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if rl := newRateLimiter(RateLimitConfig{PerUserRPS: -1, PerClientRPS: -1}); rl.users != nil || rl.clients != nil {
		t.Error("negative rates must switch the limits off")
	}
}

func TestTakeRefundsOnRefusal(t *testing.T) {
	rl := newRateLimiter(RateLimitConfig{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: 1, PerClientBurst: 25})
	now := time.Unix(1_700_000_000, 0)
	if d := rl.take(now, "t", "app", "u1", 20); d != 0 {
		t.Fatalf("first 20: wait %s", d)
	}
	// u1 is empty: refused, and the client app's bucket keeps its 5 tokens.
	if d := rl.take(now, "t", "app", "u1", 1); d <= 0 {
		t.Fatal("21st request of u1 passed")
	}
	if d := rl.take(now, "t", "app", "u2", 5); d != 0 {
		t.Fatalf("u2's 5 requests: wait %s; the refused request was charged to the app", d)
	}
	if d := rl.take(now, "t", "app", "u3", 1); d <= 0 {
		t.Fatal("the app's bucket is empty, yet u3 passed")
	}
	if d := rl.take(now.Add(2*time.Second), "t", "app", "u3", 1); d != 0 {
		t.Fatalf("after refill: wait %s", d)
	}
}
