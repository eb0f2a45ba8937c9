package main

import (
	"github.com/graphgate/graphgate/proxy"
)

// privacyConfig describes the deployment for the record of processing: the configured
// facts plus where this configuration keeps what it persists.
func privacyConfig(cfg Config) proxy.PrivacyConfig {
	return proxy.PrivacyConfig{
		HostingRegion: cfg.Privacy.HostingRegion,
		Controller:    cfg.Privacy.Controller,
		Contact:       cfg.Privacy.Contact,
	}
}
