package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// pending holds aggregates handed off by the aggregator and not yet written. head is the
// batch whose write was attempted (it is retried with the same id, so a write whose
// commit was acknowledged late is not applied twice); tail collects later handoffs.
type pending struct {
	mu    sync.Mutex
	head  *pendingBatch
	tail  *pendingBatch
	users map[usersKey]int64 // estimates not yet written (kept as maxima)
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
	if p.tail == nil {
		p.tail = &pendingBatch{id: newBatchID(), cells: cells}
	} else {
		for k, v := range cells {
			t := p.tail.cells[k]
			if t == nil {
				p.tail.cells[k] = v
				continue
			}
			t.n += v.n
			for i := range t.lat {
				t.lat[i] += v.lat[i]
			}
		}
	}
	return p.countLocked()
}

func (p *pending) countLocked() int {
	n := 0
	if p.head != nil {
		n += len(p.head.cells)
	}
	if p.tail != nil {
		n += len(p.tail.cells)
	}
	return n
}

// addUsers records estimates to write, keeping the maximum per key.
func (p *pending) addUsers(us []DailyUsers) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = map[usersKey]int64{}
	}
	for _, u := range us {
		k := usersKey{u.Day.Unix(), u.Tenant, u.ClientApp}
		p.users[k] = max(p.users[k], u.Users)
	}
}

// next returns the batch to write now (the head, promoted from the tail if needed), with
// the pending estimates. ok is false when there is nothing to write.
func (p *pending) next() (b Batch, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == nil && p.tail != nil {
		p.head, p.tail = p.tail, nil
	}
	if p.head == nil && len(p.users) == 0 {
		return Batch{}, false
	}
	if p.head == nil {
		p.head = &pendingBatch{id: newBatchID(), cells: map[cellKey]*cellVal{}}
	}
	b.ID = p.head.id
	for k, v := range p.head.cells {
		b.Cells = append(b.Cells, Cell{Hour: time.Unix(k.hour, 0).UTC(), Tenant: k.tenant, ClientApp: k.client,
			Operation: k.operation, StatusClass: k.class, Cache: k.cache, Requests: v.n, Latency: v.lat})
	}
	for k, n := range p.users {
		b.Users = append(b.Users, DailyUsers{Day: time.Unix(k.day, 0).UTC(), Tenant: k.tenant, ClientApp: k.client, Users: n})
	}
	return b, true
}

// done drops the written head batch and the estimates it carried (unless raised since).
func (p *pending) done(b Batch) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head != nil && p.head.id == b.ID {
		p.head = nil
	}
	for _, u := range b.Users {
		k := usersKey{u.Day.Unix(), u.Tenant, u.ClientApp}
		if p.users[k] <= u.Users {
			delete(p.users, k)
		}
	}
	return p.countLocked()
}

func newBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// flushLoop writes pending aggregates every flush interval until the aggregator stops.
func (r *Recorder) flushLoop() {
	t := time.NewTicker(r.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.opt.FlushInterval+10*time.Second)
			_ = r.write(ctx)
			cancel()
		}
	}
}

// write collects distinct-user estimates and writes the pending batch, if any.
func (r *Recorder) write(ctx context.Context) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	us, err := r.distinct.Estimates(ctx, r.opt.Now())
	if err != nil {
		r.log.Warn("usage: distinct-user estimates unavailable", "error", err)
	}
	r.pend.addUsers(us)
	for {
		b, ok := r.pend.next()
		if !ok {
			return nil
		}
		if err := r.opt.Store.Write(ctx, b); err != nil {
			r.flushErrors.Add(1)
			if r.healthy.Swap(false) {
				r.log.Warn("usage: store unavailable; aggregating in memory", "error", err)
			}
			return fmt.Errorf("usage: flush: %w", err)
		}
		r.pendingCells.Store(int64(r.pend.done(b)))
		r.flushes.Add(1)
		if !r.healthy.Swap(true) {
			r.log.Info("usage: store available again; pending aggregates written")
		}
	}
}

// retentionLoop deletes aggregates older than the retention period, at start and then
// every RetentionInterval.
func (r *Recorder) retentionLoop() {
	t := time.NewTicker(r.opt.RetentionInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cut := r.opt.Retention.Cutoff(r.opt.Now())
		if n, err := r.opt.Store.DeleteBefore(ctx, cut); err != nil {
			r.log.Warn("usage: retention delete failed", "error", err)
		} else {
			r.retentionRuns.Add(1)
			if n > 0 {
				r.log.Info("usage: retention deleted old aggregates", "rows", n)
			}
		}
		cancel()
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}
