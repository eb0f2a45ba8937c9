package proxy_test

import (
	"context"
	"net/url"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// staticToken hands the SDK a user's access token for the gateway.
type staticToken struct {
	token string
	hosts kauth.AllowedHostsValidator
}

func (s *staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return s.token, nil
}

func (s *staticToken) GetAllowedHostsValidator() *kauth.AllowedHostsValidator { return &s.hosts }

// newSDKClient returns an unmodified msgraph-sdk-go client for the gateway at base
// ("http://host:port"), sending token: the SDK's default HTTP client and middleware,
// exactly as an application would have them; only the base URL and the token differ
// from talking to Graph itself.
func newSDKClient(t *testing.T, base, token string) *msgraphsdk.GraphServiceClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := kauth.NewAllowedHostsValidatorErrorCheck([]string{u.Host})
	if err != nil {
		t.Fatal(err)
	}
	provider := kauth.NewBaseBearerTokenAuthenticationProvider(&staticToken{token: token, hosts: *hosts})
	adapter, err := msgraphsdk.NewGraphRequestAdapter(provider)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(base + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter)
}

// TestMicrosoftGraphSDKThroughGateway points an unmodified msgraph-sdk-go client at the
// gateway: only the base URL and the token differ from talking to Graph itself.
func TestMicrosoftGraphSDKThroughGateway(t *testing.T) {
	e := newEnv(t)
	me := e.enabledUsers(0)[0]
	client := newSDKClient(t, e.url, e.token(0, "intranet-directory", me))
	ctx := context.Background()

	u, err := client.Me().Get(ctx, nil)
	if err != nil {
		t.Fatalf("/me: %v", err)
	}
	if u.GetId() == nil || *u.GetId() != me.ID || u.GetMobilePhone() == nil && u.GetDisplayName() == nil {
		t.Fatalf("/me returned %v", u.GetId())
	}

	other := e.enabledUsers(0)[3]
	o, err := client.Users().ByUserId(other.UserPrincipalName).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"displayName", "mobilePhone", "department"}},
	})
	if err != nil {
		t.Fatalf("user: %v", err)
	}
	if *o.GetId() != other.ID || o.GetDisplayName() == nil || o.GetMobilePhone() != nil {
		t.Errorf("user by UPN: id %v, displayName %v, mobilePhone %v (hidden from this app)", o.GetId(), o.GetDisplayName(), o.GetMobilePhone())
	}

	headers := abstractions.NewRequestHeaders()
	headers.Add("ConsistencyLevel", "eventual")
	search := `"displayName:a"`
	top := int32(5)
	page, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		Headers:         headers,
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Search: &search, Top: &top, Select: []string{"displayName", "jobTitle"}},
	})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(page.GetValue()) == 0 {
		t.Error("search found nobody")
	}

	var photoErrs int
	var got []byte
	for _, u := range e.enabledUsers(0)[:10] {
		got, err = client.Users().ByUserId(u.ID).Photos().ByProfilePhotoId("48x48").Content().Get(ctx, nil)
		if err == nil && len(got) > 0 {
			break
		}
		photoErrs++
	}
	if len(got) == 0 {
		t.Errorf("no photo read through the SDK (%d errors, last %v)", photoErrs, err)
	}

	// Errors come back as Graph errors the SDK understands.
	_, err = client.Users().ByUserId("00000000-0000-0000-0000-000000000000").Get(ctx, nil)
	if err == nil {
		t.Fatal("unknown user: no error")
	}
}
