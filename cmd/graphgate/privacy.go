package main

import (
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/privacy"
	gusage "github.com/graphgate/graphgate/proxy/usage"
)

// privacyConfig describes the deployment for the record of processing: the configured
// facts plus where this configuration keeps what it persists, and for how long. Zero
// values are left for privacy.Config.WithDefaults, the one owner of the defaults.
func privacyConfig(cfg Config) privacy.Config {
	pc := privacy.Config{
		HostingRegion:      cfg.Privacy.HostingRegion,
		Controller:         cfg.Privacy.Controller,
		Contact:            cfg.Privacy.Contact,
		UsageMinUsers:      cfg.Usage.K,
		RevocationStore:    "memory of each gateway instance",
		RevocationLifetime: revoke.RetentionFor(cfg.Revocation.Lockout, cfg.Revocation.MaxTokenLifetime),
		AuditSink:          "stderr (an audit stream apart from the access log)",
	}
	switch cfg.Usage.Store {
	case "", "sqlite":
		pc.UsageStore = "SQLite database in the data directory (while it cannot be written, a spool file beside it)"
	case "postgres":
		pc.UsageStore = "PostgreSQL database (while it is unreachable, a spool file in the data directory until it is written there)"
	default:
		pc.UsageStore = privacy.NoUsageStore
	}
	if ret, err := gusage.ParseRetention(cfg.Usage.Retention); err == nil && cfg.Usage.Retention != "" {
		pc.UsageRetention = ret.Approx()
	}
	if cfg.Redis.URL != "" {
		pc.RevocationStore = "Redis shared by the gateway instances (keys expire automatically)"
	}
	if f := cfg.Audit.File; f != "" && f != "stderr" {
		pc.AuditSink = "a JSON-lines file of its own"
	}
	return pc
}
