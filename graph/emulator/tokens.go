package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// graphAudience is the audience of app-only tokens for Microsoft Graph.
const graphAudience = "https://graph.microsoft.com"

// graphAppID is Microsoft Graph's well-known application id (an alternative audience).
const graphAppID = "00000003-0000-0000-c000-000000000000"

var b64 = base64.RawURLEncoding

// signingKey is one RS256 token-signing key with its self-signed certificate.
type signingKey struct {
	kid  string
	key  *rsa.PrivateKey
	cert []byte
}

// newSigningKey generates a 2048-bit RSA key; its kid is the certificate's SHA-1 thumbprint
// (x5t), as Entra does.
func newSigningKey(now time.Time) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("tokens: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.emulator.example"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tokens: self-sign key: %w", err)
	}
	sum := sha1.Sum(der)
	return &signingKey{kid: b64.EncodeToString(sum[:]), key: key, cert: der}, nil
}

// jwk returns the key's public JWK as Entra publishes it.
func (k *signingKey) jwk(issuer string) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "kid": k.kid, "x5t": k.kid,
		"n":      b64.EncodeToString(k.key.N.Bytes()),
		"e":      b64.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
		"x5c":    []string{base64.StdEncoding.EncodeToString(k.cert)},
		"issuer": issuer,
	}
}

// signJWT signs claims with RS256 under the key's kid.
func signJWT(k *signingKey, claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.kid})
	if err != nil {
		return "", fmt.Errorf("tokens: header: %w", err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("tokens: claims: %w", err)
	}
	signing := b64.EncodeToString(hdr) + "." + b64.EncodeToString(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	return signing + "." + b64.EncodeToString(sig), nil
}

// jwtParts is a decoded but unverified JWT.
type jwtParts struct {
	header  map[string]any
	claims  map[string]any
	signing string
	sig     []byte
}

var errMalformed = errors.New("tokens: malformed JWT")

// parseJWT decodes a compact JWT without verifying it.
func parseJWT(tok string) (*jwtParts, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errMalformed
	}
	p := &jwtParts{signing: parts[0] + "." + parts[1]}
	for i, dst := range []*map[string]any{&p.header, &p.claims} {
		raw, err := b64.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return nil, errMalformed
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			return nil, errMalformed
		}
	}
	sig, err := b64.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return nil, errMalformed
	}
	p.sig = sig
	return p, nil
}

// verifyRSA checks the signature with pub for RS256 or PS256.
func (p *jwtParts) verifyRSA(pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(p.signing))
	switch p.str(p.header, "alg") {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], p.sig)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], p.sig, nil)
	}
	return errors.New("tokens: unsupported alg")
}

// str returns a string member of m ("" when absent).
func (p *jwtParts) str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// unix returns a numeric date claim (zero when absent).
func (p *jwtParts) unix(k string) time.Time {
	n, ok := p.claims[k].(json.Number)
	if !ok {
		return time.Time{}
	}
	v, err := n.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(v), 0)
}

// randID returns n random bytes base64url-encoded (for uti, aio and refresh tokens).
func randID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// pairwiseSub derives Entra's pairwise subject for a user and an audience.
func pairwiseSub(oid, aud string) string {
	sum := sha256.Sum256([]byte(oid + "|" + aud))
	return b64.EncodeToString(sum[:])[:43]
}

// TokenRequest describes a token for MintToken.
type TokenRequest struct {
	// TenantID is the tenant id or domain.
	TenantID string
	// ClientID is the calling client app ("" => the tenant's first client app).
	ClientID string
	// UserID is the user's id or userPrincipalName; "" with a Graph audience mints an
	// app-only token for the gateway app.
	UserID string
	// Roles are the roles claim; nil means the user's app roles (or, app-only, the
	// gateway app's Graph permissions).
	Roles []string
	// Audience is the aud claim ("" => the gateway app: "api://{app id}" in v1.0 tokens,
	// the app id in v2.0 tokens).
	Audience string
	// Version is the access token version, 1 or 2; 0 means the version the gateway app's
	// registration selects (Tenant.AccessTokenAcceptedVersion). Tokens for Microsoft
	// Graph are always v1.0, as Graph's registration selects.
	Version int
	// Profile adds the claims Entra includes when the client requested the profile
	// scope (v2.0: name and preferred_username).
	Profile bool
	// IssuedAt is iat and nbf (zero => now); TTL the lifetime (0 => a random lifetime
	// between 60 and 90 minutes for user tokens, as Entra gives, and one hour for
	// app-only Graph tokens).
	IssuedAt time.Time
	TTL      time.Duration
}

// MintToken signs a token with the same key and claims as the token endpoint.
func (e *Emulator) MintToken(r TokenRequest) (string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts := e.tenant(r.TenantID)
	if ts == nil {
		return "", ErrTenantNotFound
	}
	if r.IssuedAt.IsZero() {
		r.IssuedAt = e.now()
	}
	if r.UserID == "" && isGraphAudience(r.Audience) {
		if r.TTL == 0 {
			r.TTL = graphTokenTTL
		}
		c := e.appClaims(ts, r.IssuedAt, r.TTL, "1")
		if r.ClientID != "" {
			c["appid"] = r.ClientID
		}
		if r.Roles != nil {
			c["roles"] = r.Roles
		}
		return signJWT(ts.keys[len(ts.keys)-1], c)
	}
	t, err := r.userToken(ts)
	if err != nil {
		return "", err
	}
	return signJWT(ts.keys[len(ts.keys)-1], t.claims(e))
}

// userToken resolves r's defaults for a delegated token of ts; callers hold e.mu.
func (r TokenRequest) userToken(ts *tenantState) (userToken, error) {
	u := ts.lookup(r.UserID)
	if u == nil {
		return userToken{}, ErrUserNotFound
	}
	t := userToken{ts: ts, u: u, clientID: r.ClientID, aud: r.Audience, roles: r.Roles,
		iat: r.IssuedAt, ttl: r.TTL, version: r.Version, profile: r.Profile}
	switch {
	case isGraphAudience(r.Audience):
		t.version = 1
	case t.version == 0:
		t.version = ts.tokenVersion()
	case t.version != 1 && t.version != 2:
		return userToken{}, ErrInvalid
	}
	if t.clientID == "" && len(ts.Clients) > 0 {
		t.clientID = ts.Clients[0].ID
	}
	if t.roles == nil {
		t.roles = u.Roles
	}
	if t.aud == "" {
		t.aud = ts.GatewayAppID
		if t.version == 1 {
			t.aud = "api://" + ts.GatewayAppID
		}
	}
	if t.ttl == 0 {
		t.ttl = userTokenLifetime()
	}
	return t, nil
}

// isGraphAudience reports whether aud names Microsoft Graph.
func isGraphAudience(aud string) bool {
	aud = strings.TrimSuffix(aud, "/")
	return aud == graphAudience || aud == graphAppID
}

// RotateSigningKey adds a new signing key to a tenant; new tokens use it while the old
// keys stay published until RetireOldSigningKeys.
func (e *Emulator) RotateSigningKey(tenantID string) (string, error) {
	k, err := newSigningKey(e.now())
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.tenant(tenantID)
	if ts == nil {
		return "", ErrTenantNotFound
	}
	ts.keys = append(ts.keys, k)
	return k.kid, nil
}

// RetireOldSigningKeys unpublishes every signing key of a tenant except the newest;
// tokens signed with retired keys no longer validate.
func (e *Emulator) RetireOldSigningKeys(tenantID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.tenant(tenantID)
	if ts == nil {
		return ErrTenantNotFound
	}
	ts.keys = ts.keys[len(ts.keys)-1:]
	return nil
}

// jwks appends the tenant's published keys, newest first, to keys; v2 says whether the
// keys carry their issuer, as v2.0 key sets do ("Access tokens in the Microsoft identity
// platform", validate the issuer:
// https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer).
func (e *Emulator) jwks(keys []any, ts *tenantState, v2 bool) []any {
	for i := len(ts.keys) - 1; i >= 0; i-- {
		k := ts.keys[i].jwk(e.issuer(ts.ID))
		if !v2 {
			delete(k, "issuer")
		}
		keys = append(keys, k)
	}
	return keys
}
