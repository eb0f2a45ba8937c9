package emulator_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
)

// peopleNext returns the nextLink of r without the emulator's origin ("" without one).
func peopleNext(t *testing.T, e *emulator.Emulator, r listResult) string {
	t.Helper()
	l, ok := r.body["@odata.nextLink"].(string)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(l, e.URL()+"/v1.0/users") {
		t.Fatalf("nextLink %q", l)
	}
	return strings.TrimPrefix(l, e.URL())
}

// TestPeoplePaging: $top and $skip page the list; with $top the nextLink carries $top
// and $skip=skip+top until the last page (microsoftgraph/microsoft-graph-docs-contrib#658);
// without $top it says $skip=0 and leads back to the first page, even when everything
// fits one page (msgraph-sdk-javascript#1656, microsoft-graph-docs#9008).
func TestPeoplePaging(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[1].ID
	all := peopleIDs(mustPeople(t, e, ti.ID, owner))
	if len(all) <= spec.DefaultPeopleTop {
		t.Fatalf("owner has %d people, want more than a page", len(all))
	}
	t.Run("with $top", func(t *testing.T) {
		var got []string
		path, pages := peoplePath(owner)+"?$top=4&$select=displayName", 0
		for ; path != ""; pages++ {
			r := listURL(t, e, tok, path, nil)
			got = append(got, r.ids...)
			if path = peopleNext(t, e, r); path != "" && (!strings.Contains(path, "%24top=4") ||
				!strings.HasSuffix(path, "%24skip="+strconv.Itoa(len(got)))) {
				t.Fatalf("nextLink %q after %d", path, len(got))
			}
		}
		if !slices.Equal(got, all) || pages != (len(all)+3)/4 {
			t.Fatalf("%d pages %v, want %v", pages, got, all)
		}
	})
	t.Run("$skip", func(t *testing.T) {
		if r := list(t, e, tok, peoplePath(owner), "$top=4&$skip=8", nil); !slices.Equal(r.ids, all[8:12]) {
			t.Fatalf("got %v", r.ids)
		}
		if r := list(t, e, tok, peoplePath(owner), "$top=5&skip=1000", nil); len(r.ids) != 0 || peopleNext(t, e, r) != "" {
			t.Fatalf("beyond the end: %v", r.body)
		}
	})
	t.Run("without $top the nextLink loops", func(t *testing.T) {
		r := list(t, e, tok, peoplePath(owner), "$select=displayName", nil)
		next := peopleNext(t, e, r)
		if !slices.Equal(r.ids, all[:spec.DefaultPeopleTop]) || !strings.HasSuffix(next, "%24skip=0") {
			t.Fatalf("first page %v next %q", r.ids, next)
		}
		again := listURL(t, e, tok, next, nil)
		if !slices.Equal(again.ids, r.ids) || peopleNext(t, e, again) != next {
			t.Fatalf("following nextLink: %v %v", again.ids, again.body["@odata.nextLink"])
		}
		kai := list(t, e, tok, peoplePath(url.PathEscape(emulator.ApostropheUPN)), "", nil)
		if n := len(mustPeople(t, e, ti.ID, emulator.ApostropheUPN)); len(kai.ids) != n || n >= spec.DefaultPeopleTop ||
			!strings.HasSuffix(peopleNext(t, e, kai), "%24skip=0") {
			t.Fatalf("short list without $top: %v", kai.body)
		}
		if kai := list(t, e, tok, peoplePath(url.PathEscape(emulator.ApostropheUPN)), "$top=10", nil); peopleNext(t, e, kai) != "" {
			t.Fatalf("short list with $top: %v", kai.body)
		}
	})
	t.Run("key predicate", func(t *testing.T) {
		kai := "/v1.0/users('o''neill.kai%40contoso.example')/people?$top=2"
		r := listURL(t, e, tok, kai, nil)
		next := peopleNext(t, e, r)
		if !strings.HasPrefix(next, "/v1.0/users('o''neill.kai%40contoso.example')/people?") {
			t.Fatalf("nextLink %q", next)
		}
		want := peopleIDs(mustPeople(t, e, ti.ID, emulator.ApostropheUPN))
		if r2 := listURL(t, e, tok, next, nil); !slices.Equal(append(r.ids, r2.ids...), want[:4]) {
			t.Fatalf("pages %v %v, want %v", r.ids, r2.ids, want[:4])
		}
	})
}
