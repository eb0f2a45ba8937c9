package main

import (
	"context"
	"flag"
	"fmt"
)

// runServe runs the gateway from a config file.
func runServe(env cmdEnv, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	configPath := fs.String("config", "graphgate.yaml", "configuration file (YAML)")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (overrides the config)")
	addr := fs.String("addr", "", "listen address (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath, env.getenv)
	if err != nil {
		return err
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	if *addr != "" {
		cfg.Listen = *addr
	}
	log, err := newLogger(env.stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	pol, err := loadPolicyFile(cfg.path(cfg.PolicyFile))
	if err != nil {
		return err
	}
	hc, err := upstreamHTTPClient(cfg)
	if err != nil {
		return err
	}
	gw, err := buildGateway(env.ctx, cfg, pol, hc, log)
	if err != nil {
		return err
	}
	defer gw.Close()
	ln, err := listen(cfg.Listen)
	if err != nil {
		return err
	}
	log.Info("graphgate serving", "addr", ln.Addr().String(), "tenants", len(cfg.Tenants))
	fmt.Fprintf(env.stdout, "graphgate listening on %s\n", baseURLOf(ln))
	// The metrics listener outlives the API's drain: the drain is when operators watch.
	// It is stopped, and waited for, once the API server has stopped (before the usage
	// flush in gw.Close).
	metricsCtx, stopMetrics := context.WithCancel(context.WithoutCancel(env.ctx))
	waitMetrics, err := startMetrics(metricsCtx, cfg.Metrics.Listen, ln.Addr().String(), gw.metrics, env.stdout, log)
	defer func() { stopMetrics(); waitMetrics() }()
	if err != nil {
		return err
	}
	return serveUntil(env.ctx, ln, gw.server.Handler(), gatewayStopPlan(cfg, gw.server), log)
}
