package revoke

import (
	"sync"
	"sync/atomic"
	"time"
)

// entry is one revocation in the local mirror. The tenant id travels with it so that a
// store can write the revocation back to a shared list that lost it.
type entry struct {
	tenant  string
	cutOff  time.Time
	expires time.Time
}

// mirror is the local copy of the revocation list: a map keyed by the keyed hash of
// tenant and user. Cut-offs only ever move forward, so merging updates in any order
// gives the same result.
type mirror struct {
	mu sync.RWMutex
	m  map[string]entry
	n  atomic.Int64 // len(m), read without the lock on the hot path
}

func newMirror() *mirror { return &mirror{m: map[string]entry{}} }

// apply merges e under key and reports whether it changed the mirror (a new entry or
// a later cut-off). Expired entries are ignored.
func (m *mirror) apply(key string, e entry, now time.Time) bool {
	if !e.expires.After(now) {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[key]
	if ok && !e.cutOff.After(old.cutOff) {
		if e.expires.After(old.expires) {
			old.expires = e.expires
			m.m[key] = old
		}
		return false
	}
	if ok && old.expires.After(e.expires) {
		e.expires = old.expires
	}
	m.m[key] = e
	m.n.Store(int64(len(m.m)))
	return true
}

// cutOff returns the cut-off stored under key, if it has not expired.
func (m *mirror) cutOff(key string, now time.Time) (time.Time, bool) {
	m.mu.RLock()
	e, ok := m.m[key]
	m.mu.RUnlock()
	if !ok || !e.expires.After(now) {
		return time.Time{}, false
	}
	return e.cutOff, true
}

// empty reports whether the mirror holds no entries, without taking the lock.
func (m *mirror) empty() bool { return m.n.Load() == 0 }

// sweep forgets expired entries.
func (m *mirror) sweep(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.m {
		if !e.expires.After(now) {
			delete(m.m, k)
		}
	}
	m.n.Store(int64(len(m.m)))
}

// live returns a copy of the entries that have not expired, by key.
func (m *mirror) live(now time.Time) map[string]entry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]entry, len(m.m))
	for k, e := range m.m {
		if e.expires.After(now) {
			out[k] = e
		}
	}
	return out
}

// len returns the number of entries, expired ones included until the next sweep.
func (m *mirror) len() int { return int(m.n.Load()) }
