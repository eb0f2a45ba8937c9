package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrUnavailable is returned by a ReconnectingStore that is not connected (yet).
var ErrUnavailable = errors.New("usage: store unavailable")

// ReconnectOptions configures OpenReconnecting. Zero values are safe defaults.
type ReconnectOptions struct {
	// FirstTimeout bounds the first, synchronous attempt (default 5s).
	FirstTimeout time.Duration
	// AttemptTimeout bounds each background attempt (default 10s).
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between background attempts, which
	// doubles from MinBackoff (default 500ms) to MaxBackoff (default 10s), ±20 % jitter.
	MinBackoff, MaxBackoff time.Duration
	// ReadTimeout bounds each read (analysts' reports) so that a store that stopped
	// answering gives an error instead of a hang (default 30s).
	ReadTimeout time.Duration
	// Logger receives connection events; nil discards.
	Logger *slog.Logger
}

// ReconnectingStore is a Store whose underlying store is opened in the background: the
// gateway starts and serves while the store (PostgreSQL) is unreachable, and uses it
// from the moment it connects. Until then writes and reads fail at once with
// ErrUnavailable; the Recorder keeps the counts in memory (and spooled) meanwhile. Once
// connected, the underlying store (database/sql) reconnects by itself.
type ReconnectingStore struct {
	open func(context.Context) (Store, error)
	opt  ReconnectOptions
	log  *slog.Logger

	mu       sync.RWMutex
	store    Store // nil until connected
	lastErr  error
	since    time.Time // when the first attempt failed
	attempts int

	stopCtx context.Context
	stop    context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// OpenReconnecting opens a store with open: once at once (within FirstTimeout) and, if
// that fails, again in the background with back-off until it succeeds or the store is
// closed. Only an ErrSchemaNewer from the first attempt is returned as an error: it is a
// configuration mistake, not an outage.
func OpenReconnecting(ctx context.Context, open func(context.Context) (Store, error), opt ReconnectOptions) (*ReconnectingStore, error) {
	opt.FirstTimeout = cmpOr(opt.FirstTimeout, 5*time.Second)
	opt.AttemptTimeout = cmpOr(opt.AttemptTimeout, 10*time.Second)
	opt.MinBackoff = cmpOr(opt.MinBackoff, 500*time.Millisecond)
	opt.MaxBackoff = max(cmpOr(opt.MaxBackoff, 10*time.Second), opt.MinBackoff)
	opt.ReadTimeout = cmpOr(opt.ReadTimeout, 30*time.Second)
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &ReconnectingStore{open: open, opt: opt, log: log, done: make(chan struct{})}
	r.stopCtx, r.stop = context.WithCancel(context.Background())
	first, cancel := context.WithTimeout(ctx, opt.FirstTimeout)
	s, err := open(first)
	cancel()
	if err == nil {
		r.store = s
		close(r.done)
		return r, nil
	}
	if errors.Is(err, ErrSchemaNewer) {
		return nil, err
	}
	r.lastErr, r.since, r.attempts = err, time.Now(), 1
	log.Warn("usage: store unreachable at start; serving anyway, counting in memory and connecting in the background",
		"error", err)
	go r.connectLoop()
	return r, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// connectLoop retries open with back-off until it succeeds or the store is closed.
func (r *ReconnectingStore) connectLoop() {
	defer close(r.done)
	backoff := r.opt.MinBackoff
	for {
		wait := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		select {
		case <-r.stopCtx.Done():
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(r.stopCtx, r.opt.AttemptTimeout)
		s, err := r.open(ctx)
		cancel()
		r.mu.Lock()
		if err == nil {
			r.store, r.lastErr = s, nil
			r.mu.Unlock()
			r.log.Info("usage: store connected", "after", time.Since(r.since).Round(time.Millisecond).String(),
				"attempts", r.attempts+1)
			return
		}
		r.lastErr = err
		r.attempts++
		r.mu.Unlock()
		if errors.Is(err, ErrSchemaNewer) {
			r.log.Error("usage: store refused; retrying", "error", err)
		} else {
			r.log.Debug("usage: store still unreachable", "error", err, "attempts", r.attempts)
		}
		backoff = min(2*backoff, r.opt.MaxBackoff)
	}
}

// current returns the connected store, or ErrUnavailable with the last attempt's error.
func (r *ReconnectingStore) current() (Store, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.store != nil {
		return r.store, nil
	}
	return nil, fmt.Errorf("%w: %w", ErrUnavailable, r.lastErr)
}

// Status reports nil once connected; before, an error saying since when and after how
// many attempts the store is unreachable. It names no host, user or database: it is
// meant for /readyz (the logs hold the connection errors).
func (r *ReconnectingStore) Status() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.store != nil {
		return nil
	}
	return fmt.Errorf("%w since %s (%d connection attempts); connecting in the background",
		ErrUnavailable, r.since.UTC().Format(time.RFC3339), r.attempts)
}

// Write implements Store.
func (r *ReconnectingStore) Write(ctx context.Context, b Batch) error {
	s, err := r.current()
	if err != nil {
		return err
	}
	return s.Write(ctx, b)
}

// Cells implements Store.
func (r *ReconnectingStore) Cells(ctx context.Context, tenant string, from, to time.Time) ([]Cell, error) {
	s, err := r.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.ReadTimeout)
	defer cancel()
	return s.Cells(ctx, tenant, from, to)
}

// DailyUsers implements Store.
func (r *ReconnectingStore) DailyUsers(ctx context.Context, tenant string, from, to time.Time) ([]DailyUsers, error) {
	s, err := r.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.ReadTimeout)
	defer cancel()
	return s.DailyUsers(ctx, tenant, from, to)
}

// Tenants implements Store.
func (r *ReconnectingStore) Tenants(ctx context.Context) ([]string, error) {
	s, err := r.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.ReadTimeout)
	defer cancel()
	return s.Tenants(ctx)
}

// DeleteBefore implements Store.
func (r *ReconnectingStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	s, err := r.current()
	if err != nil {
		return 0, err
	}
	return s.DeleteBefore(ctx, t)
}

// Close stops connecting and closes the underlying store, if connected.
func (r *ReconnectingStore) Close() error {
	r.once.Do(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return nil
	}
	err := r.store.Close()
	r.store = nil
	r.lastErr = errors.New("closed")
	return err
}
