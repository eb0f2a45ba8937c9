package usage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Recorder. Zero values are safe defaults.
type Options struct {
	// Store receives the aggregates (required).
	Store Store
	// Distinct counts distinct users; nil means in memory (NewMemoryDistinct).
	Distinct Distinct
	// FlushInterval is how often aggregates are written to the store (default 5s), or
	// spooled while it fails: what a kill -9 can lose.
	FlushInterval time.Duration
	// Buffer is the capacity of the queue between Record and the aggregator (default
	// 8192). When it is full, Record drops the event and counts it in Stats.Dropped.
	Buffer int
	// MaxCells bounds the cells held in memory, unflushed and spooled ones included
	// (default 200000), and so the memory an outage of the store can take. While the
	// store is down the bound can be reached: then events that would open a new cell are
	// dropped, counted (Stats.Dropped) and logged; events of existing cells still count.
	MaxCells int
	// SpoolPath, if not "", is the file (in the data directory) where aggregates that
	// cannot be written are kept: after every failed write, and at Close when the store
	// is still unreachable. New reads it back and writes it to the store first, each
	// batch under its original id, so nothing is applied twice. The spool holds what a
	// Store holds (cells and daily estimates), never hashes, keys or sketches.
	SpoolPath string
	// Retention is how long aggregates are kept (default 13 months); older rows are
	// deleted at start and then every RetentionInterval (default 1h).
	Retention         Retention
	RetentionInterval time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
	// Logger receives operational events (never personal data); nil discards.
	Logger *slog.Logger
}

// Stats are the recorder's counters.
type Stats struct {
	Recorded      uint64 // events aggregated
	Dropped       uint64 // events dropped: queue full, or the cell bound reached
	Flushes       uint64 // successful store writes
	FlushErrors   uint64 // failed store writes (retried)
	PendingCells  int    // cells handed to the flusher but not yet written
	SpooledCells  int    // cells in the spool file (Options.SpoolPath) now
	SpoolErrors   uint64 // failed spool writes
	StoreHealthy  bool   // whether the last store write succeeded
	RetentionRuns uint64
}

// Recorder aggregates events in memory and flushes them to a Store. Record is safe for
// concurrent use and never waits on the store.
type Recorder struct {
	opt      Options
	log      *slog.Logger
	distinct Distinct
	events   chan Event
	handoff  chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	once     sync.Once
	// stopCtx is cancelled at Close: in-flight writes give up so Close can spool them.
	stopCtx    context.Context
	stopCancel context.CancelFunc

	cur map[cellKey]*cellVal // owned by the aggregator goroutine

	pend     pending
	writeMu  sync.Mutex // one store write at a time; guards spooled and spoolGen
	spooled  bool       // the spool file exists and holds pending aggregates
	spoolGen uint64     // the pending generation the spool holds

	recorded, dropped, flushes, flushErrors, retentionRuns, spoolErrors, boundDrops atomic.Uint64
	healthy                                                                         atomic.Bool
	pendingCells, spooledCells                                                      atomic.Int64
}

// cellKey identifies a cell in memory.
type cellKey struct {
	hour      int64
	tenant    string
	client    string
	operation string
	class     string
	cache     string
}

type cellVal struct {
	n   int64
	lat [NumBuckets]int64
}

// New starts a Recorder: its aggregator, flusher and retention goroutines. Aggregates
// spooled by an earlier run (Options.SpoolPath) are queued first and written at once.
func New(opt Options) (*Recorder, error) {
	if opt.Store == nil {
		return nil, fmt.Errorf("usage: a store is required")
	}
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = 5 * time.Second
	}
	if opt.Buffer <= 0 {
		opt.Buffer = 8192
	}
	if opt.MaxCells <= 0 {
		opt.MaxCells = 200000
	}
	if opt.RetentionInterval <= 0 {
		opt.RetentionInterval = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := opt.Distinct
	if d == nil {
		d = NewMemoryDistinct()
	}
	r := &Recorder{opt: opt, log: log, distinct: d,
		events:  make(chan Event, opt.Buffer),
		handoff: make(chan chan struct{}),
		stop:    make(chan struct{}), done: make(chan struct{}),
		cur: map[cellKey]*cellVal{}}
	r.stopCtx, r.stopCancel = context.WithCancel(context.Background())
	r.healthy.Store(true)
	r.restoreSpool()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); r.aggregate() }()
	go func() { defer wg.Done(); r.flushLoop() }()
	go func() { defer wg.Done(); r.retentionLoop() }()
	go func() { wg.Wait(); close(r.done) }()
	return r, nil
}

// Record queues one event for aggregation. It never blocks: when the queue is full the
// event is dropped and counted.
func (r *Recorder) Record(ev Event) {
	if r.closed.Load() {
		r.dropped.Add(1)
		return
	}
	select {
	case r.events <- ev:
	default:
		r.dropped.Add(1)
	}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Recorded: r.recorded.Load(), Dropped: r.dropped.Load(),
		Flushes: r.flushes.Load(), FlushErrors: r.flushErrors.Load(),
		PendingCells: int(r.pendingCells.Load()), StoreHealthy: r.healthy.Load(),
		SpooledCells: int(r.spooledCells.Load()), SpoolErrors: r.spoolErrors.Load(),
		RetentionRuns: r.retentionRuns.Load(),
	}
}

// Flush hands everything recorded so far to the flusher and writes it to the store now.
// On a store error the aggregates stay in memory for a later flush, and are spooled.
func (r *Recorder) Flush(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	ack := make(chan struct{})
	select {
	case r.handoff <- ack:
	case <-r.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	return r.write(ctx)
}

// Close stops recording, stops the goroutines and flushes what is in memory, retrying
// until ctx is done. What cannot be written is spooled (Options.SpoolPath) at the first
// failure and written by the next start. Close reports an error only if aggregates could
// be neither written nor spooled: then they are lost.
func (r *Recorder) Close(ctx context.Context) error {
	r.closed.Store(true)
	r.once.Do(func() { close(r.stop); r.stopCancel() })
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := r.write(ctx)
	for backoff := 50 * time.Millisecond; err != nil; backoff = min(2*backoff, time.Second) {
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
			err = r.write(ctx)
			continue
		}
		break
	}
	if err == nil {
		return nil
	}
	r.writeMu.Lock()
	r.spoolLocked()
	spooled := r.spooled
	r.writeMu.Unlock()
	if spooled {
		r.log.Warn("usage: store unavailable at shutdown; aggregates spooled to the data dir, written at the next start",
			"cells", r.spooledCells.Load(), "error", err)
		return nil
	}
	r.log.Error("usage: aggregates lost at shutdown", "cells", r.pendingCells.Load(), "error", err)
	return err
}

// aggregate is the aggregator goroutine: it owns r.cur. The flusher asks it for a handoff
// every flush interval.
func (r *Recorder) aggregate() {
	for {
		select {
		case ev := <-r.events:
			r.add(ev)
		case ack := <-r.handoff:
			r.drain()
			r.handOff()
			close(ack)
		case <-r.stop:
			r.drain()
			r.handOff()
			return
		}
	}
}

// drain aggregates every queued event.
func (r *Recorder) drain() {
	for {
		select {
		case ev := <-r.events:
			r.add(ev)
		default:
			return
		}
	}
}

// add aggregates one event.
func (r *Recorder) add(ev Event) {
	if ev.Tenant == "" {
		return
	}
	t := ev.Time.UTC()
	cache := ev.Cache
	if cache == "" {
		cache = CacheNone
	}
	k := cellKey{hour: t.Truncate(time.Hour).Unix(), tenant: ev.Tenant, client: ev.ClientApp,
		operation: ev.Operation, class: StatusClass(ev.Status), cache: cache}
	v := r.cur[k]
	if v == nil {
		if len(r.cur)+int(r.pendingCells.Load()) >= r.opt.MaxCells {
			r.dropped.Add(1)
			if r.boundDrops.Add(1) == 1 {
				r.log.Warn("usage: cell bound reached while the store is behind; events of new cells are dropped",
					"max_cells", r.opt.MaxCells)
			}
			return
		}
		v = &cellVal{}
		r.cur[k] = v
	}
	v.n++
	v.lat[bucketOf(ev.Latency)]++
	r.recorded.Add(1)
	if ev.UserKey != "" {
		day := dayOf(t)
		r.distinct.Observe(day, ev.Tenant, ev.ClientApp, ev.UserKey)
		r.distinct.Observe(day, ev.Tenant, AllClients, ev.UserKey)
	}
}

// handOff moves the current aggregates into the pending set and wakes the flusher.
func (r *Recorder) handOff() {
	if len(r.cur) == 0 {
		return
	}
	n := r.pend.merge(r.cur)
	r.pendingCells.Store(int64(n))
	r.cur = map[cellKey]*cellVal{}
}
