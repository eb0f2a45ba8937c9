package main

import (
	"time"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	gusage "github.com/graphgate/graphgate/proxy/usage"
)

// privacyConfig describes the deployment for the record of processing: the configured
// facts plus where this configuration keeps what it persists, and for how long.
func privacyConfig(cfg Config) proxy.PrivacyConfig {
	pc := proxy.PrivacyConfig{
		HostingRegion:   cfg.Privacy.HostingRegion,
		Controller:      cfg.Privacy.Controller,
		Contact:         cfg.Privacy.Contact,
		UsageMinUsers:   cfg.Usage.K,
		RevocationStore: "memory of each gateway instance",
		AuditSink:       "stderr (an audit stream apart from the access log)",
	}
	switch cfg.Usage.Store {
	case "", "sqlite":
		pc.UsageStore = "SQLite database in the data directory"
	case "postgres":
		pc.UsageStore = "PostgreSQL database"
	default:
		pc.UsageStore = "none"
	}
	if ret, err := gusage.ParseRetention(cfg.Usage.Retention); err == nil && cfg.Usage.Retention != "" {
		days := float64(ret.Months)*30.44 + float64(ret.Days)
		pc.UsageRetention = time.Duration(days+0.5) * 24 * time.Hour
	}
	if cfg.Redis.URL != "" {
		pc.RevocationStore = "Redis shared by the gateway instances (keys expire automatically)"
	}
	lockout, lifetime := cfg.Revocation.Lockout, cfg.Revocation.MaxTokenLifetime
	if lockout == 0 {
		lockout = revoke.DefaultLockout
	}
	if lifetime == 0 {
		lifetime = revoke.DefaultMaxTokenLifetime
	}
	pc.RevocationLifetime = max(lockout, 0) + lifetime
	if f := cfg.Audit.File; f != "" && f != "stderr" {
		pc.AuditSink = "a JSON-lines file of its own"
	}
	return pc
}
