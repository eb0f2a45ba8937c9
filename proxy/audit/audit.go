// Package audit writes graphgate's audit trail: one JSON line per admin action, to a
// sink of its own (a file or stderr), kept apart from the access log.
//
// A record never holds a raw user id, UPN, name or email: the actor and the target are
// written as keyed hashes, userkey.Of(key, tenant, id), the same function the
// revocation list uses, so an operator holding the key can tell whether a record
// concerns a given user (or matches a revocation marker) without the log revealing who
// it is about.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/graphgate/graphgate/proxy/auth/userkey"
)

// Results of an admin action.
const (
	ResultSuccess  = "success"   // everything asked for was done
	ResultPartial  = "partial"   // the essential part was done, a secondary step failed
	ResultDenied   = "denied"    // the caller may not do this (403)
	ResultNotFound = "not_found" // the target does not exist in the caller's tenant
	ResultInvalid  = "invalid"   // the request was malformed (400)
	ResultFailed   = "failed"    // nothing was done because of a server-side problem
)

// Event is one admin action, as the gateway reports it. ActorID and TargetID are raw
// ids (or a UPN for an unresolved target); the Logger hashes them before writing.
type Event struct {
	Time      time.Time
	Action    string // e.g. "user.logout", "cache.purge"
	TenantID  string
	ActorID   string
	TargetID  string // "" when the action has no user as its target
	ClientApp string // the calling app's id (not personal data)
	Result    string
	Status    int
	RequestID string
	// Details holds non-personal facts about the outcome (times, counts, booleans).
	// Only string, bool, integer and time values are written; others are dropped.
	Details map[string]any
}

// line is the JSON shape of one record.
type line struct {
	Time      string         `json:"time"`
	Kind      string         `json:"kind"`
	Action    string         `json:"action"`
	Tenant    string         `json:"tenant"`
	Actor     string         `json:"actor"`
	Target    string         `json:"target,omitempty"`
	ClientApp string         `json:"client_app,omitempty"`
	Result    string         `json:"result"`
	Status    int            `json:"status"`
	RequestID string         `json:"request_id"`
	Details   map[string]any `json:"details,omitempty"`
}

// Logger writes audit records as JSON lines. It is safe for concurrent use.
type Logger struct {
	key []byte
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer // nil for stderr / caller-owned writers
}

// New returns a Logger writing to w, hashing ids with key (at least 16 bytes).
func New(w io.Writer, key []byte) (*Logger, error) {
	if len(key) < 16 {
		return nil, errors.New("audit: the hashing key must be at least 16 bytes")
	}
	if w == nil {
		return nil, errors.New("audit: no writer")
	}
	return &Logger{key: append([]byte(nil), key...), w: w}, nil
}

// Open returns a Logger appending to the file at path (created with mode 0600), or
// writing to stderr when path is "" or "stderr".
func Open(path string, key []byte) (*Logger, error) {
	if path == "" || path == "stderr" {
		return New(os.Stderr, key)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open: %w", err)
	}
	l, err := New(f, key)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	l.c = f
	return l, nil
}

// Hash returns the keyed hash under which an id of a tenant appears in the records,
// userkey.Of(key, tenantID, id).
func (l *Logger) Hash(tenantID, id string) string { return userkey.Of(l.key, tenantID, id) }

// Emit writes one record for e.
func (l *Logger) Emit(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	rec := line{
		Time: e.Time.UTC().Format(time.RFC3339Nano), Kind: "audit", Action: e.Action,
		Tenant: e.TenantID, Actor: l.Hash(e.TenantID, e.ActorID), ClientApp: e.ClientApp,
		Result: e.Result, Status: e.Status, RequestID: e.RequestID, Details: safeDetails(e.Details),
	}
	if e.TargetID != "" {
		rec.Target = l.Hash(e.TenantID, e.TargetID)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// Close closes the file the Logger opened, if any.
func (l *Logger) Close() error {
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}

// safeDetails keeps scalar values only, so that no record or nested map can slip in.
func safeDetails(d map[string]any) map[string]any {
	if len(d) == 0 {
		return nil
	}
	out := make(map[string]any, len(d))
	for k, v := range d {
		switch x := v.(type) {
		case string, bool, int, int64:
			out[k] = x
		case time.Time:
			out[k] = x.UTC().Format(time.RFC3339Nano)
		case time.Duration:
			out[k] = x.String()
		}
	}
	return out
}
