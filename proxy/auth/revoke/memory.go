package revoke

import (
	"context"
	"sync"
	"time"
)

// Memory is a revocation list held by one gateway instance only. Its view is always
// current, so it never answers Unverifiable. It is safe for concurrent use.
type Memory struct {
	cfg Config
	h   *hasher
	mir *mirror

	mu        sync.Mutex
	lastSweep time.Time
}

// NewMemory returns an empty in-memory list.
func NewMemory(cfg Config) (*Memory, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Memory{cfg: cfg, h: newHasher(cfg.Secret), mir: newMirror()}, nil
}

// Lockout returns Config.Lockout with its default applied: how long after a revocation
// Entra's token service may still issue tokens from revoked refresh tokens.
func (m *Memory) Lockout() time.Duration { return m.cfg.Lockout }

// Check reports whether a token of the user issued at iat is revoked.
func (m *Memory) Check(tenantID, userID string, iat time.Time) Verdict {
	return check(m.mir, m.h, tenantID, userID, iat, m.cfg.Now())
}

// check is the hot path shared by the stores: a local map lookup.
func check(mir *mirror, h *hasher, tenantID, userID string, iat, now time.Time) Verdict {
	if mir.empty() {
		return Allow
	}
	if cut, ok := mir.cutOff(h.key(tenantID, userID), now); ok && IssuedBefore(iat, cut) {
		return Revoked
	}
	return Allow
}

// Revoke refuses, from now on, every token of the user issued before now + Lockout.
func (m *Memory) Revoke(_ context.Context, tenantID, userID string) (Revocation, error) {
	if err := checkIDs(tenantID, userID); err != nil {
		return Revocation{}, err
	}
	now := m.cfg.Now()
	e := entry{tenant: tenantID, cutOff: now.Add(m.cfg.Lockout), expires: now.Add(m.cfg.Retention())}
	m.mir.apply(m.h.key(tenantID, userID), e, now)
	m.mu.Lock()
	if now.Sub(m.lastSweep) > time.Minute {
		m.lastSweep = now
		m.mir.sweep(now)
	}
	m.mu.Unlock()
	return Revocation{CutOff: e.cutOff, Expires: e.expires}, nil
}

// PurgeTenant has no other instance to tell: it reports false.
func (m *Memory) PurgeTenant(context.Context, string) (bool, error) { return false, nil }

// Subscribe does nothing: no revocation of a Memory list comes from elsewhere.
func (m *Memory) Subscribe(Subscriber) {}

// Ready always reports nil: an in-memory list is always current.
func (m *Memory) Ready() error { return nil }

// Close does nothing.
func (m *Memory) Close() error { return nil }

// Len returns the number of remembered revocations.
func (m *Memory) Len() int { return m.mir.len() }

// KeyOf returns the keyed hash of a user, Key(secret, tenantID, userID): what a
// Subscriber is told for a revoked user.
func (m *Memory) KeyOf(tenantID, userID string) string { return m.h.key(tenantID, userID) }

// Held reports whether a revocation of the user is remembered (for the data subject's
// export: "is there a revocation marker about me?").
func (m *Memory) Held(tenantID, userID string) bool {
	_, ok := m.mir.cutOff(m.h.key(tenantID, userID), m.cfg.Now())
	return ok
}
