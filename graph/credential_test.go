package graph_test

import (
	"context"
	"errors"
	"testing"

	"github.com/graphgate/graphgate/graph"
)

// TestRefusedTokenIsRenewed: after Entra retires the key that signed the client's
// cached app-only token, Graph answers 401 to it; the client drops the token, acquires
// a new one and the call succeeds, instead of failing every uncached read until the
// token expires (an hour or more). A second refusal within the renewal interval fails
// without asking Entra again, so a persistent refusal cannot flood the token service.
func TestRefusedTokenIsRenewed(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := context.Background()
	users := v.tenant.Users
	tokenRoute := "POST /{tenant}/oauth2/v2.0/token"
	if _, err := c.User(ctx, users[0].ID, []string{"displayName"}); err != nil {
		t.Fatalf("first read: %v", err)
	}
	tokens := v.e.Count(tokenRoute)
	if tokens == 0 {
		t.Fatalf("no token request logged under %q", tokenRoute)
	}

	rotateAndRetire := func() {
		t.Helper()
		if _, err := v.e.RotateSigningKey(v.tenant.ID); err != nil {
			t.Fatal(err)
		}
		if err := v.e.RetireOldSigningKeys(v.tenant.ID); err != nil {
			t.Fatal(err)
		}
	}
	rotateAndRetire()
	if _, err := c.User(ctx, users[1].ID, []string{"displayName"}); err != nil {
		t.Fatalf("read after the signing key was retired: %v (want the token renewed and the call to succeed)", err)
	}
	if got := v.e.Count(tokenRoute); got != tokens+1 {
		t.Errorf("token requests: %d after the refusal, want %d (one renewal)", got, tokens+1)
	}
	if _, err := c.User(ctx, users[2].ID, []string{"displayName"}); err != nil {
		t.Fatalf("read with the renewed token: %v", err)
	}
	t.Logf("FAULT graph_token_refused: reads_after_key_retired=2 failed=0 token_requests_for_renewal=%d",
		v.e.Count(tokenRoute)-tokens)

	rotateAndRetire()
	_, err := c.User(ctx, users[3].ID, []string{"displayName"})
	if !errors.Is(err, graph.ErrUnauthorized) {
		t.Errorf("refusal inside the renewal interval: err = %v, want ErrUnauthorized", err)
	}
	if got := v.e.Count(tokenRoute); got != tokens+1 {
		t.Errorf("token requests: %d, want still %d inside the renewal interval", got, tokens+1)
	}
}

// TestRefusedTokenRenewedOnceForConcurrentCalls: calls refused together with the same
// token all succeed on one renewal, whichever of them renews it, and Entra is asked once.
func TestRefusedTokenRenewedOnceForConcurrentCalls(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := context.Background()
	tokenRoute := "POST /{tenant}/oauth2/v2.0/token"
	if _, err := c.User(ctx, v.tenant.Users[0].ID, []string{"displayName"}); err != nil {
		t.Fatal(err)
	}
	tokens := v.e.Count(tokenRoute)
	if _, err := v.e.RotateSigningKey(v.tenant.ID); err != nil {
		t.Fatal(err)
	}
	if err := v.e.RetireOldSigningKeys(v.tenant.ID); err != nil {
		t.Fatal(err)
	}
	users := v.tenant.Users[1:9]
	errs := make(chan error, len(users))
	for _, u := range users {
		go func() {
			_, err := c.User(ctx, u.ID, []string{"displayName"})
			errs <- err
		}()
	}
	for range users {
		if err := <-errs; err != nil {
			t.Errorf("concurrent read after the signing key was retired: %v", err)
		}
	}
	if got := v.e.Count(tokenRoute); got != tokens+1 {
		t.Errorf("token requests: %d, want %d (one renewal for all)", got, tokens+1)
	}
}
