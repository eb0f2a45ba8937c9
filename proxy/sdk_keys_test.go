package proxy_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestMicrosoftGraphSDKKeysAndCount drives an unmodified msgraph-sdk-go client through the
// gateway with the URL forms of issue 10, and records what the SDK sends:
//
//   - Users().Count() with ConsistencyLevel: eventual sends GET /v1.0/users/$count and
//     reads the text/plain number: the number of enabled users (the gateway shows no
//     deactivated account);
//   - Users().ByUserId(upn) percent-encodes the key (kiota's URI template: "#" as %23,
//     "@" as %40, "+" as %2B, "&" as %26, "%" as %25, "'" as %27); a guest's "#EXT#"
//     UPN and the other edge-case UPNs come back as their users;
//   - ByUserId with a UPN starting with "$" sends /users/%24…, which Graph reads as a
//     system segment and refuses with 400 ("Since the segment 'users' refers to a
//     collection…", https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2635), and
//     so does the gateway: a caller must address such a user as /users('$x@y') through
//     WithUrl, which works.
func TestMicrosoftGraphSDKKeysAndCount(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{next: e.srv.Handler()}
	gw := httptest.NewServer(rec)
	t.Cleanup(gw.Close)
	client := newSDKClient(t, gw.URL, e.token(0, "intranet-directory", e.enabledUsers(0)[0]))
	ctx := context.Background()
	tenant := e.tenant(0).ID
	fixture := func(upn string) emulator.User {
		t.Helper()
		u, ok := e.emu.User(tenant, upn)
		if !ok {
			t.Fatalf("the emulator's fixture has no user %q (graph/emulator/fixtures.go)", upn)
		}
		return u
	}

	t.Run("count of enabled users", func(t *testing.T) {
		headers := abstractions.NewRequestHeaders()
		headers.Add("ConsistencyLevel", "eventual")
		n, err := client.Users().Count().Get(ctx, &users.CountRequestBuilderGetRequestConfiguration{Headers: headers})
		if err != nil {
			t.Fatalf("Users().Count(): %v (sent %q)", describeSDKError(err), lastURI(rec))
		}
		if want := len(e.enabledUsers(0)); n == nil || int(*n) != want {
			t.Errorf("Users().Count() = %v, want %d enabled users", deref(n), want)
		}
		t.Logf("SDK sent %s", lastURI(rec))
	})

	for _, upn := range []string{emulator.GuestUPN, emulator.PlusUPN, emulator.AmpPercentUPN, emulator.ApostropheUPN} {
		t.Run("ByUserId "+upn, func(t *testing.T) {
			want := fixture(upn)
			u, err := client.Users().ByUserId(upn).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"displayName", "userPrincipalName"}},
			})
			sent := lastURI(rec)
			t.Logf("SDK sent %s", sent)
			if err != nil {
				t.Fatalf("ByUserId: %v (sent %q)", describeSDKError(err), sent)
			}
			if deref(u.GetId()) != want.ID || deref(u.GetDisplayName()) != want.DisplayName || deref(u.GetUserPrincipalName()) != upn {
				t.Errorf("ByUserId returned id %q, displayName %q, userPrincipalName %q; want the fixture user",
					deref(u.GetId()), deref(u.GetDisplayName()), deref(u.GetUserPrincipalName()))
			}
		})
	}

	testDollarUPN(t, client, rec, gw.URL, fixture(emulator.DollarUPN))
}

// testDollarUPN checks what the SDK does with a UPN starting with "$": ByUserId is
// refused, as Graph refuses it; WithUrl(".../users('$x@y')") works.
func testDollarUPN(t *testing.T, client *msgraphsdk.GraphServiceClient, rec *recorder, base string, want emulator.User) {
	t.Helper()
	ctx := context.Background()
	t.Run("ByUserId with a $ UPN is refused as Graph refuses it", func(t *testing.T) {
		_, err := client.Users().ByUserId(emulator.DollarUPN).Get(ctx, nil)
		sent := lastURI(rec)
		t.Logf("SDK sent %s", sent)
		if !strings.HasPrefix(sent, "/v1.0/users/%24") {
			t.Errorf("the SDK sent %q; this test expects it to percent-encode the leading $", sent)
		}
		var oe *odataerrors.ODataError
		if !errors.As(err, &oe) || oe.ResponseStatusCode != http.StatusBadRequest {
			t.Errorf("ByUserId(%q): %v, want Graph's 400 for a system segment after a collection", "$…", describeSDKError(err))
		}
	})

	t.Run("WithUrl users('$x') reaches a $ UPN", func(t *testing.T) {
		raw := base + "/v1.0/users('" + emulator.DollarUPN + "')?$select=displayName,userPrincipalName"
		u, err := client.Users().ByUserId(emulator.DollarUPN).WithUrl(raw).Get(ctx, nil)
		sent := lastURI(rec)
		t.Logf("SDK sent %s", sent)
		if err != nil {
			t.Fatalf("WithUrl users('$…'): %v (sent %q)", describeSDKError(err), sent)
		}
		if deref(u.GetId()) != want.ID || deref(u.GetUserPrincipalName()) != emulator.DollarUPN {
			t.Errorf("WithUrl users('$…') returned id %q, userPrincipalName %q; want the fixture user",
				deref(u.GetId()), deref(u.GetUserPrincipalName()))
		}
	})
}

// lastURI is the request URI of the last request the gateway answered.
func lastURI(rec *recorder) string {
	seen := rec.requests()
	if len(seen) == 0 {
		return ""
	}
	return seen[len(seen)-1].URI
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// describeSDKError spells out an SDK error: for a Graph error its status, code and
// message (ODataError.Error() alone says little and can panic without a message).
func describeSDKError(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		code, msg := "", ""
		if m := oe.GetErrorEscaped(); m != nil {
			code, msg = deref(m.GetCode()), deref(m.GetMessage())
		}
		return "Graph error " + http.StatusText(oe.ResponseStatusCode) + " " + code + ": " + msg
	}
	if err == nil {
		return "no error"
	}
	return err.Error()
}
