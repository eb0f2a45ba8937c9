package revoke

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// Reasons why the view is not current, as Ready reports them. /readyz shows them
// without authentication, so they are fixed texts: never an error's text, which can
// name Redis's address, an internal IP or the Redis user. The error goes to the log.
const (
	reasonNotLoaded   = "revocation list not yet loaded from redis"
	reasonUnreachable = "redis unreachable"
	reasonSubLost     = "redis subscription lost"
	reasonNotSynced   = "revocation list not loaded since reconnect"
	reasonChanged     = "redis restarted while the revocation list was loading: reloading it"
	reasonScripts     = "redis refuses scripts (EVAL/EVALSHA/SCRIPT LOAD not permitted)"
	reasonRefused     = "redis refuses a command the revocation list needs"
)

// notLoaded is the reason a store gives before its first attempt to reach Redis.
const notLoaded = reasonNotLoaded

// errListChanged says that the key by which Redis vouches for the list changed or
// vanished while the list was loading: Redis restarted meanwhile, so what was loaded
// may be a part of the list.
var errListChanged = errors.New(reasonChanged)

// scriptsRefusedError is Redis refusing the revocation script (an ACL without the
// scripting commands, renamed or disabled commands). It has no Unwrap on purpose:
// go-redis unwraps an error of connection setup (OnConnect) once before returning it.
type scriptsRefusedError struct{ cause error }

func (e scriptsRefusedError) Error() string { return "redis refuses scripts: " + e.cause.Error() }

// scriptErr marks err, the answer to SCRIPT LOAD, EVAL or EVALSHA, as a refusal of
// scripts when Redis itself answered it with an error that is not transient.
func scriptErr(err error) error {
	var re redis.Error
	if err == nil || !errors.As(err, &re) {
		return err
	}
	for _, transient := range []string{"LOADING", "BUSY", "NOSCRIPT", "MASTERDOWN", "TRYAGAIN"} {
		if redis.HasErrorPrefix(err, transient) {
			return err
		}
	}
	return scriptsRefusedError{err}
}

// reasonFor returns the fixed reason for err, or otherwise for an error that is not
// Redis refusing something (a network failure, a timeout).
func reasonFor(err error, otherwise string) string {
	var sr scriptsRefusedError
	var re redis.Error
	switch {
	case errors.Is(err, errAwaitRepair):
		return errAwaitRepair.Error()
	case errors.Is(err, errListChanged):
		return reasonChanged
	case errors.As(err, &sr):
		return reasonScripts
	case errors.As(err, &re) && !redis.HasErrorPrefix(err, "LOADING"):
		return reasonRefused
	}
	return otherwise
}

// fail records why the view is not current: a fixed reason for Ready, and err, which
// may hold Redis's address or user, for the log only. A refusal by Redis (a setup
// problem, not an outage) is logged once each time it starts. Callers hold r.mu.
func (r *Redis) fail(reason string, err error) {
	r.detail = ""
	if err != nil {
		r.detail = err.Error()
	}
	if (reason == reasonScripts || reason == reasonRefused) && reason != r.logged {
		r.logged = reason
		r.cfg.Logger.Error("revocation list: "+reason, "error", r.detail)
	}
	r.reason = reason
}

func (r *Redis) setSubscribed(on bool, err error) {
	r.mu.Lock()
	switch {
	case on:
		r.subGen++
		if r.reason != notLoaded {
			r.reason = reasonNotSynced
		}
	case err != nil && !errors.Is(err, context.Canceled):
		r.fail(reasonFor(err, reasonSubLost), err)
	}
	r.subscribed = on
	r.mu.Unlock()
	r.updateState()
}

func (r *Redis) setConnected(on bool, err error) {
	r.mu.Lock()
	r.connected = on
	if err != nil {
		r.fail(reasonFor(err, reasonUnreachable), err)
	}
	r.mu.Unlock()
	r.updateState()
}

// updateState recomputes whether the view is current and logs transitions.
func (r *Redis) updateState() {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.connected && r.subscribed && r.synced && r.syncedGen == r.subGen
	was := r.current.Load()
	switch {
	case cur && !was:
		r.current.Store(true)
		r.holder.Store(true)
		r.staleSince.Store(0)
		if r.degraded {
			r.cfg.Logger.Info("revocation list current again: redis reachable and re-synced", "known", r.mir.len())
		}
		r.degraded, r.logged, r.detail = false, "", ""
	case !cur && was:
		r.current.Store(false)
		r.staleSince.Store(r.cfg.Now().UnixNano())
		r.degraded = true
		r.cfg.Logger.Warn("revocation list degraded: enforcing the last known revocations",
			"reason", r.reason, "error", r.detail, "on_unavailable", string(r.cfg.OnUnavailable), "known", r.mir.len())
	case !cur && !r.degraded && r.reason != notLoaded:
		r.degraded = true
		r.cfg.Logger.Warn("revocation list not loaded yet", "reason", r.reason, "error", r.detail,
			"on_unavailable", string(r.cfg.OnUnavailable))
	}
}
