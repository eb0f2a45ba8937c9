// Package usage counts how graphgate is used without recording who used it.
//
// A Recorder aggregates request events in memory, off the request path, into cells of
// UTC hour × tenant × client app × operation (route template) × status class × cache
// outcome, each holding a request count and fixed latency buckets, and counts distinct
// users per UTC day × tenant × client app with a HyperLogLog sketch of keyed hashes. It
// flushes the aggregates to a Store (SQLite or PostgreSQL) every few seconds. Only
// aggregates and distinct-user estimates are ever persisted; the daily hash key and the
// sketches stay in memory (or, scaled out, in Redis with a 48 h TTL).
//
// An outage of the store costs no count: aggregates stay in memory (bounded by
// Options.MaxCells) and are spooled to a file in the data directory after every failed
// write and at Close; the next start writes the spool, batch by batch under the original
// batch ids, so nothing is applied twice. A PostgreSQL store may connect in the
// background (ReconnectingStore). A kill -9 loses at most what was recorded in the last
// flush interval.
//
// Every read path (Reader, and through it the analysts' API, CSV and the export command)
// applies the release rule: see Release.
package usage

import (
	"context"
	"errors"
	"time"
)

// Event is one finished request as the recorder sees it. It holds no path, query, IP or
// user agent; UserKey is used only for distinct counting and never leaves memory.
type Event struct {
	Time      time.Time     // when the request was served; only its UTC hour is kept
	Tenant    string        // tenant id (tid); events without a tenant are not counted
	ClientApp string        // policy name of the client app, or "other"
	Operation string        // route template, e.g. "GET /v1.0/users/{id}"
	Status    int           // HTTP status code; only its class is kept
	Cache     string        // "hit", "miss", "shared" or "" (not cacheable); "" is kept as "none"
	Latency   time.Duration // time to serve; only its bucket is kept
	// UserKey identifies the caller within Tenant (the token's oid). The recorder hashes
	// Tenant‖UserKey under a daily random key for distinct counting and keeps nothing else.
	UserKey string
}

// LatencyBounds are the upper bounds, in milliseconds, of the latency buckets; a last
// bucket (+Inf) holds everything slower.
var LatencyBounds = [...]float64{5, 10, 25, 50, 100, 250, 500, 1000, 2500}

// NumBuckets is the number of latency buckets, +Inf included.
const NumBuckets = len(LatencyBounds) + 1

// CacheNone is the cache outcome stored for requests that did not involve the cache.
const CacheNone = "none"

// AllClients is the client-app value of the tenant-wide distinct-user count.
const AllClients = "(all)"

// Cell is one aggregate: requests of one UTC hour, tenant, client app, operation, status
// class and cache outcome.
type Cell struct {
	Hour        time.Time // UTC, truncated to the hour
	Tenant      string
	ClientApp   string
	Operation   string
	StatusClass string // "2xx", "3xx", "4xx", "5xx" (or "1xx", "other")
	Cache       string // "hit", "miss", "shared", "none"
	Requests    int64
	Latency     [NumBuckets]int64 // counts per bucket of LatencyBounds, then +Inf
}

// DailyUsers is the estimated number of distinct users of one UTC day, tenant and client
// app (AllClients for the tenant as a whole).
type DailyUsers struct {
	Day       time.Time // UTC midnight
	Tenant    string
	ClientApp string
	Users     int64
}

// Batch is one flush: cells to add and distinct-user estimates to raise. ID makes a write
// idempotent: a store applies a batch id at most once.
type Batch struct {
	ID    string
	Cells []Cell
	Users []DailyUsers
}

// Store keeps the aggregates. Writes are additive (several instances may write to one
// store); distinct-user estimates are kept as the maximum written for a key.
type Store interface {
	// Write applies b atomically, and at most once per b.ID.
	Write(ctx context.Context, b Batch) error
	// Cells returns a tenant's cells with from <= Hour < to.
	Cells(ctx context.Context, tenant string, from, to time.Time) ([]Cell, error)
	// DailyUsers returns a tenant's distinct-user estimates with from <= Day < to.
	DailyUsers(ctx context.Context, tenant string, from, to time.Time) ([]DailyUsers, error)
	// Tenants lists the tenants with any data.
	Tenants(ctx context.Context) ([]string, error)
	// DeleteBefore removes everything older than t and reports how many rows went.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
	// Close releases the store.
	Close() error
}

// ErrClosed is returned by operations on a closed Recorder.
var ErrClosed = errors.New("usage: recorder closed")

// statusClasses maps status/100 to its class.
var statusClasses = [...]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// StatusClass returns the class of an HTTP status code ("2xx", ...).
func StatusClass(status int) string {
	if i := status / 100; i >= 1 && i <= 5 {
		return statusClasses[i]
	}
	return statusClasses[0]
}

// bucketOf returns the latency bucket index of d.
func bucketOf(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	for i, b := range LatencyBounds {
		if ms <= b {
			return i
		}
	}
	return len(LatencyBounds)
}

// dayOf truncates t to its UTC day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
