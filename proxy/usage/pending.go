package usage

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// pending holds aggregates handed off by the aggregator and not yet written, as batches
// with random ids. A batch is frozen at its first write attempt: from then on its content
// never changes and it is retried (and spooled) under the same id, so a store that
// applied it already (a commit acknowledged late, or written just before a crash) does
// not apply it twice. frozen are written in order; tail collects later handoffs.
type pending struct {
	mu     sync.Mutex
	frozen []*pendingBatch
	tail   *pendingBatch
	users  map[usersKey]int64 // estimates not yet written (kept as maxima)
	gen    uint64             // changes with every change of the pending set
}

type pendingBatch struct {
	id    string
	cells map[cellKey]*cellVal
}

type usersKey struct {
	day    int64
	tenant string
	client string
}

// merge adds cells to the tail batch and returns the number of pending cells.
func (p *pending) merge(cells map[cellKey]*cellVal) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if p.tail == nil {
		p.tail = &pendingBatch{id: newBatchID(), cells: cells}
		return p.countLocked()
	}
	for k, v := range cells {
		addCell(p.tail.cells, k, v)
	}
	return p.countLocked()
}

// addCell adds v to the cell k of m.
func addCell(m map[cellKey]*cellVal, k cellKey, v *cellVal) {
	t := m[k]
	if t == nil {
		c := *v
		m[k] = &c
		return
	}
	t.n += v.n
	for i := range t.lat {
		t.lat[i] += v.lat[i]
	}
}

// restore queues batches read from the spool ahead of everything else, with their ids,
// and returns the number of pending cells.
func (p *pending) restore(batches []*pendingBatch, users []DailyUsers) int {
	p.addUsers(users)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	p.frozen = append(batches, p.frozen...)
	return p.countLocked()
}

func (p *pending) countLocked() int {
	n := 0
	for _, b := range p.frozen {
		n += len(b.cells)
	}
	if p.tail != nil {
		n += len(p.tail.cells)
	}
	return n
}

// addUsers records estimates to write, keeping the maximum per key.
func (p *pending) addUsers(us []DailyUsers) {
	if len(us) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = map[usersKey]int64{}
	}
	for _, u := range us {
		k := usersKey{dayOf(u.Day).Unix(), u.Tenant, u.ClientApp}
		if old, ok := p.users[k]; !ok || u.Users > old {
			p.users[k] = u.Users
			p.gen++ // only a change makes the spool worth rewriting
		}
	}
}

// next returns the batch to write now (the first frozen batch, frozen from the tail if
// needed), with the pending estimates. ok is false when there is nothing to write.
func (p *pending) next() (b Batch, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.frozen) == 0 && p.tail != nil {
		p.frozen, p.tail = append(p.frozen, p.tail), nil
	}
	if len(p.frozen) == 0 && len(p.users) == 0 {
		return Batch{}, false
	}
	if len(p.frozen) == 0 {
		p.frozen = append(p.frozen, &pendingBatch{id: newBatchID(), cells: map[cellKey]*cellVal{}})
	}
	head := p.frozen[0]
	return Batch{ID: head.id, Cells: cellsOf(head.cells), Users: p.usersLocked()}, true
}

// done drops the written batch and the estimates it carried (unless raised since), and
// returns the number of pending cells.
func (p *pending) done(b Batch) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if len(p.frozen) > 0 && p.frozen[0].id == b.ID {
		p.frozen = p.frozen[1:]
	}
	for _, u := range b.Users {
		k := usersKey{u.Day.Unix(), u.Tenant, u.ClientApp}
		if p.users[k] <= u.Users {
			delete(p.users, k)
		}
	}
	return p.countLocked()
}

// snapshot returns everything pending, as batches with their ids, and the generation it
// reflects.
func (p *pending) snapshot() (batches []Batch, users []DailyUsers, gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := p.frozen
	if p.tail != nil {
		all = append(all[:len(all):len(all)], p.tail)
	}
	for _, pb := range all {
		if len(pb.cells) > 0 {
			batches = append(batches, Batch{ID: pb.id, Cells: cellsOf(pb.cells)})
		}
	}
	return batches, p.usersLocked(), p.gen
}

// empty reports whether nothing is pending.
func (p *pending) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.countLocked() == 0 && len(p.users) == 0
}

func (p *pending) usersLocked() []DailyUsers {
	var out []DailyUsers
	for k, n := range p.users {
		out = append(out, DailyUsers{Day: time.Unix(k.day, 0).UTC(), Tenant: k.tenant, ClientApp: k.client, Users: n})
	}
	return out
}

// cellsOf lists the cells of m.
func cellsOf(m map[cellKey]*cellVal) []Cell {
	out := make([]Cell, 0, len(m))
	for k, v := range m {
		out = append(out, Cell{Hour: time.Unix(k.hour, 0).UTC(), Tenant: k.tenant, ClientApp: k.client,
			Operation: k.operation, StatusClass: k.class, Cache: k.cache, Requests: v.n, Latency: v.lat})
	}
	return out
}

// keyOf is the in-memory key of c.
func keyOf(c Cell) cellKey {
	return cellKey{hour: c.Hour.UTC().Truncate(time.Hour).Unix(), tenant: c.Tenant, client: c.ClientApp,
		operation: c.Operation, class: c.StatusClass, cache: c.Cache}
}

func newBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
