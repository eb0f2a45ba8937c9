package proxy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/audit"
)

// mint mints a fresh (not memoised) token issued at iat (zero = now).
func (e *env) mint(tenant int, client string, user emulator.UserInfo, iat time.Time) string {
	e.t.Helper()
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: e.tenant(tenant).ID,
		ClientID: e.clientID(tenant, client), UserID: user.ID, IssuedAt: iat})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// withRole returns an enabled user of a tenant holding exactly the app role ("" = none).
func (e *env) withRole(tenant int, role string) emulator.UserInfo {
	for _, u := range e.enabledUsers(tenant) {
		if (role == "" && len(u.Roles) == 0) || (len(u.Roles) == 1 && u.Roles[0] == role) {
			return u
		}
	}
	e.t.Fatalf("no user with role %q", role)
	return emulator.UserInfo{}
}

// victim returns an enabled user without roles, other than the first such user.
func (e *env) victim(tenant int) emulator.UserInfo {
	n := 0
	for _, u := range e.enabledUsers(tenant) {
		if len(u.Roles) == 0 {
			if n++; n == 3 {
				return u
			}
		}
	}
	e.t.Fatal("no victim")
	return emulator.UserInfo{}
}

// logout calls the admin logout through the gateway.
func (e *env) logout(adminToken, idOrUPN string) response {
	e.t.Helper()
	return e.do(http.MethodPost, "/admin/v1/users/"+idOrUPN+"/logout", adminToken, nil)
}

// logoutAnswer is the admin logout's JSON answer.
type logoutAnswer struct {
	Status            string    `json:"status"`
	CutOff            time.Time `json:"cutOff"`
	RevocationExpires time.Time `json:"revocationExpires"`
	Graph             struct {
		Succeeded bool   `json:"succeeded"`
		Error     string `json:"error"`
		Message   string `json:"message"`
	} `json:"graphRevokeSignInSessions"`
	Cache struct {
		EntriesPurged int `json:"entriesPurged"`
	} `json:"cache"`
	Instances struct {
		Shared    bool  `json:"shared"`
		Notified  bool  `json:"notified"`
		Receivers int64 `json:"receivers"`
	} `json:"instances"`
}

func decodeLogout(t *testing.T, r response) logoutAnswer {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	var a logoutAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// assertRevoked checks a 401 answer that tells the client its session was revoked.
func assertRevoked(t *testing.T, r response, what string) {
	t.Helper()
	wa := r.Header.Get("WWW-Authenticate")
	if r.Status != http.StatusUnauthorized || !strings.Contains(wa, `error="invalid_token"`) ||
		!strings.Contains(wa, "revoked") || errorCode(t, r) != "InvalidAuthenticationToken" {
		t.Fatalf("%s: %d %q %s, want 401 invalid_token (revoked)", what, r.Status, wa, r.Body)
	}
}

// auditBuffer is an audit sink writing to memory.
type auditBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	log *audit.Logger
}

func newAuditBuffer(t *testing.T) *auditBuffer {
	a := &auditBuffer{}
	l, err := audit.New(writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.buf.Write(p)
	}), []byte("audit-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	a.log = l
	return a
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// records returns the audit records written so far.
func (a *auditBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func (a *auditBuffer) raw() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// emulatorFault503 makes a route always fail with 503.
func emulatorFault503() emulator.Fault {
	return emulator.Fault{ErrorRate: 1, Status: http.StatusServiceUnavailable}
}
