package privacy_test

import (
	"slices"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/proxy/privacy"
)

// TestNoticeStatesTheFetchedFieldsItIsGiven checks that the record states the fields its
// caller says are fetched (the gateway passes its directory's $select), not a copy
// derived from the policy, and that it keeps its own copy of them.
func TestNoticeStatesTheFetchedFieldsItIsGiven(t *testing.T) {
	pol := testPol(t)
	tests := []struct {
		name    string
		fetched []string
		want    []string
	}{
		{"given fields", []string{"id", "accountEnabled", "displayName"}, []string{"id", "accountEnabled", "displayName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.fetched)
			n := privacy.NewNotice(pol, in, cache.Config{}, privacy.Config{})
			if !slices.Equal(n.FetchedFields, tt.want) {
				t.Fatalf("fetched fields %v, want %v", n.FetchedFields, tt.want)
			}
			if len(in) > 0 {
				in[0] = "mobilePhone"
				if n.FetchedFields[0] != tt.want[0] {
					t.Errorf("the record changed with its caller's slice: %v", n.FetchedFields)
				}
			}
		})
	}
}
