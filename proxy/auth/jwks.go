package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on what a JWKS document may hold.
const (
	maxJWKSBytes  = 1 << 20
	minRSAKeyBits = 2048
	maxRSAKeyBits = 8192
)

var (
	errUnknownKID = errors.New("auth: jwks: unknown key id")
	errNoKeys     = errors.New("auth: jwks: no usable RSA signing keys")
)

// keyMap maps kid to the RSA public key it names. It is never modified once published.
type keyMap map[string]*rsa.PublicKey

// fetchCall is one JWKS fetch that any number of goroutines may wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

// keySet is the JWKS cache of one tenant. Lookups of known kids are lock-free; a fetch
// (background or triggered by an unknown kid) is shared by everyone who needs it, and a
// failed fetch leaves the last good key map in place.
type keySet struct {
	tenantID string
	url      string
	client   *http.Client
	timeout  time.Duration
	interval time.Duration // minimum time between unknown-kid fetches
	now      func() time.Time
	log      *slog.Logger
	baseCtx  context.Context // fetches outlive the request that triggered them

	keys    atomic.Pointer[keyMap] // nil until the first successful fetch
	fetches atomic.Int64           // HTTP fetches started

	mu          sync.Mutex
	inflight    *fetchCall
	lastUnknown time.Time // when an unknown kid last started a fetch
}

// get returns the key named kid from the current map, or nil.
func (s *keySet) get(kid string) *rsa.PublicKey {
	m := s.keys.Load()
	if m == nil {
		return nil
	}
	return (*m)[kid]
}

// ready reports whether the set has ever been fetched successfully.
func (s *keySet) ready() bool { return s.keys.Load() != nil }

// key returns the key named kid. An unknown kid triggers a refetch unless one started
// less than interval ago; callers arriving while a fetch is running wait for it (or for
// ctx) instead of starting another.
func (s *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k := s.get(kid); k != nil {
		return k, nil
	}
	s.mu.Lock()
	if k := s.get(kid); k != nil { // a fetch finished while we waited for the lock
		s.mu.Unlock()
		return k, nil
	}
	call := s.inflight
	if call == nil {
		now := s.now()
		if !s.lastUnknown.IsZero() && now.Sub(s.lastUnknown) < s.interval {
			s.mu.Unlock()
			return nil, s.missing()
		}
		s.lastUnknown = now
		call = s.startLocked()
	}
	s.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: jwks: wait for fetch: %w", ctx.Err())
	}
	if k := s.get(kid); k != nil {
		return k, nil
	}
	return nil, s.missing()
}

// missing is the error for a kid not in the set: unknown, or no set at all yet.
func (s *keySet) missing() error {
	if !s.ready() {
		return ErrKeysUnavailable
	}
	return errUnknownKID
}

// refresh fetches the set now (joining a running fetch) and waits for the outcome.
func (s *keySet) refresh() error {
	s.mu.Lock()
	call := s.inflight
	if call == nil {
		call = s.startLocked()
	}
	s.mu.Unlock()
	<-call.done
	return call.err
}

// startLocked starts a fetch in its own goroutine. s.mu must be held.
func (s *keySet) startLocked() *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	s.inflight = call
	go func() {
		call.err = s.fetch()
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
		close(call.done)
	}()
	return call
}

// fetch downloads and parses the JWKS, publishing it on success.
func (s *keySet) fetch() error {
	s.fetches.Add(1)
	ctx, cancel := context.WithTimeout(s.baseCtx, s.timeout)
	defer cancel()
	m, err := s.download(ctx)
	if err != nil {
		s.log.Warn("jwks fetch failed; keeping the last good key set",
			"tenant", s.tenantID, "url", s.url, "err", err, "have_keys", s.ready())
		return err
	}
	s.keys.Store(&m)
	s.log.Debug("jwks fetched", "tenant", s.tenantID, "keys", len(m))
	return nil
}

func (s *keySet) download(ctx context.Context) (keyMap, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: new request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: get: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("auth: jwks: get: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: read: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("auth: jwks: document larger than %d bytes", maxJWKSBytes)
	}
	return parseJWKS(body)
}

// jwk holds the JWK members we read (RFC 7517/7518).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS keeps the RSA signature keys (use "sig" or absent, alg RS256 or absent)
// that have a kid and a modulus of 2048-8192 bits; other keys are skipped.
func parseJWKS(body []byte) (keyMap, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("auth: jwks: decode: %w", err)
	}
	m := make(keyMap, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		m[k.Kid] = pub
	}
	if len(m) == 0 {
		return nil, errNoKeys
	}
	return m, nil
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n64)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e64)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: exponent: %w", err)
	}
	n := new(big.Int).SetBytes(nb)
	if bits := n.BitLen(); bits < minRSAKeyBits || bits > maxRSAKeyBits {
		return nil, fmt.Errorf("auth: jwks: modulus of %d bits", bits)
	}
	if len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("auth: jwks: exponent out of range")
	}
	e := new(big.Int).SetBytes(eb)
	if e.Int64() < 3 || e.Bit(0) == 0 {
		return nil, errors.New("auth: jwks: exponent out of range")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// firstRetry is the first delay before retrying a failed background fetch; it doubles
// up to the refresh interval.
const firstRetry = 5 * time.Second

// run refreshes the set every interval until ctx is done, retrying failed fetches
// sooner with exponential backoff. lastErr is the outcome of the initial fetch.
func (s *keySet) run(ctx context.Context, every time.Duration, lastErr error) {
	retry := min(firstRetry, every)
	for {
		wait := every
		if lastErr != nil {
			wait = retry
			retry = min(retry*2, every)
		} else {
			retry = min(firstRetry, every)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		lastErr = s.refresh()
	}
}
