// Package testkit holds the small fakes the gateway's tests share: a settable clock, a
// goroutine-safe buffer for logs and a TCP proxy that cuts a service off (TCPProxy). It imports only the standard library, so any test
// under proxy/ and cmd/ can use it without an import cycle. (cache/ and graph/ keep
// their own: they must not depend on proxy/, not even in tests.)
package testkit

import (
	"bytes"
	"sync"
	"time"
)

// Clock is a settable time source, safe for concurrent use. Its zero value reads the
// zero time; NewClock starts it at a fixed instant.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass the method value where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d (negative d moves it back).
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// SyncBuffer collects output written from concurrent goroutines (a logger's writer).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
