package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// Bounds of a lingering close (lingerListener), as nginx's lingering_close bounds its own
// (lingering_time, default 30 s; lingering_timeout 5 s): a client gets time to finish
// sending and read its answer, and a client that never stops sending holds the
// connection no longer than this.
const (
	// lingerTime is the longest a connection closed with unread input keeps reading and
	// discarding what the client still sends: time for a few MiB on a slow link, and
	// within the shutdown grace period (at least 5 s).
	lingerTime = 5 * time.Second
	// lingerBytes is the most it discards: an oversized body up to 64 MiB is let through
	// to the answer; a client sending more is cut.
	lingerBytes = 64 << 20
)

// lingerListener makes the connections it accepts close lingering, as nginx does.
//
// net/http half-closes a connection (CloseWrite, after the answer) when it closes it with
// input it has not read: a request body refused unread (413 from http.MaxBytesReader, or
// any answer that left more than 256 KiB of the body unread; net/http reads and discards
// a smaller rest itself) or headers that were too large (431). It then waits 500 ms and
// closes. A client that writes its whole body before reading (curl, most HTTP/1.1
// clients) is still writing then: the kernel answers the data arriving on the closed
// socket with a reset, and the client's TCP stack drops the answer it had not read yet,
// so the client sees "connection reset" instead of the 413. A lingerConn closes such a
// connection only once the client has closed its side (it has read the answer), or after
// lingerTime or lingerBytes, reading and discarding meanwhile. Other closes (idle
// keep-alive connections, answers with "Connection: close") happen at once, as before.
//
// Only a connection's own goroutine lingers: once cut was called (the shutdown grace is
// over), no Close lingers, so that http.Server.Close, which closes the connections one
// by one while holding its lock, never waits lingerTime for each.
type lingerListener struct {
	net.Listener
	log *slog.Logger
	// noLinger is set by cut: every Close from then on closes at once.
	noLinger atomic.Bool
}

func newLingerListener(ln net.Listener, log *slog.Logger) *lingerListener {
	return &lingerListener{Listener: ln, log: log}
}

// cut makes every later Close of the listener's connections close at once, without
// lingering. A connection lingering already is ended by the second Close.
func (l *lingerListener) cut() { l.noLinger.Store(true) }

// Accept wraps each TCP connection in a lingerConn.
func (l *lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	return &lingerConn{TCPConn: tc, log: l.log, noLinger: &l.noLinger}, nil
}

// lingerConn is a server connection that lingers at Close once half-closed.
type lingerConn struct {
	*net.TCPConn
	log        *slog.Logger
	noLinger   *atomic.Bool // the listener's: set, Close never lingers
	halfClosed atomic.Bool  // CloseWrite was called: the server closes with input unread
	lingering  atomic.Bool  // the first Close is lingering
}

// CloseWrite half-closes the connection (the client reads the answer, then end of
// stream) and makes the next Close linger.
func (c *lingerConn) CloseWrite() error {
	c.halfClosed.Store(true)
	return c.TCPConn.CloseWrite()
}

// Close closes the connection, lingering first if it was half-closed, unless the
// listener was cut. A second Close during the linger (http.Server.Close at the end of
// the shutdown grace period) closes it at once, which ends the linger.
func (c *lingerConn) Close() error {
	if c.halfClosed.Load() && !c.noLinger.Load() && c.lingering.CompareAndSwap(false, true) {
		c.linger()
	}
	return c.TCPConn.Close()
}

// linger reads and discards until the client closes its side, lingerTime passes or
// lingerBytes were read.
func (c *lingerConn) linger() {
	start := time.Now()
	_ = c.TCPConn.SetReadDeadline(start.Add(lingerTime))
	n, err := io.CopyN(io.Discard, c.TCPConn, lingerBytes)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		// Counts only: what the client sent is never looked at.
		c.log.Debug("lingering close cut at its bound", "discarded_bytes", n,
			"took", time.Since(start).Round(time.Millisecond).String())
	}
}
