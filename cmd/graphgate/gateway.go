package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// parseLevel reads a --log-level / log_level value.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger returns the JSON logger every command writes to stderr.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
	quietLibraries(log.With("component", "library"))
	return log, nil
}

// upstreamHTTPClient returns the HTTP client used toward Entra and Graph, trusting the
// system roots plus the configured CA file.
func upstreamHTTPClient(cfg Config) (*http.Client, error) {
	if cfg.CAFile == "" {
		return &http.Client{Timeout: 30 * time.Second}, nil
	}
	pem, err := os.ReadFile(cfg.path(cfg.CAFile))
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("ca_file: no PEM certificates found")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// gateway is a built gateway and what must be closed with it.
type gateway struct {
	server   *proxy.Server
	verifier *auth.Verifier
	metrics  *metrics.Metrics // nil when the metrics endpoint is off
	usage    *usageRuntime    // nil when usage counting is off
	sessions *sessions        // revocation list and audit sink
}

func (g *gateway) Close() { g.usage.close(); g.sessions.close(); g.verifier.Close() }

// buildGateway wires the gateway from its configuration: policy, token verifier, one
// Graph client per tenant, cache.
func buildGateway(ctx context.Context, cfg Config, pol *policy.Policy, hc *http.Client, log *slog.Logger) (*gateway, error) {
	m := newMetrics(cfg.Metrics)
	tenants, authTenants, err := buildTenants(cfg, hc, m, log)
	if err != nil {
		return nil, err
	}
	v, err := auth.NewVerifier(ctx, auth.Config{
		Audience:   cfg.AppID,
		AppIDURI:   cfg.AppIDURI,
		Authority:  cfg.Authority,
		Tenants:    authTenants,
		HTTPClient: hc,
		Logger:     log.With("component", "auth"),
	})
	if err != nil {
		return nil, err
	}
	ur, err := openUsage(ctx, cfg, log.With("component", "usage"))
	if err != nil {
		v.Close()
		return nil, err
	}
	sess, err := openSessions(cfg, log.With("component", "revocation"))
	if err != nil {
		ur.close()
		v.Close()
		return nil, err
	}
	srv, err := proxy.New(proxy.Config{
		Tenants:             tenants,
		Verifier:            v,
		Policy:              pol,
		Cache:               cache.Config{TTL: cfg.Cache.TTL, MaxEntries: cfg.Cache.MaxEntries, MaxBytes: cfg.Cache.MaxBytes, Logger: log.With("component", "cache")},
		UpstreamConcurrency: cfg.Upstream.MaxConcurrency,
		UpstreamQueueWait:   cfg.Upstream.QueueWait,
		UpstreamTimeout:     cfg.Upstream.Timeout,
		CORSOrigins:         cfg.CORS.AllowedOrigins,
		PublicURL:           cfg.PublicURL,
		Logger:              log.With("component", "proxy"),
		Metrics:             m,
		RateLimit:           proxy.RateLimitConfig(cfg.RateLimit),
		Privacy:             privacyConfig(cfg),
		Usage:               ur.recorder(),
		UsageReports:        ur.reports(),
		Revocations:         sess.revs,
		Audit:               sess.audit,
		ReadyChecks:         sess.ready,
		StatusChecks:        ur.statusChecks(),
	})
	if err != nil {
		sess.close()
		ur.close()
		v.Close()
		return nil, err
	}
	return &gateway{server: srv, verifier: v, metrics: m, usage: ur, sessions: sess}, nil
}

// buildTenants builds each tenant's Graph client, and the tenants as the token verifier
// knows them.
func buildTenants(cfg Config, hc *http.Client, m *metrics.Metrics, log *slog.Logger) ([]proxy.Tenant, []auth.Tenant, error) {
	var tenants []proxy.Tenant
	var authTenants []auth.Tenant
	for _, t := range cfg.Tenants {
		authTenants = append(authTenants, auth.Tenant{ID: t.ID, Audience: t.ClientID, AppIDURI: t.AppIDURI})
		client, err := graphClient(cfg, t, hc, m, log)
		if err != nil {
			return nil, nil, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		tenants = append(tenants, proxy.Tenant{ID: t.ID, Upstream: client})
	}
	return tenants, authTenants, nil
}

// graphClient builds the Graph client of one tenant; with metrics on, its OnCall hook
// counts every upstream call by operation and outcome.
func graphClient(cfg Config, t TenantConfig, hc *http.Client, m *metrics.Metrics, log *slog.Logger) (*graph.Client, error) {
	gc := graph.Config{
		TenantID:      t.ID,
		ClientID:      t.ClientID,
		ClientSecret:  t.ClientSecret,
		AuthorityHost: cfg.Authority + "/",
		BaseURL:       cfg.GraphURL,
		HTTPClient:    hc,
		Timeout:       cfg.Upstream.Timeout,
		MaxRetryWait:  cfg.Upstream.MaxRetryWait,
		Logger:        log.With("component", "graph"),
	}
	if m != nil {
		gc.OnCall = m.ObserveUpstream
	}
	if t.CertificateFile != "" {
		pem, err := os.ReadFile(cfg.path(t.CertificateFile))
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		gc.CertificatePEM = pem
	}
	return graph.New(gc)
}

// loadPolicyFile reads and validates a policy file.
func loadPolicyFile(path string) (*policy.Policy, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := policy.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// listen opens the gateway's listener.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves h on ln until ctx is done, then stops within a short grace period,
// without a drain: for the metrics listener, to which no load balancer routes.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return serveUntil(ctx, ln, h, stopPlan{name: "metrics", grace: 5 * time.Second}, log)
}

// newHTTPServer is the HTTP server of every listener: bounded reads, headers and idle
// connections.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// net/http's own error lines carry client IP addresses: keep them out of the logs.
		ErrorLog: stdlog.New(io.Discard, "", 0),
	}
}

// baseURLOf returns "http://host:port" for a listener.
func baseURLOf(ln net.Listener) string {
	addr := ln.Addr().String()
	if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
		addr = "127.0.0.1" + addr[strings.LastIndex(addr, ":"):]
	}
	return "http://" + addr
}
