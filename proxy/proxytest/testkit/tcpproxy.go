package testkit

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// TCPProxy forwards TCP connections to a target. Cut closes every open connection and
// refuses new ones (accepts and closes them at once) until Restore. Vanish silences
// the open connections and sends new ones to another target.
type TCPProxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string
	cut    bool
	conns  map[net.Conn]struct{}
	links  map[*link]struct{}
}

// link is one forwarded connection; once silenced it passes nothing either way.
type link struct{ silenced atomic.Bool }

// NewTCPProxy starts a proxy on 127.0.0.1 in front of target ("host:port"); it is closed
// when the test ends.
func NewTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &TCPProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, links: map[*link]struct{}{}}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's listen address.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and refuses new ones.
func (p *TCPProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Vanish makes the target vanish without a word, as a Redis replaced under its clients
// does (its pod gone, no reset sent): the open connections stay open but pass nothing
// any more (what the client sends is dropped, no answer comes back), and new
// connections go to target ("host:port") instead.
func (p *TCPProxy) Vanish(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.silenced.Store(true)
	}
	p.target = target
}

// Restore lets connections through again.
func (p *TCPProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection.
func (p *TCPProxy) Close() {
	_ = p.ln.Close()
	p.Cut()
}

func (p *TCPProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *TCPProxy) handle(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	up, err := net.Dial("tcp", target)
	if err != nil || !p.track(up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	l := &link{}
	p.mu.Lock()
	p.links[l] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go l.pipe(up, c, done)
	go l.pipe(c, up, done)
	<-done
	_ = c.Close()
	_ = up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	delete(p.links, l)
	p.mu.Unlock()
}

// pipe copies src to dst until either fails, dropping what it reads once silenced.
func (l *link) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.silenced.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// track registers a connection unless the proxy is cut.
func (p *TCPProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}
