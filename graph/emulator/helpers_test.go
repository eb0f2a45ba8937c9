package emulator_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

var (
	sharedOnce sync.Once
	sharedEmu  *emulator.Emulator
	sharedErr  error
)

// shared returns an emulator for read-only tests (no faults, no directory changes).
func shared(t *testing.T) *emulator.Emulator {
	t.Helper()
	sharedOnce.Do(func() { sharedEmu, sharedErr = emulator.New(emulator.Options{}) })
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return sharedEmu
}

// fresh returns a private emulator closed at the end of the test.
func fresh(t *testing.T) *emulator.Emulator {
	t.Helper()
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// tenant returns the directory entry of a tenant by domain.
func tenant(t *testing.T, e *emulator.Emulator, domain string) emulator.TenantInfo {
	t.Helper()
	for _, ti := range e.Directory().Tenants {
		if ti.Domain == domain {
			return ti
		}
	}
	t.Fatalf("tenant %s not in directory", domain)
	return emulator.TenantInfo{}
}

// do sends a request and returns the response and its body.
func do(t *testing.T, e *emulator.Emulator, method, path, token string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL()+path, body)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

// postForm posts a form to the token endpoint of a tenant path segment.
func postForm(t *testing.T, e *emulator.Emulator, tenantSeg string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := do(t, e, http.MethodPost, "/"+tenantSeg+"/oauth2/v2.0/token", "", strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	return resp, decodeObj(t, b)
}

// decodeObj decodes a JSON object.
func decodeObj(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// appToken gets the gateway's app-only Graph token over the token endpoint.
func appToken(t *testing.T, e *emulator.Emulator, domain string) string {
	t.Helper()
	ti := tenant(t, e, domain)
	resp, m := postForm(t, e, ti.ID, url.Values{"grant_type": {"client_credentials"}, "client_id": {ti.GatewayAppID},
		"client_secret": {ti.GatewayClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", resp.StatusCode, m)
	}
	return m["access_token"].(string)
}

// graphGet GETs a Graph path with the app token and decodes a JSON object body.
func graphGet(t *testing.T, e *emulator.Emulator, tok, path string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	resp, b := do(t, e, http.MethodGet, path, tok, nil, hdr)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, decodeObj(t, b)
}

// errCode returns error.code of a Graph error body.
func errCode(m map[string]any) string {
	if e, ok := m["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// jwtParts decodes a JWT's header and claims without verifying.
func jwtParts(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("b64: %v", err)
		}
		return decodeObj(t, b)
	}
	return dec(p[0]), dec(p[1])
}

// verifyWithJWKS checks tok's RS256 signature against the tenant's published JWKS.
func verifyWithJWKS(t *testing.T, e *emulator.Emulator, tenantID, tok string) error {
	t.Helper()
	hdr, _ := jwtParts(t, tok)
	_, b := do(t, e, http.MethodGet, "/"+tenantID+"/discovery/v2.0/keys", "", nil, nil)
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	for _, k := range set.Keys {
		if k.Kid != hdr["kid"] {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		ex, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
		p := strings.Split(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(p[2])
		sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	return errNoKey
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errNoKey = testErr("kid not in JWKS")

// jsonBody encodes v as a request body.
func jsonBody(t *testing.T, v any) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}
