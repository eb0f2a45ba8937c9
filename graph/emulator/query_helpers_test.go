package emulator_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// advanced are the advanced query parameters' header; add $count=true to the query.
var advancedHdr = map[string]string{"ConsistencyLevel": "eventual"}

// listResult is one answer of a user collection.
type listResult struct {
	status int
	body   map[string]any
	ids    []string
}

// code returns error.code of a failed answer.
func (r listResult) code() string { return errCode(r.body) }

// message returns error.message of a failed answer.
func (r listResult) message() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// list GETs path with the raw query (encoded here) and collects the ids of the value.
func list(t *testing.T, e *emulator.Emulator, tok, path, query string, hdr map[string]string) listResult {
	t.Helper()
	if query != "" {
		q := url.Values{}
		for _, part := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(part, "=")
			q.Add(k, v)
		}
		path += "?" + q.Encode()
	}
	return listURL(t, e, tok, path, hdr)
}

// listURL GETs an already encoded path (such as a nextLink without its origin).
func listURL(t *testing.T, e *emulator.Emulator, tok, path string, hdr map[string]string) listResult {
	t.Helper()
	st, m := graphGet(t, e, tok, path, hdr)
	r := listResult{status: st, body: m}
	if v, ok := m["value"].([]any); ok {
		for _, x := range v {
			id, _ := x.(map[string]any)["id"].(string)
			r.ids = append(r.ids, id)
		}
	}
	return r
}

// nextPath returns the nextLink of r without the emulator's origin ("" on the last page).
func nextPath(t *testing.T, e *emulator.Emulator, r listResult) string {
	t.Helper()
	l, ok := r.body["@odata.nextLink"].(string)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(l, e.URL()+"/v1.0/") || !strings.Contains(l, "$skiptoken=") {
		t.Fatalf("nextLink %q", l)
	}
	return strings.TrimPrefix(l, e.URL())
}

// addUsers adds users to the contoso tenant of e and returns their ids in order.
func addUsers(t *testing.T, e *emulator.Emulator, users ...emulator.User) []string {
	t.Helper()
	ti := tenant(t, e, "contoso.example")
	ids := make([]string, 0, len(users))
	for _, u := range users {
		if u.UserPrincipalName == "" {
			t.Fatal("addUsers: user without userPrincipalName")
		}
		u.AccountEnabled = true
		got, err := e.AddUser(ti.ID, u)
		if err != nil {
			t.Fatalf("AddUser: %v", err)
		}
		ids = append(ids, got.ID)
	}
	return ids
}

// only returns the ids of got that are in among, in the order of among.
func only(got, among []string) []string {
	in := map[string]bool{}
	for _, id := range got {
		in[id] = true
	}
	out := []string{}
	for _, id := range among {
		if in[id] {
			out = append(out, id)
		}
	}
	return out
}
