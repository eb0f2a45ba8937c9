package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name   string
		header string
		token  string
		code   string // "" with status 401 => bare challenge
		status int
	}{
		{"bearer", "Bearer abc.def-_~+/.ghi==", "abc.def-_~+/.ghi==", "", 0},
		{"lower-case scheme", "bearer abc", "abc", "", 0},
		{"upper-case scheme", "BEARER abc", "abc", "", 0},
		{"extra spaces", "  Bearer   abc  ", "abc", "", 0},
		{"missing", "", "", "", 401},
		{"blank", "   ", "", "", 401},
		{"basic scheme", "Basic dXNlcjpwYXNz", "", "", 401},
		{"token without scheme", "abc.def.ghi", "", "", 401},
		{"scheme only", "Bearer", "", "invalid_request", 400},
		{"scheme and space", "Bearer  ", "", "invalid_request", 400},
		{"two tokens", "Bearer abc def", "", "invalid_request", 400},
		{"quote in token", `Bearer ab"c`, "", "invalid_request", 400},
		{"comma in token", "Bearer abc,def", "", "invalid_request", 400},
		{"only padding", "Bearer ==", "", "invalid_request", 400},
		{"padding inside", "Bearer ab=c", "", "invalid_request", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseAuthorizationHeader(tc.header)
			if tc.status == 0 {
				if err != nil || tok != tc.token {
					t.Fatalf("= %q, %v; want %q", tok, err, tc.token)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != tc.code || ae.Status != tc.status || tok != "" {
				t.Fatalf("= %q, %v; want *Error %q %d", tok, err, tc.code, tc.status)
			}
		})
	}
}

func TestWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"no credentials", &Error{Description: "no access token was given", Status: 401},
			`Bearer realm="graphgate"`},
		{"invalid token", invalidToken("the access token has expired"),
			`Bearer realm="graphgate", error="invalid_token", error_description="the access token has expired"`},
		{"invalid request", invalidRequest("the bearer token is empty"),
			`Bearer realm="graphgate", error="invalid_request", error_description="the bearer token is empty"`},
		{"quotes and backslashes", invalidToken(`say "hi" \ bye`),
			`Bearer realm="graphgate", error="invalid_token", error_description="say 'hi' / bye"`},
		{"control and non-ASCII", invalidToken("a\r\nb\tcé"),
			`Bearer realm="graphgate", error="invalid_token", error_description="a??b?c?"`},
		{"insufficient scope", insufficientScope("needs scope", "api://x/access_as_user"),
			`Bearer realm="graphgate", error="insufficient_scope", error_description="needs scope", scope="api://x/access_as_user"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.WWWAuthenticate(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	long := invalidToken(strings.Repeat("x", 1000)).WWWAuthenticate()
	if len(long) > maxAttrLen+100 {
		t.Fatalf("challenge of %d bytes: description not truncated", len(long))
	}
}

func TestErrorString(t *testing.T) {
	if got := invalidToken("the access token has expired").Error(); got != "auth: invalid_token: the access token has expired" {
		t.Fatalf("Error() = %q", got)
	}
	wrapped := &Error{Description: "keys", Status: 503, Err: ErrKeysUnavailable}
	if !errors.Is(wrapped, ErrKeysUnavailable) {
		t.Fatal("errors.Is does not see the cause")
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Tenant{ID: tenantA}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no audience", Config{Tenants: []Tenant{ok}}, "audience"},
		{"audience not a GUID", Config{Audience: "api://graphgate", Tenants: []Tenant{ok}}, "audience"},
		{"no tenants", Config{Audience: gatewayID}, "at least one tenant"},
		{"tenant not a GUID", Config{Audience: gatewayID, Tenants: []Tenant{{ID: "contoso.example"}}}, "not a GUID"},
		{"duplicate tenant", Config{Audience: gatewayID, Tenants: []Tenant{ok, {ID: strings.ToUpper(tenantA)}}}, "twice"},
		{"app id uri not a URI", Config{Audience: gatewayID, AppIDURI: "graphgate", Tenants: []Tenant{ok}}, "app id uri"},
		{"app id uri a bare GUID", Config{Audience: gatewayID, Tenants: []Tenant{{ID: tenantA, AppIDURI: gatewayID}}}, "app id uri"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewVerifier(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewVerifier error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Audience: strings.ToUpper(gatewayID), Tenants: []Tenant{{ID: tenantA}, {ID: tenantB, Issuer: "https://issuer.example/b", JWKSURL: "https://keys.example/b"}}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Audience != gatewayID || c.RequiredScope != "access_as_user" || c.ClockSkew != DefaultClockSkew ||
		c.RefreshInterval != DefaultRefreshInterval || c.UnknownKIDInterval != DefaultUnknownKIDInterval ||
		c.CacheSize != DefaultCacheSize || c.MaxTokenBytes != DefaultMaxTokenBytes || c.Logger == nil || c.Now == nil {
		t.Fatalf("defaults not applied: %+v", c)
	}
	a, b := c.Tenants[0], c.Tenants[1]
	if a.Issuer != "https://login.microsoftonline.com/"+tenantA+"/v2.0" ||
		a.V1Issuer != "https://sts.windows.net/"+tenantA+"/" || a.AppIDURI != "api://"+gatewayID ||
		a.JWKSURL != "https://login.microsoftonline.com/"+tenantA+"/discovery/v2.0/keys" {
		t.Fatalf("tenant A defaults = %+v", a)
	}
	if b.Issuer != "https://issuer.example/b" || b.JWKSURL != "https://keys.example/b" {
		t.Fatalf("tenant B overrides lost: %+v", b)
	}
	// The v1.0 issuer names the STS, not the authority the client signed in through;
	// a national cloud sets its own STS.
	c, err = Config{Audience: gatewayID, Authority: "https://login.emulator.example/", V1Authority: "https://sts.chinacloudapi.cn/",
		AppIDURI: "https://gateway.contoso.example", Tenants: []Tenant{{ID: tenantA}, {ID: tenantB, V1Issuer: "https://v1.example/b/", AppIDURI: "api://b"}}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	a, b = c.Tenants[0], c.Tenants[1]
	if a.Issuer != "https://login.emulator.example/"+tenantA+"/v2.0" || a.V1Issuer != "https://sts.chinacloudapi.cn/"+tenantA+"/" ||
		a.AppIDURI != "https://gateway.contoso.example" || b.V1Issuer != "https://v1.example/b/" || b.AppIDURI != "api://b" {
		t.Fatalf("overrides = %+v, %+v", a, b)
	}
}
