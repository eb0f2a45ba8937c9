package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// memStore is a hand-written in-memory Store with switchable faults.
type memStore struct {
	mu      sync.Mutex
	down    bool // every write fails
	lateAck int  // the next n writes are applied but report an error
	applied map[string]bool
	cells   map[cellKey]*Cell
	users   map[usersKey]int64
	writes  int
}

var errDown = errors.New("store down")

func newMemStore() *memStore {
	return &memStore{applied: map[string]bool{}, cells: map[cellKey]*Cell{}, users: map[usersKey]int64{}}
}

func (m *memStore) setDown(v bool) { m.mu.Lock(); m.down = v; m.mu.Unlock() }

func (m *memStore) Write(_ context.Context, b Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.writes++
	if !m.applied[b.ID] {
		m.applied[b.ID] = true
		for _, c := range b.Cells {
			k := cellKey{c.Hour.Unix(), c.Tenant, c.ClientApp, c.Operation, c.StatusClass, c.Cache}
			cur := m.cells[k]
			if cur == nil {
				cc := c
				m.cells[k] = &cc
				continue
			}
			cur.Requests += c.Requests
			for i := range cur.Latency {
				cur.Latency[i] += c.Latency[i]
			}
		}
	}
	for _, u := range b.Users { // maxima: idempotent, written with every batch
		k := usersKey{u.Day.Unix(), u.Tenant, u.ClientApp}
		m.users[k] = max(m.users[k], u.Users)
	}
	if m.lateAck > 0 {
		m.lateAck--
		return errors.New("connection reset after commit")
	}
	return nil
}

func (m *memStore) Cells(_ context.Context, tenant string, from, to time.Time) ([]Cell, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Cell
	for _, c := range m.cells {
		if c.Tenant == tenant && !c.Hour.Before(from) && c.Hour.Before(to) {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (m *memStore) DailyUsers(_ context.Context, tenant string, from, to time.Time) ([]DailyUsers, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DailyUsers
	for k, n := range m.users {
		d := time.Unix(k.day, 0).UTC()
		if k.tenant == tenant && !d.Before(from) && d.Before(to) {
			out = append(out, DailyUsers{Day: d, Tenant: k.tenant, ClientApp: k.client, Users: n})
		}
	}
	return out, nil
}

func (m *memStore) Tenants(context.Context) ([]string, error) { return []string{"t1"}, nil }

func (m *memStore) DeleteBefore(context.Context, time.Time) (int64, error) { return 0, nil }

func (m *memStore) Close() error { return nil }

// total sums the requests of every stored cell.
func (m *memStore) total() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, c := range m.cells {
		n += c.Requests
	}
	return n
}

// users returns the stored estimate of one key.
func (m *memStore) usersOf(day time.Time, tenant, client string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users[usersKey{day.Unix(), tenant, client}]
}

var t0 = time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)

// event returns an event of user u on client app.
func event(client string, u, status int) Event {
	return Event{Time: t0, Tenant: "t1", ClientApp: client, Operation: "GET /v1.0/users/{id}", Status: status,
		Cache: "hit", Latency: time.Duration(u%7) * time.Millisecond, UserKey: fmt.Sprintf("oid-%d", u)}
}

// newRecorder starts a recorder on s with a long flush interval (tests flush by hand).
func newRecorder(t *testing.T, s Store, tweak ...func(*Options)) *Recorder {
	t.Helper()
	opt := Options{Store: s, FlushInterval: time.Hour, Now: func() time.Time { return t0 }}
	for _, f := range tweak {
		f(&opt)
	}
	r, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}
