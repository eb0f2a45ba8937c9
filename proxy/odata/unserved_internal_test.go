package odata

import (
	"reflect"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/policy"
)

func TestSplitUnserved(t *testing.T) {
	tests := []struct {
		name, raw, kept string
		unserved        []string
	}{
		{"none", "displayName,mail", "displayName,mail", nil},
		{"some", "displayName,userType, mail", "displayName, mail", []string{"userType"}},
		{"canonical casing, once", "USERTYPE,id,userType", "id", []string{"userType"}},
		{"only unserved keeps id", "userType,mailNickname", "id", []string{"userType", "mailNickname"}},
		{"empty name returned unchanged", "userType,,mail", "userType,,mail", nil},
		{"unknown names kept for the parser", "foo,userType", "foo", []string{"userType"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kept, unserved := splitUnserved(tc.raw)
			if kept != tc.kept || !reflect.DeepEqual(unserved, tc.unserved) {
				t.Fatalf("got %q %q, want %q %q", kept, unserved, tc.kept, tc.unserved)
			}
		})
	}
}

// TestUnservedAreNotServed keeps the two lists apart: a property graphgate serves must
// never be withheld as unserved.
func TestUnservedAreNotServed(t *testing.T) {
	for _, f := range policy.KnownFields {
		if _, ok := unservedUserProps[strings.ToLower(f)]; ok {
			t.Errorf("%s is both served and unserved", f)
		}
	}
	for _, f := range policy.InternalFields {
		if _, ok := unservedUserProps[strings.ToLower(f)]; ok {
			t.Errorf("internal field %s is listed as unserved", f)
		}
	}
}
