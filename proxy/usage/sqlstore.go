package usage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name     string
	numbered bool   // placeholders are $1, $2 (PostgreSQL) instead of ?
	greatest string // function returning the larger of two values
	lock     string // statement serialising migrations ("" = none needed)
}

var (
	sqliteDialect   = dialect{name: "sqlite", greatest: "MAX"}
	postgresDialect = dialect{name: "postgres", numbered: true, greatest: "GREATEST",
		lock: "SELECT pg_advisory_xact_lock(7412093)"}
)

// latencyCols are the latency bucket columns, in LatencyBounds order, then +Inf.
var latencyCols = func() []string {
	cols := make([]string, 0, NumBuckets)
	for _, b := range LatencyBounds {
		cols = append(cols, "lat_le_"+strconv.Itoa(int(b))+"ms")
	}
	return append(cols, "lat_inf")
}()

// migrations are the schema versions, applied in order. Nothing personal is stored: hours
// and days (not exact times), tenant ids, client app policy names, route templates,
// status classes, cache outcomes, counts, estimates and random batch ids.
var migrations = [][]string{
	1: {
		`CREATE TABLE usage_requests (
			hour BIGINT NOT NULL, tenant TEXT NOT NULL, client_app TEXT NOT NULL, operation TEXT NOT NULL,
			status_class TEXT NOT NULL, cache TEXT NOT NULL, requests BIGINT NOT NULL, ` +
			strings.Join(latencyCols, " BIGINT NOT NULL DEFAULT 0, ") + ` BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (tenant, hour, client_app, operation, status_class, cache))`,
		`CREATE TABLE usage_daily_users (
			day BIGINT NOT NULL, tenant TEXT NOT NULL, client_app TEXT NOT NULL, users BIGINT NOT NULL,
			PRIMARY KEY (tenant, day, client_app))`,
		`CREATE TABLE usage_batches (id TEXT PRIMARY KEY, day BIGINT NOT NULL)`,
	},
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations) - 1

// sqlStore is the Store over database/sql shared by SQLite and PostgreSQL.
type sqlStore struct {
	db *sql.DB
	d  dialect
}

// q rewrites ? placeholders for the dialect.
func (s *sqlStore) q(query string) string {
	if !s.d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrate brings the schema to SchemaVersion.
func (s *sqlStore) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("usage: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			return fmt.Errorf("usage: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("usage: migrate: %w", err)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("usage: migrate: read version: %w", err)
	}
	if int(v.Int64) > SchemaVersion {
		return fmt.Errorf("usage: migrate: store schema version %d is newer than this build's %d: %w", v.Int64, SchemaVersion, ErrSchemaNewer)
	}
	for ver := int(v.Int64) + 1; ver <= SchemaVersion; ver++ {
		for _, stmt := range migrations[ver] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("usage: migrate to %d: %w", ver, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_version (version) VALUES (?)`), ver); err != nil {
			return fmt.Errorf("usage: migrate to %d: %w", ver, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("usage: migrate: commit: %w", err)
	}
	return nil
}

// ErrSchemaNewer means the store was migrated by a newer graphgate: this build must not
// write to it. It is a configuration error, not an outage.
var ErrSchemaNewer = errors.New("usage: store schema is newer than this build")

// Write implements Store. A batch id applied before adds no cells again; its
// distinct-user estimates are still written, since keeping the maximum is idempotent
// (they may have been raised since the batch was first written).
func (s *sqlStore) Write(ctx context.Context, b Batch) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("usage: write: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO usage_batches (id, day) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`),
		b.ID, dayOf(time.Now()).Unix())
	if err != nil {
		return fmt.Errorf("usage: write: batch: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("usage: write: batch: %w", err)
	}
	if n > 0 { // else applied before: its commit was acknowledged late or lost
		if err := s.writeCells(ctx, tx, b.Cells); err != nil {
			return err
		}
	}
	if err := s.writeUsers(ctx, tx, b.Users); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("usage: write: commit: %w", err)
	}
	return nil
}

func (s *sqlStore) writeCells(ctx context.Context, tx *sql.Tx, cells []Cell) error {
	if len(cells) == 0 {
		return nil
	}
	set := []string{"requests = usage_requests.requests + excluded.requests"}
	for _, c := range latencyCols {
		set = append(set, c+" = usage_requests."+c+" + excluded."+c)
	}
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO usage_requests
		(hour, tenant, client_app, operation, status_class, cache, requests, `+strings.Join(latencyCols, ", ")+`)
		VALUES (?, ?, ?, ?, ?, ?, ?`+strings.Repeat(", ?", NumBuckets)+`)
		ON CONFLICT (tenant, hour, client_app, operation, status_class, cache) DO UPDATE SET `+strings.Join(set, ", ")))
	if err != nil {
		return fmt.Errorf("usage: write: prepare: %w", err)
	}
	defer stmt.Close()
	// Rows are locked in key order so that concurrent writers cannot deadlock.
	cells = slices.Clone(cells)
	slices.SortFunc(cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), a.Hour.Compare(b.Hour), cmp.Compare(a.ClientApp, b.ClientApp),
			cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.StatusClass, b.StatusClass), cmp.Compare(a.Cache, b.Cache))
	})
	args := make([]any, 0, 7+NumBuckets)
	for _, c := range cells {
		args = append(args[:0], c.Hour.UTC().Truncate(time.Hour).Unix(), c.Tenant, c.ClientApp, c.Operation, c.StatusClass, c.Cache, c.Requests)
		for _, n := range c.Latency {
			args = append(args, n)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("usage: write: cell: %w", err)
		}
	}
	return nil
}

func (s *sqlStore) writeUsers(ctx context.Context, tx *sql.Tx, us []DailyUsers) error {
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b DailyUsers) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), a.Day.Compare(b.Day), cmp.Compare(a.ClientApp, b.ClientApp))
	})
	for _, u := range us {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO usage_daily_users (day, tenant, client_app, users) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, day, client_app) DO UPDATE SET users = `+s.d.greatest+`(usage_daily_users.users, excluded.users)`),
			dayOf(u.Day).Unix(), u.Tenant, u.ClientApp, u.Users)
		if err != nil {
			return fmt.Errorf("usage: write: users: %w", err)
		}
	}
	return nil
}

// Cells implements Store.
func (s *sqlStore) Cells(ctx context.Context, tenant string, from, to time.Time) ([]Cell, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT hour, client_app, operation, status_class, cache, requests, `+
		strings.Join(latencyCols, ", ")+` FROM usage_requests WHERE tenant = ? AND hour >= ? AND hour < ?
		ORDER BY hour, client_app, operation, status_class, cache`), tenant, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("usage: read cells: %w", err)
	}
	defer rows.Close()
	var out []Cell
	for rows.Next() {
		c := Cell{Tenant: tenant}
		var hour int64
		dst := []any{&hour, &c.ClientApp, &c.Operation, &c.StatusClass, &c.Cache, &c.Requests}
		for i := range c.Latency {
			dst = append(dst, &c.Latency[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("usage: read cells: %w", err)
		}
		c.Hour = time.Unix(hour, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: read cells: %w", err)
	}
	return out, nil
}

// DailyUsers implements Store.
func (s *sqlStore) DailyUsers(ctx context.Context, tenant string, from, to time.Time) ([]DailyUsers, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, client_app, users FROM usage_daily_users
		WHERE tenant = ? AND day >= ? AND day < ? ORDER BY day, client_app`), tenant, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("usage: read users: %w", err)
	}
	defer rows.Close()
	var out []DailyUsers
	for rows.Next() {
		u := DailyUsers{Tenant: tenant}
		var day int64
		if err := rows.Scan(&day, &u.ClientApp, &u.Users); err != nil {
			return nil, fmt.Errorf("usage: read users: %w", err)
		}
		u.Day = time.Unix(day, 0).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: read users: %w", err)
	}
	return out, nil
}

// Tenants implements Store.
func (s *sqlStore) Tenants(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT tenant FROM usage_requests ORDER BY tenant`)
	if err != nil {
		return nil, fmt.Errorf("usage: read tenants: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("usage: read tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// batchIDRetention is how long applied batch ids are remembered for idempotent retries.
const batchIDRetention = 7 * 24 * time.Hour

// DeleteBefore implements Store.
func (s *sqlStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	var errs []error
	for _, d := range []struct {
		query string
		arg   int64
	}{
		{`DELETE FROM usage_requests WHERE hour < ?`, t.Unix()},
		{`DELETE FROM usage_daily_users WHERE day < ?`, t.Unix()},
		{`DELETE FROM usage_batches WHERE day < ?`, time.Now().Add(-batchIDRetention).Unix()},
	} {
		res, err := s.db.ExecContext(ctx, s.q(d.query), d.arg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("usage: retention: %w", err)
	}
	return total, nil
}

// Close implements Store.
func (s *sqlStore) Close() error { return s.db.Close() }
