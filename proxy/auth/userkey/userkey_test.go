package userkey_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/auth/userkey"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

const (
	tenant = "11111111-1111-1111-1111-111111111111"
	user   = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
)

func TestOfIsTheDocumentedScheme(t *testing.T) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(tenant + "\x00" + user))
	if got, want := userkey.Of(secret, tenant, user), hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("Of = %q, want hex(HMAC-SHA256(secret, tenant‖0x00‖user)) = %q", got, want)
	}
}

func TestOf(t *testing.T) {
	k := userkey.Of(secret, tenant, user)
	if len(k) != 64 || strings.Contains(k, user) || strings.Contains(k, tenant) {
		t.Fatalf("key %q", k)
	}
	tests := []struct {
		name     string
		other    string
		wantSame bool
	}{
		{"ids in upper case", userkey.Of(secret, strings.ToUpper(tenant), strings.ToUpper(user)), true},
		{"ids in mixed case", userkey.Of(secret, "11111111-1111-1111-1111-111111111111", "AaaaAaaa-aaaa-AAAA-aaaa-aaaaaaaaaaaa"), true},
		{"another secret", userkey.Of([]byte("another secret key!!"), tenant, user), false},
		{"another tenant", userkey.Of(secret, "22222222-2222-2222-2222-222222222222", user), false},
		{"another user", userkey.Of(secret, tenant, "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"), false},
		{"tenant and user run together", userkey.Of(secret, tenant+user, ""), false},
		{"split moved", userkey.Of(secret, tenant+"a", user[1:]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.other == k) != tt.wantSame {
				t.Errorf("same key = %v, want %v", tt.other == k, tt.wantSame)
			}
		})
	}
}
