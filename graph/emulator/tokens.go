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
	"slices"
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

// issuer returns the v2.0 issuer of a tenant.
func (e *Emulator) issuer(tid string) string { return e.url + "/" + tid + "/v2.0" }

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
	// Audience is the aud claim ("" => the tenant's gateway app id).
	Audience string
	// IssuedAt is iat and nbf (zero => now); TTL the lifetime (0 => 1h).
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
	if r.TTL == 0 {
		r.TTL = time.Hour
	}
	if r.UserID == "" && isGraphAudience(r.Audience) {
		c := e.appClaims(ts, r.IssuedAt, r.TTL)
		if r.ClientID != "" {
			c["appid"], c["azp"] = r.ClientID, r.ClientID
		}
		if r.Roles != nil {
			c["roles"] = r.Roles
		}
		return signJWT(ts.keys[len(ts.keys)-1], c)
	}
	u := ts.lookup(r.UserID)
	if u == nil {
		return "", ErrUserNotFound
	}
	if r.ClientID == "" && len(ts.Clients) > 0 {
		r.ClientID = ts.Clients[0].ID
	}
	if r.Roles == nil {
		r.Roles = u.Roles
	}
	if r.Audience == "" {
		r.Audience = ts.GatewayAppID
	}
	c := e.userClaims(ts, u, r.ClientID, r.Audience, r.Roles, r.IssuedAt, r.TTL)
	return signJWT(ts.keys[len(ts.keys)-1], c)
}

// isGraphAudience reports whether aud names Microsoft Graph.
func isGraphAudience(aud string) bool {
	aud = strings.TrimSuffix(aud, "/")
	return aud == graphAudience || aud == graphAppID
}

// userClaims builds an Entra v2 delegated access token for the gateway API.
func (e *Emulator) userClaims(ts *tenantState, u *User, clientID, aud string, roles []string, iat time.Time, ttl time.Duration) map[string]any {
	c := map[string]any{
		"aud": aud, "iss": e.issuer(ts.ID), "iat": iat.Unix(), "nbf": iat.Unix(),
		"exp": iat.Add(ttl).Unix(), "aio": randID(24), "azp": clientID, "azpacr": "0",
		"oid": u.ID, "rh": "0." + randID(30) + ".", "scp": "access_as_user",
		"sub": pairwiseSub(u.ID, aud), "tid": ts.ID, "uti": randID(16), "ver": "2.0",
	}
	if len(roles) > 0 {
		c["roles"] = slices.Clone(roles)
	}
	return c
}

// appClaims builds the app-only Graph token of the gateway app.
func (e *Emulator) appClaims(ts *tenantState, iat time.Time, ttl time.Duration) map[string]any {
	return map[string]any{
		"aud": graphAudience, "iss": e.issuer(ts.ID), "iat": iat.Unix(), "nbf": iat.Unix(),
		"exp": iat.Add(ttl).Unix(), "aio": randID(24), "app_displayname": "graphgate",
		"appid": ts.GatewayAppID, "appidacr": "1", "azp": ts.GatewayAppID, "azpacr": "1",
		"idp": e.issuer(ts.ID), "idtyp": "app", "oid": ts.GatewayServicePrincipalID,
		"rh": "0." + randID(30) + ".", "roles": slices.Clone(ts.GatewayGraphRoles),
		"sub": ts.GatewayServicePrincipalID, "tid": ts.ID, "uti": randID(16), "ver": "2.0",
	}
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

// jwks returns the tenant's published keys, newest first.
func (e *Emulator) jwks(ts *tenantState) map[string]any {
	keys := make([]any, 0, len(ts.keys))
	for i := len(ts.keys) - 1; i >= 0; i-- {
		keys = append(keys, ts.keys[i].jwk(e.issuer(ts.ID)))
	}
	return map[string]any{"keys": keys}
}
