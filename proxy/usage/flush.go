package usage

import (
	"context"
	"fmt"
	"time"
)

// flushLoop hands off and writes the aggregates every flush interval until the recorder
// stops; aggregates restored from the spool are written at once.
func (r *Recorder) flushLoop() {
	if !r.pend.empty() {
		r.flushTick()
	}
	t := time.NewTicker(r.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.flushTick()
		}
	}
}

// flushTick moves the current aggregates to the pending set and writes it (spooling what
// cannot be written). Each event is thereby written or spooled within one flush interval
// of being recorded, plus the time a failing write takes to fail.
func (r *Recorder) flushTick() {
	ack := make(chan struct{})
	select {
	case r.handoff <- ack:
		<-ack
	case <-r.stop:
		return
	}
	ctx, cancel := context.WithTimeout(r.stopCtx, r.opt.FlushInterval+10*time.Second)
	defer cancel()
	_ = r.write(ctx)
}

// write collects distinct-user estimates and writes every pending batch. While the store
// fails, the spool is kept current: before each attempt (so that a write hanging on an
// unreachable store does not widen what a kill can lose) and after a failed one. Once
// everything is written, the spool is removed.
func (r *Recorder) write(ctx context.Context) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	us, err := r.distinct.Estimates(ctx, r.opt.Now())
	if err != nil {
		r.log.Warn("usage: distinct-user estimates unavailable", "error", err)
	}
	r.pend.addUsers(us)
	if !r.healthy.Load() {
		r.spoolLocked()
	}
	if err := r.writePendingLocked(ctx); err != nil {
		r.spoolLocked()
		return err
	}
	r.dropSpoolLocked()
	if n := r.boundDrops.Swap(0); n > 0 {
		r.log.Warn("usage: events dropped at the cell bound while the store was behind", "events", n,
			"max_cells", r.opt.MaxCells)
	}
	return nil
}

// writePendingLocked writes the pending batches in order until none is left or one fails.
func (r *Recorder) writePendingLocked(ctx context.Context) error {
	for {
		b, ok := r.pend.next()
		if !ok {
			return nil
		}
		if err := r.opt.Store.Write(ctx, b); err != nil {
			r.flushErrors.Add(1)
			if r.healthy.Swap(false) {
				r.log.Warn("usage: store unavailable; aggregating in memory and spooling to the data dir", "error", err)
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

// spoolLocked writes everything pending to the spool file, replacing the previous one,
// unless the spool already holds exactly that. A failure is logged and counted: the
// aggregates stay in memory.
func (r *Recorder) spoolLocked() {
	if r.opt.SpoolPath == "" {
		return
	}
	batches, users, gen := r.pend.snapshot()
	if r.spooled && gen == r.spoolGen {
		return
	}
	if len(batches) == 0 && len(users) == 0 {
		r.dropSpoolLocked()
		return
	}
	if err := writeSpool(r.opt.SpoolPath, batches, users); err != nil {
		r.spoolErrors.Add(1)
		r.log.Error("usage: cannot spool unwritten aggregates; they stay in memory", "error", err)
		return
	}
	n := 0
	for _, b := range batches {
		n += len(b.Cells)
	}
	if !r.spooled {
		r.log.Info("usage: unwritten aggregates spooled to the data dir", "cells", n, "daily_users", len(users))
	}
	r.spooled, r.spoolGen = true, gen
	r.spooledCells.Store(int64(n))
}

// dropSpoolLocked removes the spool once what it held is in the store.
func (r *Recorder) dropSpoolLocked() {
	if !r.spooled {
		return
	}
	if err := removeSpool(r.opt.SpoolPath); err != nil {
		// Harmless: its batches are applied already, so a later start skips them.
		r.log.Warn("usage: cannot remove the written spool", "error", err)
	}
	r.spooled = false
	r.spooledCells.Store(0)
	r.log.Info("usage: spooled aggregates written to the store; spool removed")
}

// restoreSpool queues the aggregates spooled by an earlier run, under their batch ids.
func (r *Recorder) restoreSpool() {
	if r.opt.SpoolPath == "" {
		return
	}
	batches, users, err := readSpool(r.opt.SpoolPath)
	if err != nil {
		r.log.Error("usage: spool unreadable; set aside", "error", err)
		return
	}
	if len(batches) == 0 && len(users) == 0 {
		return
	}
	r.pendingCells.Store(int64(r.pend.restore(batches, users)))
	_, _, gen := r.pend.snapshot()
	r.spooled, r.spoolGen = true, gen
	n := 0
	for _, b := range batches {
		n += len(b.cells)
	}
	r.spooledCells.Store(int64(n))
	r.log.Info("usage: aggregates spooled by an earlier run restored; writing them", "cells", n, "daily_users", len(users))
}

// retentionLoop deletes aggregates older than the retention period, at start and then
// every RetentionInterval.
func (r *Recorder) retentionLoop() {
	t := time.NewTicker(r.opt.RetentionInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(r.stopCtx, time.Minute)
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
