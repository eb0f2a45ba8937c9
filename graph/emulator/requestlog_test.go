package emulator_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestRequestLogRecordsFilterAndSearch checks that the request log keeps each request's
// $filter and $search verbatim (URL-decoded), for direct requests and $batch items
// alike, so tests can assert what a client asked Graph for.
func TestRequestLogRecordsFilterAndSearch(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	const (
		filter = "accountEnabled eq true and (startswith(displayName,'A'))"
		search = `"displayName:a" OR "mail:b"`
	)
	query := "?$filter=" + url.QueryEscape(filter) + "&$search=" + url.QueryEscape(search) + "&$count=true"
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	tests := []struct {
		name           string
		send           func(t *testing.T)
		filter, search string
	}{
		{"list with both", func(t *testing.T) { graphGet(t, e, tok, "/v1.0/users"+query, eventual) }, filter, search},
		{"filter only", func(t *testing.T) {
			graphGet(t, e, tok, "/v1.0/users?$filter="+url.QueryEscape(filter), nil)
		}, filter, ""},
		{"neither", func(t *testing.T) { graphGet(t, e, tok, "/v1.0/users/"+ti.Users[0].ID, nil) }, "", ""},
		{"batch item", func(t *testing.T) {
			st, _, raw := postBatch(t, e, tok, []map[string]any{
				{"id": "1", "method": "GET", "url": "/users" + query, "headers": eventual},
			}, false)
			if st != http.StatusOK {
				t.Fatalf("batch: %d %s", st, raw)
			}
		}, filter, search},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.ResetRequests()
			tt.send(t)
			var got *emulator.Request
			for _, r := range e.Requests() {
				if r.Route != "POST /v1.0/$batch" {
					got = &r
				}
			}
			if got == nil {
				t.Fatalf("no Graph request logged: %+v", e.Requests())
			}
			if got.Status != http.StatusOK {
				t.Fatalf("request failed: %+v", got)
			}
			if got.Filter != tt.filter || got.Search != tt.search {
				t.Errorf("logged filter %q search %q, want %q and %q", got.Filter, got.Search, tt.filter, tt.search)
			}
		})
	}
}
