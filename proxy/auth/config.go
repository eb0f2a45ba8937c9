package auth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/graphgate/graphgate/graph/spec"
)

// DefaultAuthority is Entra ID's public-cloud authority.
const DefaultAuthority = "https://login.microsoftonline.com"

// DefaultV1Authority is the security token service named in the issuer of Entra's
// v1.0 access tokens: "https://sts.windows.net/{tid}/" in the public cloud, whatever
// authority host the client signed in through ("Access token claims reference", iss:
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
const DefaultV1Authority = "https://sts.windows.net"

// Defaults applied to zero Config fields.
const (
	DefaultRequiredScope      = "access_as_user"
	DefaultClockSkew          = time.Minute
	DefaultRefreshInterval    = time.Hour
	DefaultUnknownKIDInterval = 30 * time.Second
	DefaultCacheSize          = 100_000
	DefaultMaxTokenBytes      = 16 << 10
	DefaultFetchTimeout       = 10 * time.Second
)

// Tenant is an Entra tenant whose users may call graphgate.
//
// Entra issues graphgate's access tokens in the version chosen by its app registration's
// accessTokenAcceptedVersion (unset or 1: v1.0, 2: v2.0); the verifier accepts both, each
// with its own issuer, audience and client-app claim.
type Tenant struct {
	// ID is the tenant GUID, compared with the token's tid.
	ID string
	// Issuer is the exact iss of its v2.0 tokens; "" means "{Authority}/{ID}/v2.0".
	Issuer string
	// V1Issuer is the exact iss of its v1.0 tokens; "" means "{V1Authority}/{ID}/".
	V1Issuer string
	// JWKSURL is where its signing keys are published; "" means
	// "{Authority}/{ID}/discovery/v2.0/keys".
	JWKSURL string
	// Audience is graphgate's application id in this tenant, for deployments with one
	// single-tenant app registration per tenant; "" means Config.Audience.
	Audience string
	// AppIDURI is the Application ID URI of graphgate's app registration in this tenant;
	// "" means Config.AppIDURI when the tenant uses the shared registration (Audience ""
	// or Config.Audience), else "api://" + Audience.
	AppIDURI string
}

// Config configures a Verifier. The zero value of every field except Audience and
// Tenants is usable.
type Config struct {
	// Audience is graphgate's application (client) id, a GUID, used for every tenant
	// that does not set its own. A v2.0 token is accepted only when its aud is exactly
	// its tenant's audience GUID; a v1.0 token when its aud is that GUID or the tenant's
	// Application ID URI (Entra puts whichever the client named in its request).
	Audience string
	// AppIDURI is the Application ID URI of graphgate's app registration (its
	// identifierUris), for every tenant that does not set its own; "" means
	// "api://" + the tenant's audience GUID, the URI Entra proposes by default.
	AppIDURI string
	// RequiredScope is the delegated scope every token must carry in scp; "" means
	// "access_as_user". App-only tokens (no scp) are refused with insufficient_scope.
	RequiredScope string
	// Authority is the Entra authority host used for default issuers and JWKS URLs;
	// "" means https://login.microsoftonline.com. The emulator's URL goes here in tests.
	Authority string
	// V1Authority is the security token service that v1.0 issuers name; "" means
	// https://sts.windows.net, which Entra's public cloud writes whatever authority the
	// client used (a national cloud names its own, e.g. https://sts.chinacloudapi.cn).
	V1Authority string
	// Tenants are the tenants whose users may call; at least one is required.
	Tenants []Tenant
	// HTTPClient fetches the JWKS; nil means http.DefaultClient.
	HTTPClient *http.Client
	// ClockSkew is the leeway for exp, nbf and iat; 0 means one minute.
	ClockSkew time.Duration
	// RefreshInterval is how often each tenant's JWKS is refetched in the background;
	// 0 means one hour.
	RefreshInterval time.Duration
	// UnknownKIDInterval is the minimum time between JWKS refetches of one tenant
	// triggered by tokens with an unknown kid; 0 means 30 seconds. The kid is read before
	// the signature can be checked, so anyone can trigger a refetch with a forged token:
	// the interval bounds both what that costs Entra (two fetches a minute per tenant)
	// and how long such a refetch can hide a key Entra started signing with just after it
	// (a key rollover is seen within the interval, not minutes later: during that time
	// every new token is refused with 401, which makes clients sign their users out).
	UnknownKIDInterval time.Duration
	// FetchTimeout bounds one JWKS fetch; 0 means ten seconds.
	FetchTimeout time.Duration
	// CacheSize is the number of verified tokens remembered; 0 means 100,000 and a
	// negative value disables the cache.
	CacheSize int
	// MaxTokenBytes refuses longer tokens before parsing; 0 means 16 KiB.
	MaxTokenBytes int
	// Logger receives JWKS fetch outcomes (tenant ids and URLs only); nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.Audience != "" && !spec.IsObjectID(c.Audience) {
		return c, errors.New("auth: config: audience must be the gateway's application id (a GUID)")
	}
	c.Audience = strings.ToLower(c.Audience)
	if len(c.Tenants) == 0 {
		return c, errors.New("auth: config: at least one tenant is required")
	}
	if c.RequiredScope == "" {
		c.RequiredScope = DefaultRequiredScope
	}
	if c.Authority == "" {
		c.Authority = DefaultAuthority
	}
	c.Authority = strings.TrimRight(c.Authority, "/")
	if c.V1Authority == "" {
		c.V1Authority = DefaultV1Authority
	}
	c.V1Authority = strings.TrimRight(c.V1Authority, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.UnknownKIDInterval <= 0 {
		c.UnknownKIDInterval = DefaultUnknownKIDInterval
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.MaxTokenBytes <= 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	tenants := make([]Tenant, 0, len(c.Tenants))
	seen := make(map[string]bool, len(c.Tenants))
	for _, t := range c.Tenants {
		t, err := c.tenantDefaults(t)
		if err != nil {
			return c, err
		}
		if seen[t.ID] {
			return c, fmt.Errorf("auth: config: tenant %s listed twice", t.ID)
		}
		seen[t.ID] = true
		tenants = append(tenants, t)
	}
	c.Tenants = tenants
	return c, nil
}

// tenantDefaults validates t and fills in its defaults from c (whose own defaults are
// already applied).
func (c Config) tenantDefaults(t Tenant) (Tenant, error) {
	if !spec.IsObjectID(t.ID) {
		return t, fmt.Errorf("auth: config: tenant id %q is not a GUID", t.ID)
	}
	t.ID = strings.ToLower(t.ID)
	ownRegistration := t.Audience != "" && !strings.EqualFold(t.Audience, c.Audience)
	if t.Audience == "" {
		t.Audience = c.Audience
	}
	if !spec.IsObjectID(t.Audience) {
		return t, fmt.Errorf("auth: config: tenant %s: audience must be the gateway's application id (a GUID)", t.ID)
	}
	t.Audience = strings.ToLower(t.Audience)
	if t.AppIDURI == "" && !ownRegistration {
		// Config.AppIDURI belongs to the shared registration: a tenant with a
		// registration of its own never accepts it (another app could hold it there).
		t.AppIDURI = c.AppIDURI
	}
	if t.AppIDURI == "" {
		t.AppIDURI = "api://" + t.Audience
	}
	if !strings.Contains(t.AppIDURI, ":") || spec.IsObjectID(t.AppIDURI) {
		return t, fmt.Errorf("auth: config: tenant %s: app id uri must be a URI such as api://{application id}", t.ID)
	}
	if t.Issuer == "" {
		t.Issuer = c.Authority + "/" + t.ID + "/v2.0"
	}
	if t.V1Issuer == "" {
		t.V1Issuer = c.V1Authority + "/" + t.ID + "/"
	}
	if t.JWKSURL == "" {
		t.JWKSURL = c.Authority + "/" + t.ID + "/discovery/v2.0/keys"
	}
	return t, nil
}
