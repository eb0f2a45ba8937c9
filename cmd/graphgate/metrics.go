package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/graphgate/graphgate/proxy/metrics"
)

// MetricsConfig configures the Prometheus endpoint for operators.
type MetricsConfig struct {
	// Listen is the metrics listener's address, e.g. "127.0.0.1:9090" ("" = off). It must
	// differ from the API's: metrics are never served on the public port.
	Listen string `yaml:"listen"`
}

// newMetrics returns the gateway's metrics, or nil when the endpoint is off.
func newMetrics(c MetricsConfig) *metrics.Metrics {
	if c.Listen == "" {
		return nil
	}
	return metrics.New()
}

// startMetrics serves m's /metrics on a listener of its own until ctx is done. The wait
// it returns (never nil) blocks until that server has stopped (within its own shutdown
// grace once ctx is done). It does nothing when m is nil.
func startMetrics(ctx context.Context, addr, apiAddr string, m *metrics.Metrics, stdout io.Writer, log *slog.Logger) (wait func(), err error) {
	noWait := func() {}
	if m == nil {
		return noWait, nil
	}
	if sameAddr(addr, apiAddr) {
		return noWait, errors.New("metrics: listen must differ from the API's listen address")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return noWait, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	log.Info("metrics serving", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "metrics on %s/metrics\n", baseURLOf(ln))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serveHTTP(ctx, ln, mux, log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err.Error())
		}
	}()
	return func() { <-done }, nil
}

// sameAddr reports whether two listen addresses name the same port on overlapping hosts.
func sameAddr(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wild(ha) || wild(hb)
}
