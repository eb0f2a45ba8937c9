package usage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLiteFile is the usage database's file name in the data directory.
const SQLiteFile = "usage.db"

// OpenSQLite opens (creating it on first use) the SQLite store at path and migrates its
// schema. The file is readable by its owner only.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("usage: sqlite: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("usage: sqlite: %w", err)
	} else {
		_ = f.Close()
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("usage: sqlite: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; reads are quick
	s := &sqlStore{db: db, d: sqliteDialect}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// postgresConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout: without one, an unreachable host holds a connection attempt (and a
// flush or an analyst's report) for the operating system's TCP timeout, minutes.
const postgresConnectTimeout = 5 * time.Second

// OpenPostgres connects to PostgreSQL at url (pgx) and migrates the schema. schema, if
// not empty, is created when missing and used as the search path (tests use one per test).
func OpenPostgres(ctx context.Context, dsn, schema string) (Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("usage: postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = postgresConnectTimeout
	}
	if schema != "" {
		if !schemaName.MatchString(schema) {
			return nil, fmt.Errorf("usage: postgres: invalid schema name")
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("usage: postgres: %w", err)
		}
		_, err = conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema)
		_ = conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("usage: postgres: create schema: %w", err)
		}
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("usage: postgres: %w", err)
	}
	s := &sqlStore{db: db, d: postgresDialect}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// OpenPostgresInBackground is OpenPostgres for a server: an invalid URL or a schema newer
// than this build fails at once, while an unreachable PostgreSQL does not — the store
// connects in the background (see OpenReconnecting) and reports its state with Status.
func OpenPostgresInBackground(ctx context.Context, dsn, schema string, opt ReconnectOptions) (*ReconnectingStore, error) {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("usage: postgres: %w", err)
	}
	if schema != "" && !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("usage: postgres: invalid schema name")
	}
	return OpenReconnecting(ctx, func(ctx context.Context) (Store, error) {
		return OpenPostgres(ctx, dsn, schema)
	}, opt)
}
