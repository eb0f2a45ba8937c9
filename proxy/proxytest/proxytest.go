// Package proxytest starts the one test gateway: a proxy.Server on a running
// graph/emulator, serving all the emulator's tenants through real graph clients and a
// real token verifier, on a loopback HTTP server. proxy's tests and the load tool
// (cmd/graphgate-load) use it, so they measure and test the same wiring; what differs
// between them is said in Options, never by a copy.
package proxytest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// Options says how the test gateway differs from the defaults. The zero value starts a
// new emulator and a gateway with a 1-minute cache, rate limits off and nothing else.
type Options struct {
	// Emulator to serve; nil starts a new one, closed with the gateway. Pass another
	// gateway's emulator to run a second instance (or a restarted one) on it.
	Emulator *emulator.Emulator
	// Policy is the gateway's policy; nil means one built by PolicyFromTemplate from
	// PolicyTemplate.
	Policy *policy.Policy
	// PolicyTemplate is a policy YAML whose {{client-name}} placeholders are replaced by
	// the emulator's client app ids of the first tenant (see PolicyFromTemplate).
	PolicyTemplate string
	// RateLimits switches the per-user and per-client rate limits on with RateLimit
	// (zero = the production defaults); off, every caller is unlimited.
	RateLimits bool
	// RateLimit configures the limits when RateLimits is on.
	RateLimit proxy.RateLimitConfig
	// Metrics, when set, receives the gateway's metrics and, through the graph clients'
	// OnCall hook, the upstream calls, as cmd/graphgate wires them.
	Metrics *metrics.Metrics
	// Now is the token verifier's clock (nil = time.Now).
	Now func() time.Time
	// CacheTTL is the cache's time to live (default 1 minute).
	CacheTTL time.Duration
	// GraphMaxRetries is the graph clients' MaxRetries: 0 keeps the graph package's
	// default, a negative value makes every throttled or failed call one upstream request
	// (tests of the gateway's own throttling gate set it).
	GraphMaxRetries int
	// Configure, when set, adjusts the gateway's configuration last (e.g. Usage, Audit,
	// Revocations, CORSOrigins).
	Configure func(*proxy.Config)
}

// Gateway is a running test gateway.
type Gateway struct {
	Emulator  *emulator.Emulator     // the emulator it serves
	Directory emulator.DirectoryInfo // the emulator's tenants, users and client apps
	Policy    *policy.Policy         // the gateway's policy
	Server    *proxy.Server          // the gateway
	// URL is the gateway's base URL ("http://127.0.0.1:port").
	URL string

	closers []func()
}

// New starts a gateway for a test or benchmark and closes it in t's cleanup.
func New(t testing.TB, opts Options) *Gateway {
	t.Helper()
	g, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// Start starts a gateway; Close stops it.
func Start(opts Options) (g *Gateway, err error) {
	g = &Gateway{Emulator: opts.Emulator}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if g.Emulator == nil {
		if g.Emulator, err = emulator.New(emulator.Options{}); err != nil {
			return nil, err
		}
		g.closers = append(g.closers, func() { _ = g.Emulator.Close() })
	}
	g.Directory = g.Emulator.Directory()
	if g.Policy = opts.Policy; g.Policy == nil {
		if g.Policy, err = PolicyFromTemplate(opts.PolicyTemplate, g.Directory); err != nil {
			return nil, err
		}
	}
	cfg, err := g.config(opts)
	if err != nil {
		return nil, err
	}
	if g.Server, err = proxy.New(cfg); err != nil {
		return nil, err
	}
	srv := httptest.NewServer(g.Server.Handler())
	g.closers = append(g.closers, srv.Close)
	g.URL = srv.URL
	return g, nil
}

// config wires the gateway's configuration: one graph client per tenant and a token
// verifier, on the emulator.
func (g *Gateway) config(opts Options) (proxy.Config, error) {
	emu := g.Emulator
	var authTenants []auth.Tenant
	var tenants []proxy.Tenant
	for _, tn := range g.Directory.Tenants {
		authTenants = append(authTenants, auth.Tenant{ID: tn.ID, Audience: tn.GatewayAppID})
		gc := graph.Config{TenantID: tn.ID, ClientID: tn.GatewayAppID, ClientSecret: tn.GatewayClientSecret,
			AuthorityHost: emu.URL() + "/", BaseURL: emu.URL() + "/v1.0", HTTPClient: emu.HTTPClient(),
			Timeout: 5 * time.Second, MaxRetries: opts.GraphMaxRetries}
		if opts.Metrics != nil {
			gc.OnCall = opts.Metrics.ObserveUpstream
		}
		up, err := graph.New(gc)
		if err != nil {
			return proxy.Config{}, err
		}
		tenants = append(tenants, proxy.Tenant{ID: tn.ID, Upstream: up})
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.closers = append(g.closers, cancel)
	v, err := auth.NewVerifier(ctx, auth.Config{Authority: emu.URL(), Tenants: authTenants,
		HTTPClient: emu.HTTPClient(), Now: opts.Now})
	if err != nil {
		return proxy.Config{}, err
	}
	g.closers = append(g.closers, v.Close)
	ttl := opts.CacheTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	cfg := proxy.Config{Tenants: tenants, Verifier: v, Policy: g.Policy, Cache: cache.Config{TTL: ttl},
		Metrics: opts.Metrics, RateLimit: proxy.RateLimitConfig{PerUserRPS: -1, PerClientRPS: -1}}
	if opts.RateLimits {
		cfg.RateLimit = opts.RateLimit
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	return cfg, nil
}

// Close stops the gateway (and the emulator it started), in reverse order of start.
func (g *Gateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

// PolicyFromTemplate parses a policy YAML after replacing each {{client-name}} with the
// id of the emulator's client app of that name in the first tenant.
func PolicyFromTemplate(text string, dir emulator.DirectoryInfo) (*policy.Policy, error) {
	if text == "" {
		return nil, errors.New("proxytest: no policy and no policy template")
	}
	for _, c := range dir.Tenants[0].Clients {
		text = strings.ReplaceAll(text, "{{"+c.Name+"}}", c.ID)
	}
	if i := strings.Index(text, "{{"); i >= 0 {
		return nil, fmt.Errorf("proxytest: policy template names an unknown client app near %q", text[i:min(len(text), i+40)])
	}
	return policy.Parse([]byte(text))
}

// PolicyFile is PolicyFromTemplate on the file at path.
func PolicyFile(path string, dir emulator.DirectoryInfo) (*policy.Policy, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return PolicyFromTemplate(string(raw), dir)
}
