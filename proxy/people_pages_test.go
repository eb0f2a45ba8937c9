package proxy_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// pagedPeople follows @odata.nextLink from path's first page and returns the ids of
// each page.
func pagedPeople(t *testing.T, e *env, path, tok string) [][]string {
	t.Helper()
	var pages [][]string
	for next := path; next != ""; {
		a, err := fetchPeople(e.url, next, tok)
		if err != nil || a.status != http.StatusOK {
			t.Fatalf("%s: %d %s (%v)", next, a.status, a.body, err)
		}
		pages = append(pages, idsOf(a.people))
		next = a.next
		if len(pages) > 200 {
			t.Fatalf("%s: more than 200 pages", path)
		}
	}
	return pages
}

// TestPeoplePagesHaveNoGaps: with $top=k, a people list's pages hold k people each until
// the last, which has no @odata.nextLink and is not empty (unless the list is), and they
// concatenate to the unpaged list, as do the pages asked for with $skip: the contacts,
// outside people and deactivated colleagues graphgate drops leave no gap and no short
// page that would show where someone was left out. Checked on /me/people, on a search
// that Graph answers with a deactivated user, and on another user's list (limited to
// their org-chart relations).
func TestPeoplePagesHaveNoGaps(t *testing.T) {
	r := newRecordedEnv(t, "")
	e := r.env
	search := "$search=" + url.QueryEscape(`"`+broadSearch(t, r)+`"`)
	dropped, listed := 0, map[string]int{}
	for ti := range e.dir.Tenants {
		tn := e.tenant(ti)
		enabled := e.enabledUsers(ti)
		for _, owner := range []int{0, 1, 4, 9, 10, len(enabled) - 1} {
			u := enabled[owner]
			ranked, _ := e.emu.People(tn.ID, u.ID)
			want, _ := rankedUsers(e.emu, tn.ID, u.ID)
			dropped += len(ranked) - len(want)
			cases := []struct{ kind, client, path string }{
				{"own", "chat-web", "/v1.0/me/people?"},
				{"search", "chat-web", "/v1.0/me/people?" + search + "&"},
				{"another user's", "intranet-directory", "/v1.0/users/" + enabled[(owner+3)%len(enabled)].ID + "/people?"},
			}
			for _, c := range cases {
				tok := mustMint(e, tn, c.client, u.ID)
				full := pagedPeople(t, e, c.path+"$top=100", tok)
				if len(full) != 1 {
					t.Fatalf("%s: %d pages of 100", c.path, len(full))
				}
				listed[c.kind] += len(full[0])
				if c.kind == "own" && !slices.Equal(full[0], want[:min(len(want), 100)]) {
					t.Errorf("%s user %d: people %v, want %v", tn.Domain, owner, full[0], want)
				}
				for _, k := range []int{1, 2, 3, 4, 7} {
					checkPages(t, e, fmt.Sprintf("%s user %d %s$top=%d", tn.Domain, owner, c.path, k), c.path, tok, k, full[0])
				}
			}
		}
	}
	if dropped < 40 || len(listed) != 3 || slices.Min(slices.Collect(maps.Values(listed))) < 30 {
		t.Errorf("vacuous: %d people dropped from the owners' lists; people listed by kind: %v", dropped, listed)
	}
}

// checkPages pages through path with $top=k, by nextLink and by $skip, against full.
func checkPages(t *testing.T, e *env, name, path, tok string, k int, full []string) {
	t.Helper()
	pages := pagedPeople(t, e, fmt.Sprintf("%s$top=%d", path, k), tok)
	var all []string
	for i, p := range pages {
		last := i == len(pages)-1
		if (!last && len(p) != k) || (last && len(full) > 0 && (len(p) == 0 || len(p) > k)) {
			t.Errorf("%s: page %d of %d holds %d people", name, i+1, len(pages), len(p))
		}
		all = append(all, p...)
		a, err := fetchPeople(e.url, fmt.Sprintf("%s$top=%d&$skip=%d", path, k, i*k), tok)
		if err != nil || !slices.Equal(idsOf(a.people), p) {
			t.Errorf("%s: $skip=%d gives %v, the nextLink's page %v (%v)", name, i*k, idsOf(a.people), p, err)
		}
		if want := !last; (a.next != "") != want {
			t.Errorf("%s: $skip=%d: nextLink %q", name, i*k, a.next)
		}
	}
	if !slices.Equal(all, full) {
		t.Errorf("%s: pages concatenate to %v, want %v", name, all, full)
	}
}

// broadSearch returns the initial of a deactivated contoso user's name by which Graph
// finds the most people, the deactivated user among them.
func broadSearch(t *testing.T, r *recordedEnv) string {
	t.Helper()
	tn, owner := r.tenant(0), r.enabledUsers(0)[0]
	best, most := "", 0
	for _, info := range tn.Users {
		gone, _ := r.emu.User(tn.ID, info.ID)
		for _, w := range strings.Fields(gone.DisplayName) {
			text := string([]rune(w)[:1])
			ids, err := r.ups[tn.ID].People(context.Background(), owner.ID, text, true, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !gone.AccountEnabled && slices.Contains(ids, strings.ToLower(gone.ID)) && len(ids) > most {
				best, most = text, len(ids)
			}
		}
	}
	if most < 5 {
		t.Fatalf("fixture: Graph finds no deactivated user among 5 people by an initial")
	}
	return best
}
