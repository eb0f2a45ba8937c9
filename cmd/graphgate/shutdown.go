package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/graphgate/graphgate/proxy"
)

// stopPlan says how a server stops once its context is done (see serveUntil).
type stopPlan struct {
	// name names the server in the shutdown log ("api", "metrics").
	name string
	// drain starts the drain: proxy.Server.Drain makes /readyz answer 503 and every
	// answer say "Connection: close". nil when the server has none.
	drain func()
	// drainFor is how long the server keeps accepting and serving after drain (0: not).
	drainFor time.Duration
	// grace bounds how long the requests in flight after the drain may take to finish.
	grace time.Duration
}

// gatewayStopPlan is the API server's stop plan: the configured drain and grace, or
// their defaults (ShutdownConfig.withDefaults: the one place they are applied), around
// srv's Drain.
func gatewayStopPlan(cfg Config, srv *proxy.Server) stopPlan {
	sd := cfg.Shutdown.withDefaults(cfg.Upstream.Timeout)
	return stopPlan{name: "api", drain: srv.Drain, drainFor: *sd.Drain, grace: sd.Grace}
}

// serveUntil serves h on ln until ctx is done (SIGTERM or SIGINT), then stops as
// production proxies do, so that no request a client has written is lost:
//
//  1. Drain: plan.drain marks the instance not ready (load balancers stop sending new
//     connections) and makes every answer say "Connection: close" (keep-alive clients
//     move on after their next answer). For plan.drainFor the server keeps accepting and
//     serving. Keep-alives are not switched off (http.Server.SetKeepAlivesEnabled(false)
//     closes idle connections at once: a request a client is writing on one is lost).
//  2. Stop: http.Server.Shutdown closes the listener and the idle connections, and waits
//     up to plan.grace for the requests in flight; their answers say "Connection: close".
//  3. Cut: connections still open after the grace are closed, at once (no lingering
//     close: the grace is over).
//
// Connections close lingering (lingerListener): a client still sending a body the server
// refused reads its answer instead of a connection reset. The phases are logged with
// counts only.
func serveUntil(ctx context.Context, ln net.Listener, h http.Handler, plan stopPlan, log *slog.Logger) error {
	log = log.With("server", plan.name)
	srv := newHTTPServer(h)
	conns := &connStates{states: map[net.Conn]http.ConnState{}}
	srv.ConnState = conns.track
	errc := make(chan error, 1)
	lln := newLingerListener(ln, log)
	go func() { errc <- srv.Serve(lln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	start := time.Now()
	if plan.drain != nil {
		plan.drain()
	}
	if plan.drainFor > 0 {
		open, active := conns.count()
		log.Info("shutdown: draining", "drain", plan.drainFor.String(), "grace", plan.grace.String(),
			"connections", open, "active", active)
		t := time.NewTimer(plan.drainFor)
		defer t.Stop()
		select {
		case <-t.C:
		case err := <-errc:
			return err
		}
	}
	open, active := conns.count()
	log.Info("shutdown: closing the listener, waiting for requests in flight", "grace", plan.grace.String(),
		"connections", open, "active", active)
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), plan.grace)
	defer cancel()
	err := srv.Shutdown(graceCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		open, active := conns.count()
		log.Warn("shutdown: grace period over, closing what is left", "connections", open, "active", active)
		lln.cut()       // srv.Close closes the connections one by one under its lock: none may linger
		_ = srv.Close() // the listener is closed already: only connections are left to close
		err = nil
	}
	log.Info("shutdown: done", "took", time.Since(start).Round(time.Millisecond).String())
	return err
}

// connStates follows the state of a server's connections (http.Server.ConnState) for
// the shutdown log.
type connStates struct {
	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

func (c *connStates) track(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == http.StateClosed || s == http.StateHijacked {
		delete(c.states, conn)
		return
	}
	c.states[conn] = s
}

// count returns how many connections are open, and how many of them serve a request.
func (c *connStates) count() (open, active int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.states {
		if s == http.StateActive {
			active++
		}
	}
	return len(c.states), active
}
