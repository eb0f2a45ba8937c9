package revoketest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a private redis-server process on a loopback port, run as the shipped
// Kubernetes manifest runs Redis: without persistence (--save "" --appendonly no). A
// test stops it and starts a new one on the same port, which comes up empty: a Redis
// restart as the gateway instances see it.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *bytes.Buffer
	starts int
}

// RedisServerBinary returns the path of redis-server for a test that runs its own Redis.
// It skips the test when GRAPHGATE_TEST_REDIS is unset (as the other Redis tests do),
// and fails it when GRAPHGATE_TEST_REDIS is set but redis-server is not in PATH: CI
// sets the variable and must not skip.
func RedisServerBinary(t testing.TB) string {
	t.Helper()
	RedisURL(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("GRAPHGATE_TEST_REDIS is set but redis-server is not in PATH (install redis-server): %v", err)
	}
	return bin
}

// StartServer starts a private Redis on a free loopback port; it is stopped when the
// test ends. See RedisServerBinary for when it skips or fails.
func StartServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: RedisServerBinary(t), dir: t.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	t.Cleanup(func() { s.Stop(syscall.SIGKILL) })
	s.Start()
	return s
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the server's Redis URL (database 0).
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Starts returns how many times a server process was started on the port.
func (s *Server) Starts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// Start starts a new server process on the port and waits until it answers PING. It
// fails the test if the new server loaded any key: it must come up empty.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		s.t.Fatal("revoketest: redis-server is already running")
	}
	out := &bytes.Buffer{}
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--logfile", "")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		s.t.Fatalf("revoketest: start redis-server: %v", err)
	}
	s.cmd, s.out = cmd, out
	s.starts++
	s.mu.Unlock()
	if loaded, err := s.waitUp(); err != nil {
		s.t.Fatalf("revoketest: redis-server on %s: %v\n%s", s.Addr(), err, out.String())
	} else if loaded != 0 {
		s.t.Fatalf("revoketest: the restarted redis-server loaded %d keys, want none (no persistence)", loaded)
	}
}

// waitUp polls the server until it answers, and returns how many keys it loaded from
// disk at start (INFO persistence's rdb_last_load_keys_loaded).
func (s *Server) waitUp() (int, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.Info(ctx, "persistence").Result()
		cancel()
		if err == nil {
			for _, line := range strings.Split(info, "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "rdb_last_load_keys_loaded:"); ok {
					return strconv.Atoi(v)
				}
			}
			return 0, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not answering: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop sends sig to the server process (SIGTERM: a shutdown; SIGKILL: a crash) and
// waits for it to exit. It does nothing when no server runs.
func (s *Server) Stop(sig os.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	_ = cmd.Wait()
}

// Restart stops the server with sig and starts an empty one on the same port.
func (s *Server) Restart(sig os.Signal) {
	s.t.Helper()
	s.Stop(sig)
	s.Start()
}
