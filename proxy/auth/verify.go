package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Verifier checks bearer tokens against the configured tenants' signing keys. It is
// safe for concurrent use.
type Verifier struct {
	cfg     Config
	tenants map[string]*tenantState
	parser  *jwt.Parser
	cache   *lru.Cache[[sha256.Size]byte, cacheEntry] // nil when disabled

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	hits, misses atomic.Int64
}

type tenantState struct {
	v1Issuer, v2Issuer string
	audience, appIDURI string
	keys               *keySet
}

// cacheEntry is a verified token: the principal plus the key that verified it, so a
// cached token stops working once its key leaves the tenant's JWKS.
type cacheEntry struct {
	p    Principal
	keys *keySet
	kid  string
	key  *rsa.PublicKey
}

// Stats are counters of a Verifier since it started.
type Stats struct {
	CacheHits   int64 // verifications answered from the verified-token cache
	CacheMisses int64 // verifications that parsed and checked the token's signature
	JWKSFetches int64 // JWKS HTTP fetches started, all tenants
}

// NewVerifier validates cfg, fetches every tenant's JWKS once and starts refreshing
// them in the background until ctx is done or Close is called. A failed first fetch
// is not fatal: Ready reports false until that tenant's keys arrive, and the fetch is
// retried in the background (and on demand, rate-limited, by incoming tokens).
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		cfg:     cfg,
		tenants: make(map[string]*tenantState, len(cfg.Tenants)),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"RS256"}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
	if cfg.CacheSize > 0 {
		if v.cache, err = lru.New[[sha256.Size]byte, cacheEntry](cfg.CacheSize); err != nil {
			return nil, fmt.Errorf("auth: new cache: %w", err)
		}
	}
	bg, cancel := context.WithCancel(ctx)
	v.cancel = cancel
	for _, t := range cfg.Tenants {
		v.tenants[t.ID] = &tenantState{v1Issuer: t.V1Issuer, v2Issuer: t.Issuer, audience: t.Audience, appIDURI: t.AppIDURI, keys: &keySet{
			tenantID: t.ID, url: t.JWKSURL, client: cfg.HTTPClient, timeout: cfg.FetchTimeout,
			interval: cfg.UnknownKIDInterval, now: cfg.Now, log: cfg.Logger, baseCtx: bg,
		}}
	}
	initial := make(map[string]error, len(v.tenants))
	var mu sync.Mutex
	var first sync.WaitGroup
	for id, t := range v.tenants {
		first.Go(func() {
			err := t.keys.refresh()
			mu.Lock()
			initial[id] = err
			mu.Unlock()
		})
	}
	first.Wait()
	for id, t := range v.tenants {
		v.wg.Go(func() { t.keys.run(bg, cfg.RefreshInterval, initial[id]) })
	}
	return v, nil
}

// Close stops the background refreshes and waits for them. Verify keeps working with
// the keys already fetched.
func (v *Verifier) Close() {
	v.closeOnce.Do(func() {
		v.cancel()
		v.wg.Wait()
	})
}

// Ready reports whether every configured tenant has a key set.
func (v *Verifier) Ready() bool {
	for _, t := range v.tenants {
		if !t.keys.ready() {
			return false
		}
	}
	return true
}

// Stats returns the verifier's counters.
func (v *Verifier) Stats() Stats {
	s := Stats{CacheHits: v.hits.Load(), CacheMisses: v.misses.Load()}
	for _, t := range v.tenants {
		s.JWKSFetches += t.keys.fetches.Load()
	}
	return s
}

// Verify checks rawToken and returns its principal. Every failure is an *Error: 401
// invalid_token for a bad token, 403 insufficient_scope for a valid token lacking the
// required scope, 503 (no code, wrapping ErrKeysUnavailable) when the tenant's keys
// cannot be fetched. A token verified before is answered from the cache, with its
// expiry and its signing key's presence in the tenant's JWKS checked again.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (Principal, error) {
	if len(rawToken) > v.cfg.MaxTokenBytes {
		return Principal{}, invalidToken(fmt.Sprintf("the access token is larger than %d bytes", v.cfg.MaxTokenBytes))
	}
	if rawToken == "" {
		return Principal{}, invalidToken("the access token is empty")
	}
	var sum [sha256.Size]byte
	if v.cache != nil {
		sum = sha256.Sum256([]byte(rawToken))
		if e, ok := v.cache.Get(sum); ok {
			if !v.cfg.Now().Before(e.p.ExpiresAt.Add(v.cfg.ClockSkew)) {
				v.cache.Remove(sum)
				return Principal{}, invalidToken("the access token has expired")
			}
			if k := e.keys.get(e.kid); k != nil && (k == e.key || k.Equal(e.key)) {
				v.hits.Add(1)
				return e.p.clone(), nil
			}
			v.cache.Remove(sum) // its key was retired: verify afresh
		}
	}
	v.misses.Add(1)
	e, err := v.verify(ctx, rawToken)
	if err != nil {
		return Principal{}, err
	}
	if v.cache != nil {
		v.cache.Add(sum, e)
	}
	return e.p.clone(), nil
}

// verify parses rawToken, checks its signature with its tenant's key and its claims.
func (v *Verifier) verify(ctx context.Context, rawToken string) (cacheEntry, error) {
	var e cacheEntry
	var ts *tenantState
	c := &claims{}
	tok, err := v.parser.ParseWithClaims(rawToken, c, func(t *jwt.Token) (any, error) {
		var kid string
		var err error
		if ts, kid, err = v.preCheck(t, c); err != nil {
			return nil, err
		}
		key, err := ts.keys.key(ctx, kid)
		if err != nil {
			return nil, keyError(err)
		}
		e.keys, e.kid, e.key = ts.keys, kid, key
		return key, nil
	})
	if err != nil {
		return e, parseError(tok, err)
	}
	p, err := v.principal(c, ts)
	if err != nil {
		return e, err
	}
	e.p = p
	return e, nil
}

func keyError(err error) *Error {
	switch {
	case errors.Is(err, errUnknownKID):
		return invalidToken("the access token is signed with an unknown key")
	case errors.Is(err, ErrKeysUnavailable):
		return &Error{Description: "the signing keys of the token's tenant are unavailable; try again later",
			Status: http.StatusServiceUnavailable, Err: ErrKeysUnavailable}
	default: // the request's context ended while waiting for a fetch
		return &Error{Description: "token verification was interrupted",
			Status: http.StatusServiceUnavailable, Err: err}
	}
}

// parseError turns a jwt parse/validation error into an *Error.
func parseError(tok *jwt.Token, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if tok != nil && (errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenUnverifiable)) {
		if alg, _ := tok.Header["alg"].(string); alg != "RS256" {
			return invalidToken("the access token must be signed with RS256")
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalidToken("the access token is malformed")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalidToken("the access token's signature is invalid")
	case errors.Is(err, jwt.ErrTokenExpired):
		return invalidToken("the access token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return invalidToken("the access token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalidToken("the access token's issue time is in the future")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalidToken("the access token has no expiry")
	}
	return invalidToken("the access token is invalid")
}
