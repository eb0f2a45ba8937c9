package graph_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

// env is one emulator with a client for its first tenant.
type env struct {
	e      *emulator.Emulator
	tenant emulator.TenantInfo
	logs   *syncBuffer
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	dir := e.Directory()
	if len(dir.Tenants) == 0 {
		t.Fatal("emulator has no tenants")
	}
	v := &env{e: e, tenant: dir.Tenants[0], logs: &syncBuffer{}}
	t.Cleanup(func() { v.assertLogsClean(t) })
	return v
}

// config returns a working client secret configuration for the first tenant.
func (v *env) config() graph.Config {
	return graph.Config{
		TenantID:      v.tenant.ID,
		ClientID:      v.tenant.GatewayAppID,
		ClientSecret:  v.tenant.GatewayClientSecret,
		AuthorityHost: v.e.URL() + "/",
		BaseURL:       v.e.URL() + "/v1.0",
		HTTPClient:    v.e.HTTPClient(),
		Logger:        slog.New(slog.NewTextHandler(v.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func (v *env) client(t *testing.T, mod ...func(*graph.Config)) *graph.Client {
	t.Helper()
	cfg := v.config()
	for _, m := range mod {
		m(&cfg)
	}
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatalf("graph.New: %v", err)
	}
	return c
}

// user returns the full fixture record of the first user matching pred.
func (v *env) user(t *testing.T, pred func(emulator.User) bool) emulator.User {
	t.Helper()
	for _, info := range v.tenant.Users {
		u, ok := v.e.User(v.tenant.ID, info.ID)
		if ok && pred(u) {
			return u
		}
	}
	t.Fatal("no fixture user matches")
	return emulator.User{}
}

func enabled(u emulator.User) bool { return u.AccountEnabled }

// assertLogsClean fails when any user id or UPN of the tenant appears in the logs.
func (v *env) assertLogsClean(t *testing.T) {
	logs := v.logs.String()
	for _, u := range v.tenant.Users {
		if strings.Contains(logs, u.ID) || strings.Contains(strings.ToLower(logs), strings.ToLower(u.UserPrincipalName)) {
			t.Errorf("logs contain personal data of a user:\n%s", logs)
			return
		}
	}
}

// assertNoPersonalData fails when err's message holds any of the given strings.
func assertNoPersonalData(t *testing.T, err error, personal ...string) {
	t.Helper()
	for _, p := range personal {
		if p != "" && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(p)) {
			t.Errorf("error %q contains personal data %q", err, p)
		}
	}
}

func keys(u graph.User) []string {
	out := make([]string, 0, len(u))
	for k := range u {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		t.Fatalf("err %T is not a *graph.Error", err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
