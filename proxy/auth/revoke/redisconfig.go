package revoke

import "time"

// Defaults applied to zero RedisConfig fields.
const (
	DefaultRedisPrefix    = "graphgate"
	DefaultPingInterval   = 500 * time.Millisecond
	DefaultResyncInterval = 30 * time.Second
	DefaultRedisTimeout   = time.Second
)

// unansweredPings is how many ping intervals a subscription may stay silent (its pings
// unanswered) before it counts as failed and is replaced with a fresh connection.
const unansweredPings = 3

// RedisConfig says where the shared list lives.
type RedisConfig struct {
	// URL is a Redis URL: redis://[user:password@]host:port/db or rediss://... for TLS.
	URL string
	// Prefix namespaces the keys ("{prefix}:revoked:{hash}") and the channel
	// ("{prefix}:revocations"); "" means "graphgate".
	Prefix string
	// PingInterval is how often connectivity is checked; 0 means 500 ms.
	PingInterval time.Duration
	// ResyncInterval is how often the full list is reloaded even when nothing seems
	// lost; 0 means 30 s.
	ResyncInterval time.Duration
	// Timeout bounds one Redis command and one connection attempt; 0 means one second.
	Timeout time.Duration
	// RepairWait is how long an instance that has never held the complete list waits,
	// when Redis does not vouch for its list (the "{prefix}:revocation-list" key is
	// missing: a first start, or Redis restarted without persistence), for the running
	// instances to write back what they know before it trusts what Redis holds. While
	// such instances are subscribed it waits for them up to ResyncInterval. Until then
	// its view is not current (Ready reports degraded).
	//
	// 0 means the longest a running instance takes to be back on a Redis that replaced
	// its predecessor without closing the old connections (a silence of
	// (3+1) × PingInterval noticed, PingInterval of back-off, Timeout to dial; or a probe
	// that times out and the next one that dials), plus Timeout as a margin: 4.5 s with
	// the defaults, and it grows with PingInterval and Timeout. A shorter wait lets a
	// new instance started together with a Redis replacement trust an empty list before
	// the running instances have written back what they hold; the price of the longer
	// wait is that a new instance on an empty Redis (a first start, a new Prefix) or
	// after a Redis restart is not ready for that long.
	RepairWait time.Duration
}

// withDefaults returns rc with its zero fields set to their defaults.
func (rc RedisConfig) withDefaults() RedisConfig {
	if rc.Prefix == "" {
		rc.Prefix = DefaultRedisPrefix
	}
	if rc.PingInterval <= 0 {
		rc.PingInterval = DefaultPingInterval
	}
	if rc.ResyncInterval <= 0 {
		rc.ResyncInterval = DefaultResyncInterval
	}
	if rc.Timeout <= 0 {
		rc.Timeout = DefaultRedisTimeout
	}
	if rc.RepairWait <= 0 {
		rc.RepairWait = rc.recoveryTime() + rc.Timeout
	}
	return rc
}

// silenceLimit is how long a subscription may stay silent before receive gives it up.
func (rc RedisConfig) silenceLimit() time.Duration { return unansweredPings * rc.PingInterval }

// resubscribeBackoff is how long receiveLoop waits before it subscribes again.
func (rc RedisConfig) resubscribeBackoff() time.Duration { return rc.PingInterval }

// recoveryTime is the longest a running instance takes, after its connections died
// without a word (Redis replaced under it: no reset, no close), both to be subscribed
// again (so that a new instance's PUBSUB NUMSUB counts it) and to have written back
// what it holds. It is the later of the two paths that notice, computed from the
// intervals receive, receiveLoop and maintainLoop use:
//   - the subscription: receive checks the silence once per PingInterval, so it notices
//     it up to one interval after silenceLimit; then resubscribeBackoff, then up to
//     Timeout to dial;
//   - the probes: the next probe starts within PingInterval and fails after Timeout on
//     the dead connection; the one after starts a PingInterval after the previous one
//     (at once if that took longer) and dials within Timeout.
func (rc RedisConfig) recoveryTime() time.Duration {
	sub := rc.silenceLimit() + rc.PingInterval + rc.resubscribeBackoff() + rc.Timeout
	probe := rc.PingInterval + max(rc.PingInterval, rc.Timeout) + rc.Timeout
	return max(sub, probe)
}
