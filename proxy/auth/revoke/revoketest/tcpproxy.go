// Package revoketest holds test helpers for the revocation stores: a TCP proxy whose
// connection to Redis a test can cut and restore.
package revoketest

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisURL returns GRAPHGATE_TEST_REDIS or skips the test with a clear reason.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("GRAPHGATE_TEST_REDIS")
	if u == "" {
		t.Skip("GRAPHGATE_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0): skipping the Redis integration test")
	}
	return u
}

// Proxy forwards TCP connections to a target. Cut closes every open connection and
// refuses new ones (accepts and closes them at once) until Restore.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// NewProxy starts a proxy on 127.0.0.1 in front of target ("host:port"); it is closed
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// ProxyURL returns a copy of the Redis URL u whose host is a new Proxy in front of
// u's host, and the Proxy.
func ProxyURL(t testing.TB, u string) (string, *Proxy) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProxy(t, pu.Host)
	pu.Host = p.Addr()
	return pu.String(), p
}

// Addr is the proxy's listen address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.Cut()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *Proxy) handle(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a connection unless the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// DeletePrefix deletes every key under "{prefix}:" on the Redis at url.
func DeletePrefix(t testing.TB, redisURL, prefix string) {
	t.Helper()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 512).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
