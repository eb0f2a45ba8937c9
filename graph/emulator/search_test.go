package emulator_test

import (
	"slices"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestSearch checks $search against Graph's documented behaviour on directory objects:
// https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections
func TestSearch(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	// The documentation's tokenization examples, as display names.
	ids := addUsers(t, e,
		emulator.User{UserPrincipalName: "tok0@contoso.example", DisplayName: "HelloWorld", Mail: "tok0@contoso.example"},
		emulator.User{UserPrincipalName: "tok1@contoso.example", DisplayName: "HELLOworld"},
		emulator.User{UserPrincipalName: "tok2@contoso.example", DisplayName: "hello.world", Mail: "mailbox.world@contoso.example"},
		emulator.User{UserPrincipalName: "tok3@contoso.example", DisplayName: "hello123world", JobTitle: "Senior Engineer"},
		emulator.User{UserPrincipalName: "tok4@contoso.example", DisplayName: "李四(David Li)"},
		emulator.User{UserPrincipalName: "tok5@contoso.example", DisplayName: "HelloWORld", GivenName: "Hello"},
	)
	pick := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	tests := []struct {
		name, search string
		want         []string
	}{
		{"tokens split at a lower-to-upper case change", `"displayName:world"`, pick(0, 2, 3, 5)},
		{"case-insensitive", `"displayName:WORLD"`, pick(0, 2, 3, 5)},
		{"upper-to-lower case change does not split; symbols join words", `"displayName:helloworld"`, pick(1, 2)},
		{"numbers are tokens", `"displayName:123"`, pick(3)},
		{"no contains logic", `"displayName:orld"`, pick()},
		{"symbols are tokens", `"displayName:David)"`, pick(4)},
		{"tokens in any order", `"displayName:Li 李"`, pick(4)},
		{"symbol before a word", `"displayName:(李四"`, pick(4)},
		{"mail matches the whole value by prefix", `"mail:MAILBOX.W"`, pick(2)},
		{"mail is not tokenized", `"mail:world"`, pick()},
		{"userPrincipalName by prefix", `"userPrincipalName:tok"`, pick(0, 1, 2, 3, 4, 5)},
		{"jobTitle by prefix of the whole value", `"jobTitle:engineer"`, pick()},
		{"jobTitle prefix with a space", `"jobTitle:Senior Eng"`, pick(3)},
		{"givenName is searchable", `"givenName:hel"`, pick(5)},
		{"parentheses", `"displayName:world" AND ("displayName:helloworld" OR "displayName:123")`, pick(2, 3)},
		{"AND binds tighter than OR", `"displayName:123" OR "displayName:helloworld" AND "mail:mailbox"`, pick(2, 3)},
		{"Toolkit people picker", `"displayName:tok" OR "mail:tok" OR "userPrincipalName:tok"`, pick(0, 1, 2, 3, 4, 5)},
		{"escaped quote in a clause", `"displayName:a\"b"`, pick()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := list(t, e, tok, "/v1.0/users", "$search="+tc.search+"&$select=id&$top=999", advancedHdr)
			if r.status != 200 {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			if got := only(r.ids, ids); !slices.Equal(got, tc.want) {
				t.Fatalf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSearchRefusals checks what Graph refuses in $search.
func TestSearchRefusals(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	tests := []struct {
		name, search string
		hdr          map[string]string
		code         string
	}{
		// "Request with $search query parameter only works through MSGraph with a special
		// request header" (https://learn.microsoft.com/graph/aad-advanced-queries).
		{"no ConsistencyLevel", `"displayName:a"`, nil, "Request_UnsupportedQuery"},
		// "AND and OR operators ... must be in upper case".
		{"lower-case and", `"displayName:a" and "mail:b"`, advancedHdr, "BadRequest"},
		{"lower-case or", `"displayName:a" or "mail:b"`, advancedHdr, "BadRequest"},
		{"no operator", `"displayName:a" "mail:b"`, advancedHdr, "BadRequest"},
		{"trailing operator", `"displayName:a" OR`, advancedHdr, "BadRequest"},
		{"unbalanced parenthesis", `("displayName:a" OR "mail:b"`, advancedHdr, "BadRequest"},
		{"unterminated clause", `"displayName:a`, advancedHdr, "BadRequest"},
		{"unquoted clause", `displayName:a`, advancedHdr, "BadRequest"},
		{"clause without property", `"adele"`, advancedHdr, "BadRequest"},
		{"unknown property", `"shoeSize:4"`, advancedHdr, "BadRequest"},
		{"not a string property", `"accountEnabled:true"`, advancedHdr, "Request_UnsupportedQuery"},
		{"collection property", `"businessPhones:555"`, advancedHdr, "Request_UnsupportedQuery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := list(t, e, tok, "/v1.0/users", "$search="+tc.search, tc.hdr)
			if r.status != 400 || r.code() != tc.code {
				t.Fatalf("got %d %v, want 400 %s", r.status, r.body, tc.code)
			}
		})
	}
	t.Run("documented message", func(t *testing.T) {
		r := list(t, e, tok, "/v1.0/users", `$search="displayName:a"`, nil)
		if want := "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"; r.message() != want {
			t.Fatalf("message %q", r.message())
		}
	})
}
