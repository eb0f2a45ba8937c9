package revoke

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/proxy/auth/revoke/revoketest"
)

// logBuffer is a bytes.Buffer safe for a logger and a test to share.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRedisReadyShowsFixedReasonsOnly checks that Ready, which the unauthenticated
// /readyz shows, says why the view is not current in fixed words only: never Redis's
// address, user or the error's text, which go to the log. A Redis that refuses
// scripts is reported as such, not as unreachable.
func TestRedisReadyShowsFixedReasonsOnly(t *testing.T) {
	srv := revoketest.StartServer(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	for _, acl := range [][]any{
		{"ACL", "SETUSER", "ggnoscripts", "on", ">pw-noscripts", "~*", "&*", "+@all", "-@scripting"},
		{"ACL", "SETUSER", "ggnoget", "on", ">pw-noget", "~*", "&*", "+@all", "-get"},
	} {
		if err := admin.Do(context.Background(), acl...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	fixed := []string{reasonNotLoaded, reasonUnreachable, reasonSubLost, reasonNotSynced, reasonChanged,
		reasonScripts, reasonRefused, errAwaitRepair.Error()}
	for _, tc := range []struct {
		name, url string
		want      []string // reasons it settles on (one at a time)
		hidden    []string // what Ready must not show, and the log must
	}{
		{"unreachable", "redis://" + dead + "/0", []string{reasonUnreachable, reasonSubLost}, []string{dead}},
		{"scripts refused", "redis://ggnoscripts:pw-noscripts@" + srv.Addr() + "/0", []string{reasonScripts},
			[]string{"NOPERM", "ggnoscripts"}},
		{"a command refused", "redis://ggnoget:pw-noget@" + srv.Addr() + "/0", []string{reasonRefused},
			[]string{"NOPERM", "ggnoget"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			r, err := NewRedis(Config{Secret: secret, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
				RedisConfig{URL: tc.url, Prefix: "ggtest-reasons", PingInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var seen []string
			eventually(t, "Ready settles on "+strings.Join(tc.want, " or "), func() bool {
				err := r.Ready()
				if err == nil {
					t.Fatal("the view became current")
				}
				reason, _ := strings.CutPrefix(err.Error(), "degraded: ")
				if !slices.Contains(seen, reason) {
					seen = append(seen, reason)
				}
				return slices.Contains(tc.want, reason)
			})
			t.Logf("FAULT readyz_reasons: case=%q reasons=%q", tc.name, seen)
			for _, s := range seen {
				if !slices.Contains(fixed, s) {
					t.Errorf("Ready showed %q, not a fixed reason", s)
				}
				for _, h := range append(tc.hidden, srv.Addr(), "pw-") {
					if strings.Contains(s, h) {
						t.Errorf("Ready showed %q, which holds %q", s, h)
					}
				}
			}
			if l := logs.String(); !strings.Contains(l, tc.hidden[0]) || strings.Contains(l, "pw-") {
				t.Errorf("the log lacks the error (%q) or holds the password:\n%s", tc.hidden[0], l)
			}
		})
	}
}
