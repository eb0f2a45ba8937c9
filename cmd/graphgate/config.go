package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy"
)

// Config is graphgate's configuration file (YAML). `${VAR}` anywhere in the file is
// replaced by the environment variable VAR, so secrets can stay out of the file.
type Config struct {
	// Listen is the gateway's listen address (default "127.0.0.1:8080").
	Listen string `yaml:"listen"`
	// PublicURL is the external base URL used in @odata.nextLink ("" = from Host).
	PublicURL string `yaml:"public_url"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"log_level"`
	// DataDir holds what graphgate persists (default "graphgate-data").
	DataDir string `yaml:"data_dir"`
	// AppID is graphgate's own app registration: the audience of accepted tokens.
	// Both access token versions are accepted, whichever the registration's
	// accessTokenAcceptedVersion selects (unset or 1: v1.0, 2: v2.0).
	AppID string `yaml:"app_id"`
	// AppIDURI is the registration's Application ID URI, which v1.0 tokens may carry as
	// their audience (default "api://" + the tenant's client_id).
	AppIDURI string `yaml:"app_id_uri"`
	// Authority is the Entra authority host (default "https://login.microsoftonline.com").
	Authority string `yaml:"authority"`
	// GraphURL is Microsoft Graph's base URL (default "https://graph.microsoft.com/v1.0").
	GraphURL string `yaml:"graph_url"`
	// CAFile is an extra PEM CA bundle trusted for Authority and GraphURL (e.g. the emulator).
	CAFile string `yaml:"ca_file"`
	// PolicyFile is the policy (YAML); relative paths are relative to the config file.
	PolicyFile string `yaml:"policy_file"`
	// Tenants are the customer tenants served; a token's tid must be one of them.
	Tenants []TenantConfig `yaml:"tenants"`
	// Cache configures the profile cache.
	Cache CacheConfig `yaml:"cache"`
	// Upstream configures calls to Microsoft Graph.
	Upstream UpstreamConfig `yaml:"upstream"`
	// CORS lists the browser origins allowed to call the gateway.
	CORS CORSConfig `yaml:"cors"`
	// Metrics configures the Prometheus endpoint (a listener of its own; off by default).
	Metrics MetricsConfig `yaml:"metrics"`
	// RateLimit configures per-user and per-client-app rate limits.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// Privacy describes the deployment on the /privacy record of processing.
	Privacy PrivacyConfig `yaml:"privacy"`
	// Usage configures anonymised usage counting and its store (usagecmd.go).
	Usage UsageConfig `yaml:"usage"`
	// Revocation configures remote logout (sessions.go).
	Revocation RevocationConfig `yaml:"revocation"`
	// Redis shares the revocation list between instances (scale-out).
	Redis RedisConfig `yaml:"redis"`
	// Audit says where the audit trail of admin actions goes.
	Audit AuditConfig `yaml:"audit"`
	// Shutdown configures the graceful stop (drain, then grace).
	Shutdown ShutdownConfig `yaml:"shutdown"`

	dir string // directory of the config file
}

// TenantConfig is one tenant and the gateway's Graph credential in it.
type TenantConfig struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// ClientID is the gateway's app id in this tenant (default: AppID): the credential
	// toward Graph, and the audience its users' tokens must carry.
	ClientID string `yaml:"client_id"`
	// AppIDURI is the Application ID URI of that registration (default: the top-level
	// app_id_uri, else "api://" + ClientID).
	AppIDURI        string `yaml:"app_id_uri"`
	ClientSecret    string `yaml:"client_secret"`
	CertificateFile string `yaml:"certificate_file"` // PEM with certificate and private key
}

// CacheConfig configures the profile cache.
type CacheConfig struct {
	TTL        time.Duration `yaml:"ttl"`         // default 60s, at most 10m
	MaxEntries int           `yaml:"max_entries"` // default 10000
	MaxBytes   int64         `yaml:"max_bytes"`   // default 64 MiB
}

// UpstreamConfig configures calls to Microsoft Graph.
type UpstreamConfig struct {
	// Timeout bounds the upstream work of one request, however many Graph calls it
	// makes (each call too): default 10s. A request that reaches it is answered 503.
	Timeout        time.Duration `yaml:"timeout"`
	MaxConcurrency int           `yaml:"max_concurrency"` // per tenant, default 16
	QueueWait      time.Duration `yaml:"queue_wait"`      // default 2s
	// MaxRetryWait is the longest Graph Retry-After (or back-off) a request waits out
	// before retrying; a longer one is answered 429 at once with the remaining delay.
	// Default 1s (graph.DefaultMaxRetryWait); must not be negative.
	MaxRetryWait time.Duration `yaml:"max_retry_wait"`
}

// ShutdownConfig configures the graceful stop at SIGTERM/SIGINT: the instance drains,
// then stops accepting connections and lets the requests in flight finish within the
// grace period. The process exits within Drain + Grace of the signal (plus the time to
// flush usage counts): an orchestrator's grace period (Kubernetes
// terminationGracePeriodSeconds) must be longer.
type ShutdownConfig struct {
	// Drain is how long the instance keeps serving after SIGTERM while /readyz answers
	// 503 and every response says "Connection: close", so that load balancers and
	// keep-alive clients move to other instances before it stops accepting connections.
	// Unset means defaultDrain (5s); 0s skips the drain.
	Drain *time.Duration `yaml:"drain"`
	// Grace bounds how long the requests still in flight after the drain may take to
	// finish; what is left then is cut. Default: twice upstream.timeout plus graceMargin
	// (5s), 25s at the default timeout: the admin and usage APIs are not bound by the
	// request deadline (an admin logout makes a Graph call, a revocation-list write and a
	// second Graph call, each with the per-call timeout). Shutdown returns as soon as the
	// requests have finished, so a long grace costs nothing when they are quick.
	Grace time.Duration `yaml:"grace"`
}

// Shutdown defaults (ShutdownConfig).
const (
	// defaultDrain is the default drain: a few periods of the load balancer's readiness
	// probe, or the time an orchestrator takes to remove a terminating endpoint.
	defaultDrain = 5 * time.Second
	// graceMargin is what the default grace adds to two request deadlines: time to write
	// the last answers.
	graceMargin = 5 * time.Second
)

// withDefaults returns s with its defaults applied; requestDeadline is upstream.timeout
// (0 = proxy.DefaultUpstreamTimeout). It is the one place the shutdown defaults are
// applied (gatewayStopPlan); validate only checks the values set.
func (s ShutdownConfig) withDefaults(requestDeadline time.Duration) ShutdownConfig {
	if s.Drain == nil {
		d := defaultDrain
		s.Drain = &d
	}
	if s.Grace == 0 {
		if requestDeadline <= 0 {
			requestDeadline = proxy.DefaultUpstreamTimeout
		}
		s.Grace = 2*requestDeadline + graceMargin
	}
	return s
}

// CORSConfig lists allowed browser origins ("*" allows any).
type CORSConfig struct {
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// RateLimitConfig configures the token buckets per user and per client app (requests per
// second and burst). Zero means the default (user 20/s burst 100, client app 1000/s
// burst 2000); a negative rate switches that limit off.
type RateLimitConfig struct {
	PerUserRPS      float64 `yaml:"per_user_rps"`
	PerUserBurst    int     `yaml:"per_user_burst"`
	PerClientRPS    float64 `yaml:"per_client_rps"`
	PerClientBurst  int     `yaml:"per_client_burst"`
	MaxTrackedUsers int     `yaml:"max_tracked_users"` // default 100000
}

// PrivacyConfig holds the facts the record of processing (GET /privacy) states about the
// deployment.
type PrivacyConfig struct {
	HostingRegion string `yaml:"hosting_region"` // e.g. "EU (Germany West Central)"
	Controller    string `yaml:"controller"`     // the organisation responsible
	Contact       string `yaml:"contact"`        // the privacy contact (address or URL)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadConfig reads, expands and validates a config file.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	var missing []string
	expanded := envRef.ReplaceAllStringFunc(string(raw), func(m string) string {
		name := envRef.FindStringSubmatch(m)[1]
		v := getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("config %s: environment variables not set: %s", path, strings.Join(missing, ", "))
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader([]byte(expanded)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.dir = dirOf(path)
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i]
	}
	return "."
}

// validate applies defaults and reports every problem at once.
func (c *Config) validate() error {
	c.Listen = orDefault(c.Listen, "127.0.0.1:8080")
	c.LogLevel = orDefault(c.LogLevel, "info")
	c.DataDir = orDefault(c.DataDir, "graphgate-data")
	c.Authority = strings.TrimRight(orDefault(c.Authority, "https://login.microsoftonline.com"), "/")
	c.GraphURL = strings.TrimRight(orDefault(c.GraphURL, "https://graph.microsoft.com/v1.0"), "/")
	var errs []error
	if !spec.IsObjectID(c.AppID) {
		errs = append(errs, errors.New("app_id must be graphgate's application (client) id, a GUID"))
	}
	if c.PolicyFile == "" {
		errs = append(errs, errors.New("policy_file is required"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if !strings.HasPrefix(c.Authority, "https://") || !strings.HasPrefix(c.GraphURL, "https://") {
		errs = append(errs, errors.New("authority and graph_url must be https URLs"))
	}
	if len(c.Tenants) == 0 {
		errs = append(errs, errors.New("at least one tenant is required"))
	}
	seen := map[string]bool{}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		t.ClientID = orDefault(t.ClientID, c.AppID)
		switch {
		case !spec.IsObjectID(t.ID):
			errs = append(errs, fmt.Errorf("tenants[%d]: id must be the tenant id (GUID)", i))
		case seen[strings.ToLower(t.ID)]:
			errs = append(errs, fmt.Errorf("tenants[%d]: duplicate tenant id", i))
		case (t.ClientSecret == "") == (t.CertificateFile == ""):
			errs = append(errs, fmt.Errorf("tenants[%d]: set exactly one of client_secret and certificate_file", i))
		}
		seen[strings.ToLower(t.ID)] = true
	}
	if c.Cache.TTL > cache.MaxTTL {
		errs = append(errs, fmt.Errorf("cache.ttl %s exceeds the maximum of %s: graphgate holds personal data only briefly", c.Cache.TTL, cache.MaxTTL))
	}
	if c.Cache.TTL < 0 || c.Upstream.Timeout < 0 || c.Upstream.QueueWait < 0 || c.Upstream.MaxRetryWait < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	// The upstream and shutdown defaults are applied where they are used (proxy.Config,
	// graph.Config, gatewayStopPlan), not here: zero means the default.
	if (c.Shutdown.Drain != nil && *c.Shutdown.Drain < 0) || c.Shutdown.Grace < 0 {
		errs = append(errs, errors.New("shutdown.drain and shutdown.grace must not be negative"))
	}
	errs = append(errs, c.Usage.validate())
	errs = append(errs, c.validateSessions())
	return errors.Join(errs...)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// path resolves a file name relative to the config file's directory.
func (c *Config) path(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || c.dir == "" {
		return p
	}
	return c.dir + "/" + p
}
