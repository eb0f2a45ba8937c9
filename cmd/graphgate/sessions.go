package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
)

// RevocationConfig configures remote logout (proxy/auth/revoke).
type RevocationConfig struct {
	// Lockout is added to the logout time to get the cut-off (default 5m).
	Lockout time.Duration `yaml:"lockout"`
	// MaxTokenLifetime is the longest access-token lifetime accepted (default 90m); a
	// revocation is remembered for lockout + max_token_lifetime.
	MaxTokenLifetime time.Duration `yaml:"max_token_lifetime"`
	// Key is the secret for the keyed hashes of users (revocation keys in Redis, audit
	// records), at least 32 characters; use ${ENV}. Required with redis (every instance
	// needs the same key); empty without redis means a random key per process.
	Key string `yaml:"key"`
	// OnUnavailable is fail_closed (default: tokens the instance cannot check are answered
	// 503) or fail_open (serve with the last known list).
	OnUnavailable string `yaml:"on_unavailable"`
	// MaxStaleness is how long fail_closed keeps serving after losing Redis (default 30s).
	MaxStaleness time.Duration `yaml:"max_staleness"`
}

// RedisConfig makes the revocation list shared by every instance (scale-out).
type RedisConfig struct {
	// URL is redis://[user:password@]host:port/db or rediss://...; empty means no Redis
	// (one instance, in-memory list).
	URL string `yaml:"url"`
	// Prefix namespaces graphgate's keys and channel (default "graphgate").
	Prefix string `yaml:"prefix"`
}

// AuditConfig says where the audit trail of admin actions goes.
type AuditConfig struct {
	// File receives one JSON line per admin action; "" or "stderr" means stderr.
	File string `yaml:"file"`
}

// validateSessions checks the revocation, redis and audit sections.
func (c *Config) validateSessions() error {
	var errs []error
	r := c.Revocation
	if r.Lockout < 0 || r.MaxTokenLifetime < 0 || r.MaxStaleness < 0 {
		errs = append(errs, errors.New("revocation: durations must not be negative"))
	}
	switch revoke.Mode(r.OnUnavailable) {
	case "", revoke.FailClosed, revoke.FailOpen:
	default:
		errs = append(errs, fmt.Errorf("revocation.on_unavailable %q: use fail_closed or fail_open", r.OnUnavailable))
	}
	if r.Key != "" && len(r.Key) < 32 {
		errs = append(errs, errors.New("revocation.key must be at least 32 characters"))
	}
	if c.Redis.URL != "" && r.Key == "" {
		errs = append(errs, errors.New("revocation.key is required with redis.url: every instance must hash users with the same key"))
	}
	return errors.Join(errs...)
}

// sessions is the wired revocation list and audit sink.
type sessions struct {
	revs   proxy.Revocations
	audit  *audit.Logger
	ready  map[string]func() error
	closer func() error
}

// openSessions builds the revocation list (Redis when configured, else in memory) and
// the audit sink.
func openSessions(cfg Config, log *slog.Logger) (*sessions, error) {
	key := []byte(cfg.Revocation.Key)
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("revocation: key: %w", err)
		}
	}
	rc := revoke.Config{
		Secret: key, Lockout: cfg.Revocation.Lockout, MaxTokenLifetime: cfg.Revocation.MaxTokenLifetime,
		OnUnavailable: revoke.Mode(cfg.Revocation.OnUnavailable), MaxStaleness: cfg.Revocation.MaxStaleness,
		Logger: log,
	}
	s := &sessions{ready: map[string]func() error{}, closer: func() error { return nil }}
	if cfg.Redis.URL != "" {
		r, err := revoke.NewRedis(rc, revoke.RedisConfig{URL: cfg.Redis.URL, Prefix: cfg.Redis.Prefix})
		if err != nil {
			return nil, err
		}
		s.revs, s.closer, s.ready["revocation"] = r, r.Close, r.Ready
	} else {
		m, err := revoke.NewMemory(rc)
		if err != nil {
			return nil, err
		}
		s.revs = m
	}
	a, err := audit.Open(cfg.path(cfg.Audit.File), key)
	if err != nil {
		_ = s.closer()
		return nil, err
	}
	s.audit = a
	return s, nil
}

// close stops the revocation list and closes the audit file.
func (s *sessions) close() {
	if s == nil {
		return
	}
	_ = s.closer()
	_ = s.audit.Close()
}
