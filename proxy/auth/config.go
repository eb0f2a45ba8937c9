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

// Defaults applied to zero Config fields.
const (
	DefaultRequiredScope      = "access_as_user"
	DefaultClockSkew          = time.Minute
	DefaultRefreshInterval    = time.Hour
	DefaultUnknownKIDInterval = 5 * time.Minute
	DefaultCacheSize          = 100_000
	DefaultMaxTokenBytes      = 16 << 10
	DefaultFetchTimeout       = 10 * time.Second
)

// Tenant is an Entra tenant whose users may call graphgate.
type Tenant struct {
	// ID is the tenant GUID, compared with the token's tid.
	ID string
	// Issuer is the exact iss its tokens carry; "" means "{Authority}/{ID}/v2.0".
	Issuer string
	// JWKSURL is where its signing keys are published; "" means
	// "{Authority}/{ID}/discovery/v2.0/keys".
	JWKSURL string
	// Audience is graphgate's application id in this tenant, for deployments with one
	// single-tenant app registration per tenant; "" means Config.Audience.
	Audience string
}

// Config configures a Verifier. The zero value of every field except Audience and
// Tenants is usable.
type Config struct {
	// Audience is graphgate's application (client) id, a GUID, used for every tenant
	// that does not set its own. A token is accepted only when its aud is exactly its
	// tenant's audience GUID or "api://" + that GUID.
	Audience string
	// RequiredScope is the delegated scope every token must carry in scp; "" means
	// "access_as_user". App-only tokens (no scp) are refused with insufficient_scope.
	RequiredScope string
	// Authority is the Entra authority host used for default issuers and JWKS URLs;
	// "" means https://login.microsoftonline.com. The emulator's URL goes here in tests.
	Authority string
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
	// triggered by tokens with an unknown kid; 0 means five minutes.
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
		if !spec.IsObjectID(t.ID) {
			return c, fmt.Errorf("auth: config: tenant id %q is not a GUID", t.ID)
		}
		t.ID = strings.ToLower(t.ID)
		if seen[t.ID] {
			return c, fmt.Errorf("auth: config: tenant %s listed twice", t.ID)
		}
		seen[t.ID] = true
		if t.Audience == "" {
			t.Audience = c.Audience
		}
		if !spec.IsObjectID(t.Audience) {
			return c, fmt.Errorf("auth: config: tenant %s: audience must be the gateway's application id (a GUID)", t.ID)
		}
		t.Audience = strings.ToLower(t.Audience)
		if t.Issuer == "" {
			t.Issuer = c.Authority + "/" + t.ID + "/v2.0"
		}
		if t.JWKSURL == "" {
			t.JWKSURL = c.Authority + "/" + t.ID + "/discovery/v2.0/keys"
		}
		tenants = append(tenants, t)
	}
	c.Tenants = tenants
	return c, nil
}
