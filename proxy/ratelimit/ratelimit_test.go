package ratelimit_test

import (
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/ratelimit"
)

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   ratelimit.Config
		want ratelimit.Config
	}{
		{"zero", ratelimit.Config{}, ratelimit.Config{PerUserRPS: 20, PerUserBurst: 100, PerClientRPS: 1000, PerClientBurst: 2000, MaxTrackedUsers: 100_000}},
		{"burst below a batch", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 2, PerClientRPS: 5, PerClientBurst: 3, MaxTrackedUsers: 10},
			ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: 5, PerClientBurst: 20, MaxTrackedUsers: 10}},
		{"negative rates kept", ratelimit.Config{PerUserRPS: -1, PerClientRPS: -1, MaxTrackedUsers: -5},
			ratelimit.Config{PerUserRPS: -1, PerUserBurst: 100, PerClientRPS: -1, PerClientBurst: 2000, MaxTrackedUsers: 100_000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.WithDefaults(); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

var t0 = time.Unix(1_700_000_000, 0)

func TestTakeRefundsOnRefusal(t *testing.T) {
	rl := ratelimit.New(ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: 1, PerClientBurst: 25})
	now := t0
	if d := rl.Take(now, "t", "app", "u1", 20); d != 0 {
		t.Fatalf("first 20: wait %s", d)
	}
	// u1 is empty: refused, and the client app's bucket keeps its 5 tokens.
	if d := rl.Take(now, "t", "app", "u1", 1); d <= 0 {
		t.Fatal("21st request of u1 passed")
	}
	if d := rl.Take(now, "t", "app", "u2", 5); d != 0 {
		t.Fatalf("u2's 5 requests: wait %s; the refused request was charged to the app", d)
	}
	if d := rl.Take(now, "t", "app", "u3", 1); d <= 0 {
		t.Fatal("the app's bucket is empty, yet u3 passed")
	}
	if d := rl.Take(now.Add(2*time.Second), "t", "app", "u3", 1); d != 0 {
		t.Fatalf("after refill: wait %s", d)
	}
}

func TestTake(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		takes []int // charges by one user, all at t0; the last one is checked
		want  time.Duration
	}{
		{"within burst", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20}, []int{20}, 0},
		{"one over burst", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20}, []int{20, 1}, time.Second},
		{"refill rate sets the wait", ratelimit.Config{PerUserRPS: 4, PerUserBurst: 20}, []int{20, 2}, 500 * time.Millisecond},
		{"over burst takes the whole burst", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20}, []int{50}, 0},
		{"zero charges nothing", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20}, []int{20, 0}, 0},
		{"negative charges nothing", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20}, []int{-5, 20, 0}, 0},
		{"client bucket binds", ratelimit.Config{PerUserRPS: 1, PerUserBurst: 100, PerClientRPS: 2, PerClientBurst: 20}, []int{20, 1}, 500 * time.Millisecond},
		{"both off", ratelimit.Config{PerUserRPS: -1, PerClientRPS: -1}, []int{1000, 1000}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rl := ratelimit.New(tc.cfg)
			var got time.Duration
			for _, n := range tc.takes {
				got = rl.Take(t0, "t", "app", "u", n)
			}
			if got != tc.want {
				t.Fatalf("wait %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTakeKeepsTenantsApart(t *testing.T) {
	rl := ratelimit.New(ratelimit.Config{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: 1, PerClientBurst: 20})
	if d := rl.Take(t0, "t1", "app", "u", 20); d != 0 {
		t.Fatalf("t1: wait %s", d)
	}
	if d := rl.Take(t0, "t2", "app", "u", 20); d != 0 {
		t.Fatalf("the same user and app ids in another tenant share a bucket: wait %s", d)
	}
}

func TestNilLimiterAllows(t *testing.T) {
	var rl *ratelimit.Limiter
	if d := rl.Take(t0, "t", "app", "u", 1000); d != 0 {
		t.Fatalf("nil limiter: wait %s", d)
	}
}
