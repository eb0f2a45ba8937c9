package usage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// Distinct counts distinct users per UTC day, tenant and client app.
type Distinct interface {
	// Observe counts userKey (the caller's oid within tenant) for day. It is called on the
	// aggregator goroutine and must not wait on I/O.
	Observe(day time.Time, tenant, clientApp, userKey string)
	// Estimates returns the current estimates of every key observed since the last call,
	// and closes the days before now's UTC day: their final estimates are returned and
	// their hash keys and sketches dropped.
	Estimates(ctx context.Context, now time.Time) ([]DailyUsers, error)
}

// MemoryDistinct counts distinct users in process memory: HMAC-SHA256 of tenant‖oid under
// a random key per UTC day, fed into a HyperLogLog sketch per day × tenant × client app.
// Keys and sketches are never persisted. A restart mid-day starts a new key and empty
// sketches: the day's count continues from zero, and since stores keep the maximum
// estimate written, the day's figure becomes max(before, after) — a lower bound that never
// double-counts.
type MemoryDistinct struct {
	mu       sync.Mutex
	keys     map[int64]hash.Hash // per day: HMAC under the day's random key
	sketches map[usersKey]*hyperloglog.Sketch
	dirty    map[usersKey]bool
	closed   int64 // days before this (unix) are closed; late observations are ignored
	buf      []byte
	sum      [sha256.Size]byte
}

// NewMemoryDistinct returns an empty in-memory distinct counter.
func NewMemoryDistinct() *MemoryDistinct {
	return &MemoryDistinct{keys: map[int64]hash.Hash{}, sketches: map[usersKey]*hyperloglog.Sketch{},
		dirty: map[usersKey]bool{}}
}

// Observe implements Distinct.
func (m *MemoryDistinct) Observe(day time.Time, tenant, clientApp, userKey string) {
	d := day.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	if d < m.closed {
		return
	}
	h := m.keys[d]
	if h == nil {
		var key [32]byte
		_, _ = rand.Read(key[:])
		h = hmac.New(sha256.New, key[:])
		m.keys[d] = h
	}
	x := userHash(h, &m.buf, m.sum[:0], tenant, userKey)
	k := usersKey{d, tenant, clientApp}
	sk := m.sketches[k]
	if sk == nil {
		sk = hyperloglog.New14()
		m.sketches[k] = sk
	}
	sk.InsertHash(x)
	m.dirty[k] = true
}

// userHash returns the first 64 bits of HMAC(key, tenant‖0‖userKey).
func userHash(h hash.Hash, buf *[]byte, sum []byte, tenant, userKey string) uint64 {
	b := append((*buf)[:0], tenant...)
	b = append(b, 0)
	b = append(b, userKey...)
	*buf = b
	h.Reset()
	h.Write(b)
	s := h.Sum(sum)
	clear(b)
	return binary.BigEndian.Uint64(s[:8])
}

// Estimates implements Distinct.
func (m *MemoryDistinct) Estimates(_ context.Context, now time.Time) ([]DailyUsers, error) {
	today := dayOf(now).Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DailyUsers
	for k := range m.dirty {
		out = append(out, DailyUsers{Day: time.Unix(k.day, 0).UTC(), Tenant: k.tenant, ClientApp: k.client,
			Users: int64(m.sketches[k].Estimate())})
	}
	clear(m.dirty)
	for k := range m.sketches {
		if k.day < today {
			delete(m.sketches, k)
		}
	}
	for d := range m.keys {
		if d < today {
			delete(m.keys, d)
		}
	}
	m.closed = max(m.closed, today)
	return out, nil
}
