package graph

import (
	"context"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// minRenewInterval bounds how often a Client drops its app-only token and asks Entra for
// a new one after Graph refused a token (401): a persistent refusal costs Entra at most
// one token request per interval, never one per Graph call.
const minRenewInterval = 30 * time.Second

// renewingCredential is the app's credential with a way to drop the token it caches.
// azidentity keeps an acquired token until shortly before it expires and has no way to
// forget it, yet Graph can refuse a token long before that: Entra retires the key that
// signed it ("Signing key rollover in the Microsoft identity platform",
// https://learn.microsoft.com/entra/identity-platform/signing-key-rollover), or revokes
// it, and Graph answers 401 InvalidAuthenticationToken. renew replaces the credential
// by a fresh one, whose empty cache makes the next call acquire a new token.
type renewingCredential struct {
	build func() (azcore.TokenCredential, error)

	mu      sync.Mutex
	cur     azcore.TokenCredential
	gen     uint64                     // counts renewals: which credential a token came from
	renewed time.Time                  // when cur replaced a refused credential; zero for the first
	opts    policy.TokenRequestOptions // of the SDK's last request: bearer asks the same (scopes, CAE)
}

func newRenewingCredential(build func() (azcore.TokenCredential, error)) (*renewingCredential, error) {
	cur, err := build()
	if err != nil {
		return nil, err
	}
	return &renewingCredential{build: build, cur: cur}, nil
}

// GetToken implements azcore.TokenCredential with the current credential.
func (c *renewingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	cur := c.cur
	c.opts = opts
	c.mu.Unlock()
	return cur.GetToken(ctx, opts)
}

// bearer returns a "Bearer …" header value from the current credential, asked with the
// options the SDK's authentication provider last used (so that the token lands in the
// cache entry the provider reads next), and the credential's generation.
func (c *renewingCredential) bearer(ctx context.Context) (string, uint64, error) {
	c.mu.Lock()
	cur, gen, opts := c.cur, c.gen, c.opts
	c.mu.Unlock()
	if len(opts.Scopes) == 0 {
		opts.Scopes = []string{graphScope}
	}
	tok, err := cur.GetToken(ctx, opts)
	if err != nil {
		return "", gen, err
	}
	return "Bearer " + tok.Token, gen, nil
}

// renew replaces the credential of generation gen, whose token Graph refused. It
// reports true when a newer credential exists: another request renewed it already, or
// it was replaced now; false when the last renewal is too recent (minRenewInterval) or
// a new credential could not be built.
func (c *renewingCredential) renew(gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return true
	}
	if !c.renewed.IsZero() && time.Since(c.renewed) < minRenewInterval {
		return false
	}
	cur, err := c.build()
	if err != nil {
		return false
	}
	c.cur, c.renewed = cur, time.Now()
	c.gen++
	return true
}
