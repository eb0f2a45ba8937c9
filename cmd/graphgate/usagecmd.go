package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/proxy"
	gusage "github.com/graphgate/graphgate/proxy/usage"
)

// UsageConfig configures anonymised usage counting (proxy/usage).
type UsageConfig struct {
	// Store is sqlite (default: usage.db in the data dir), postgres, or off.
	Store string `yaml:"store"`
	// PostgresURL is the PostgreSQL connection URL when Store is postgres; several
	// instances may share one database. An unreachable database does not stop serve: it
	// connects in the background while counts are kept and spooled.
	PostgresURL string `yaml:"postgres_url"`
	// RedisURL, when set, counts distinct users across instances in Redis (daily key and
	// HyperLogLogs with a 48 h TTL) instead of per process.
	RedisURL string `yaml:"redis_url"`
	// FlushInterval is how often aggregates are written (default 5s) — or, while the
	// store is unreachable, spooled to the data dir: a kill -9 loses at most this much.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// K is the release threshold: the fewest distinct users a released figure describes
	// (default 5, at least 2).
	K int `yaml:"k"`
	// Retention is how long aggregates are kept: "13mo" (default), "400d", "1y".
	Retention string `yaml:"retention"`
}

func (u *UsageConfig) validate() error {
	var errs []error
	switch u.Store {
	case "", "sqlite", "off":
	case "postgres":
		if u.PostgresURL == "" {
			errs = append(errs, errors.New("usage.postgres_url is required with usage.store: postgres"))
		}
	default:
		errs = append(errs, fmt.Errorf("usage.store %q: use sqlite, postgres or off", u.Store))
	}
	if u.K == 0 {
		u.K = gusage.DefaultK
	}
	if u.K < 2 {
		errs = append(errs, errors.New("usage.k must be at least 2"))
	}
	if u.FlushInterval < 0 {
		errs = append(errs, errors.New("usage.flush_interval must not be negative"))
	}
	if _, err := gusage.ParseRetention(u.Retention); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// openUsageStore opens the configured store. With mustExist, a missing SQLite file is an
// error rather than created (export reads, it does not create).
func openUsageStore(ctx context.Context, cfg Config, mustExist bool) (gusage.Store, error) {
	if cfg.Usage.Store == "postgres" {
		return gusage.OpenPostgres(ctx, cfg.Usage.PostgresURL, "")
	}
	path := filepath.Join(cfg.DataDir, gusage.SQLiteFile)
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("usage: no usage store in %s: %w", cfg.DataDir, err)
		}
	}
	return gusage.OpenSQLite(ctx, path)
}

// usageRuntime is a running recorder with its store and reader.
type usageRuntime struct {
	store  gusage.Store
	conn   *gusage.ReconnectingStore // the PostgreSQL store; nil with SQLite
	rec    *gusage.Recorder
	reader *gusage.Reader
	rdb    *redis.Client
	log    *slog.Logger
}

// openServeStore opens the store of a running gateway. PostgreSQL being unreachable does
// not stop the start: the store connects in the background while counts are kept in
// memory and spooled to the data dir (see gusage.OpenPostgresInBackground).
func openServeStore(ctx context.Context, cfg Config, log *slog.Logger) (gusage.Store, *gusage.ReconnectingStore, error) {
	if cfg.Usage.Store != "postgres" {
		s, err := openUsageStore(ctx, cfg, false)
		return s, nil, err
	}
	conn, err := gusage.OpenPostgresInBackground(ctx, cfg.Usage.PostgresURL, "", gusage.ReconnectOptions{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return conn, conn, nil
}

// openUsage starts usage counting as configured; nil when it is off.
func openUsage(ctx context.Context, cfg Config, log *slog.Logger) (*usageRuntime, error) {
	if cfg.Usage.Store == "off" {
		return nil, nil
	}
	store, conn, err := openServeStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ret, _ := gusage.ParseRetention(cfg.Usage.Retention)
	ur := &usageRuntime{store: store, conn: conn, reader: &gusage.Reader{Store: store, K: cfg.Usage.K}, log: log}
	opt := gusage.Options{Store: store, FlushInterval: cfg.Usage.FlushInterval, Retention: ret, Logger: log,
		SpoolPath: filepath.Join(cfg.DataDir, gusage.SpoolFile)}
	if cfg.Usage.RedisURL != "" {
		ropt, err := redis.ParseURL(cfg.Usage.RedisURL)
		if err != nil {
			_ = store.Close()
			return nil, fmt.Errorf("usage.redis_url: %w", err)
		}
		ur.rdb = redis.NewClient(ropt)
		opt.Distinct = gusage.NewRedisDistinct(ctx, ur.rdb, "graphgate:")
	}
	if ur.rec, err = gusage.New(opt); err != nil {
		ur.close()
		return nil, err
	}
	return ur, nil
}

// recorder is the proxy's recorder: a nil interface when usage counting is off.
func (u *usageRuntime) recorder() proxy.UsageRecorder {
	if u == nil {
		return nil
	}
	return u.rec
}

// reports is the proxy's usage API backend: a nil interface when usage counting is off.
func (u *usageRuntime) reports() proxy.UsageReports {
	if u == nil {
		return nil
	}
	return u.reader
}

// statusChecks reports the usage store on /readyz without ever failing readiness: while
// it is down, counts are kept in memory and spooled, and written when it is back.
func (u *usageRuntime) statusChecks() map[string]func() error {
	if u == nil {
		return nil
	}
	return map[string]func() error{"usage_store": u.storeStatus}
}

// storeStatus is nil while the store takes the counts; else it says why not and where
// the counts are meanwhile. It names no host, user or database.
func (u *usageRuntime) storeStatus() error {
	if u.conn != nil {
		if err := u.conn.Status(); err != nil {
			return err
		}
	}
	if st := u.rec.Stats(); !st.StoreHealthy {
		return fmt.Errorf("unavailable: the last write failed; %d cells kept in memory, %d spooled to the data dir",
			st.PendingCells, st.SpooledCells)
	}
	return nil
}

// usageFlushTimeout bounds the last flush of usage counts at stop (usageRuntime.close),
// after the API server has stopped: orchestrators' grace periods must cover it too.
const usageFlushTimeout = 10 * time.Second

// close flushes what is in memory (for up to usageFlushTimeout; what is still unwritten
// then is spooled to the data dir for the next start) and closes the store.
func (u *usageRuntime) close() {
	if u == nil {
		return
	}
	if u.rec != nil {
		ctx, cancel := context.WithTimeout(context.Background(), usageFlushTimeout)
		_ = u.rec.Close(ctx) // logs what it could not write
		cancel()
	}
	if u.rdb != nil {
		_ = u.rdb.Close()
	}
	_ = u.store.Close()
}

// runUsage runs "graphgate usage export".
func runUsage(env cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(env.stderr, "usage: graphgate usage export --from YYYY-MM-DD --to YYYY-MM-DD --format csv|json [--config FILE | --data-dir DIR]")
		return &exitCodeError{code: 2, err: errors.New("usage: unknown or missing subcommand")}
	}
	fs := flag.NewFlagSet("usage export", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	configPath := fs.String("config", "", "configuration file (YAML): its usage store and data dir")
	dataDir := fs.String("data-dir", "", "data directory holding usage.db (default graphgate-data)")
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: to − 30 days)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default: today, UTC)")
	format := fs.String("format", "csv", "csv or json")
	report := fs.String("report", "requests", "requests or active-users")
	granularity := fs.String("granularity", "day", "hour or day")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if _, err := newLogger(env.stderr, *logLevel); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if *format != "csv" && *format != "json" {
		return &exitCodeError{code: 2, err: errors.New("usage export: --format must be csv or json")}
	}
	var cfg Config
	switch {
	case *configPath != "" && *dataDir != "":
		return &exitCodeError{code: 2, err: errors.New("usage export: give --config or --data-dir, not both")}
	case *configPath != "":
		c, err := loadConfig(*configPath, env.getenv)
		if err != nil {
			return err
		}
		cfg = c
	default:
		cfg.DataDir = orDefault(*dataDir, "graphgate-data")
		if err := cfg.Usage.validate(); err != nil {
			return err
		}
	}
	if cfg.Usage.Store == "off" {
		return errors.New("usage export: usage counting is off in this configuration")
	}
	return exportUsage(env, cfg, *report, url.Values{"from": {*from}, "to": {*to}, "granularity": {*granularity}}, *format)
}

// exportUsage writes one report of every tenant in the store, released rows only.
func exportUsage(env cmdEnv, cfg Config, report string, q url.Values, format string) error {
	var groupBy string
	switch report {
	case "requests":
		groupBy = "client_app,operation,status_class,cache"
	case "active-users":
		groupBy = "client_app"
	default:
		return &exitCodeError{code: 2, err: fmt.Errorf("usage export: --report %q: use requests or active-users", report)}
	}
	q.Set("group_by", groupBy)
	for k, v := range q {
		if v[0] == "" {
			delete(q, k)
		}
	}
	p, err := gusage.ParseParams(report, q, time.Now())
	if err != nil {
		return &exitCodeError{code: 2, err: fmt.Errorf("usage export: %w", err)}
	}
	store, err := openUsageStore(env.ctx, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	rd := &gusage.Reader{Store: store, K: cfg.Usage.K}
	if report == "requests" {
		rep, err := rd.ExportRequests(env.ctx, p)
		if err != nil {
			return err
		}
		return writeExport(env, rep, format)
	}
	rep, err := rd.ExportActiveUsers(env.ctx, p)
	if err != nil {
		return err
	}
	return writeExport(env, rep, format)
}
