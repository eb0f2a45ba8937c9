package proxy_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

func TestMeAndUserRespectPolicy(t *testing.T) {
	e := newEnv(t)
	me := e.enabledUsers(0)[1]
	other := e.enabledUsers(0)[2]
	tok := e.token(0, "chat-web", me)

	r := e.get("/v1.0/me", tok)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /me: %d %s", r.Status, r.Body)
	}
	body := r.JSON(t)
	if body["id"] != me.ID || body["userPrincipalName"] != me.UserPrincipalName {
		t.Errorf("/me returned someone else: %v", body)
	}
	if _, ok := body["mobilePhone"]; ok {
		t.Errorf("/me holds mobilePhone, which chat-web may not see: %v", body)
	}
	if !strings.Contains(r.Header.Get("Graphgate-Withheld-Fields"), "mobilePhone") {
		t.Errorf("withheld header = %q, want it to list mobilePhone", r.Header.Get("Graphgate-Withheld-Fields"))
	}
	if !strings.HasSuffix(fmt.Sprint(body["@odata.context"]), "/v1.0/$metadata#users/$entity") {
		t.Errorf("@odata.context = %v", body["@odata.context"])
	}

	r = e.get("/v1.0/users/"+other.ID+"?$select=displayName,mail,mobilePhone,userPrincipalName", tok)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /users/{id}: %d %s", r.Status, r.Body)
	}
	got := keys(r.JSON(t))
	want := "@odata.context,displayName,id,mail"
	if got != want {
		t.Errorf("fields = %s, want %s", got, want)
	}

	// The same user by UPN, in another casing, with Graph's case-insensitive paths.
	r = e.get("/V1.0/Users/"+strings.ToUpper(other.UserPrincipalName)+"?$select=displayName", tok)
	if r.Status != http.StatusOK || r.JSON(t)["id"] != other.ID {
		t.Errorf("GET by UPN: %d %s", r.Status, r.Body)
	}
}

func TestOperationsNotAllowedAre403(t *testing.T) {
	e := newEnv(t)
	u := e.enabledUsers(0)[3]
	tok := e.token(0, "mobile", u) // mobile: me.read and photo.read only
	for _, path := range []string{"/v1.0/users", "/v1.0/users/" + e.enabledUsers(0)[4].ID, "/v1.0/me/manager", "/v1.0/me/presence"} {
		r := e.get(path, tok, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusForbidden || errorCode(t, r) != "Authorization_RequestDenied" {
			t.Errorf("%s: %d %s, want 403 Authorization_RequestDenied", path, r.Status, r.Body)
		}
	}
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Errorf("/me for mobile: %d", r.Status)
	}
}

func TestQueryOptionsMayNotReferenceHiddenFields(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	cases := []struct{ name, query string }{
		{"search hidden field", `$search="mobilePhone:555"`},
		{"filter hidden field", `$filter=startswith(mobilePhone,'+1')`},
		{"filter smuggled in or", `$filter=displayName eq 'x' or department eq 'Sales'`},
		{"orderby hidden", `$orderby=department`},
		{"expand", `$expand=manager`},
		{"unknown select", `$select=salary`},
		{"repeated option", `$top=1&$top=2`},
		{"top out of range", `$top=100000`},
		{"lambda", `$filter=businessPhones/any(p:p eq '1')`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get("/v1.0/users?"+encodeQuery(tc.query), tok, "ConsistencyLevel", "eventual")
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%s: %d %s, want 400", tc.query, r.Status, r.Body)
			}
			errorCode(t, r)
		})
	}
	before := e.emu.Count("GET /v1.0/users")
	if before != 0 {
		t.Errorf("refused queries reached Graph %d times", before)
	}
}

func TestSearchAndPaging(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	r := e.get("/v1.0/users?"+encodeQuery(`$search="displayName:a"&$top=2&$count=true&$select=displayName,mobilePhone`), tok)
	if r.Status != http.StatusBadRequest || errorCode(t, r) != "Request_UnsupportedQuery" {
		t.Fatalf("search without ConsistencyLevel: %d %s", r.Status, r.Body)
	}
	seen := map[string]bool{}
	next := "/v1.0/users?" + encodeQuery(`$search="displayName:a"&$top=2&$count=true&$select=displayName,mobilePhone`)
	for pages := 0; next != ""; pages++ {
		if pages > 30 {
			t.Fatal("paging does not end")
		}
		r = e.get(next, tok, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
		}
		body := r.JSON(t)
		for _, v := range body["value"].([]any) {
			u := v.(map[string]any)
			if got := keys(u); got != "displayName,id" {
				t.Errorf("search item fields = %s", got)
			}
			if seen[u["id"].(string)] {
				t.Errorf("user listed twice across pages")
			}
			seen[u["id"].(string)] = true
		}
		next = ""
		if link, ok := body["@odata.nextLink"].(string); ok {
			if !strings.HasPrefix(link, e.url+"/v1.0/users?") {
				t.Fatalf("nextLink does not point back at the gateway: %s", link)
			}
			next = strings.TrimPrefix(link, e.url)
		}
	}
	if len(seen) < 3 {
		t.Errorf("search found %d users across pages, want more than one page", len(seen))
	}
	for _, u := range e.tenant(0).Users {
		if !u.AccountEnabled && seen[u.ID] {
			t.Errorf("deactivated user listed in search")
		}
	}
}

func TestDeactivatedAccountsVanish(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	d := e.disabledUser(0)
	for _, path := range []string{"/v1.0/users/" + d.ID, "/v1.0/users/" + d.UserPrincipalName, "/v1.0/users/" + d.ID + "/presence", "/v1.0/users/" + d.ID + "/manager"} {
		if r := e.get(path, tok); r.Status != http.StatusNotFound || errorCode(t, r) != "Request_ResourceNotFound" {
			t.Errorf("%s: %d %s, want 404", strings.Replace(path, d.ID, "{id}", 1), r.Status, r.Body)
		}
	}
	r := e.get("/v1.0/users/"+d.ID+"/photos/96x96/$value", tok)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("photo of deactivated user: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil || img.Bounds().Dx() != 96 {
		t.Fatalf("initials avatar is not a 96px PNG: %v", err)
	}
	// Nobody lists the deactivated user: not search, not a filter on id, not an org chart.
	r = e.get("/v1.0/users?"+encodeQuery("$filter=id in ('"+d.ID+"')"), tok)
	if r.Status != http.StatusOK || len(r.JSON(t)["value"].([]any)) != 0 {
		t.Errorf("filter by id of a deactivated user: %d %s", r.Status, r.Body)
	}
	for _, u := range e.enabledUsers(0) {
		r := e.get("/v1.0/users/"+u.ID+"/directReports", tok)
		if r.Status == http.StatusOK && strings.Contains(string(r.Body), d.ID) {
			t.Errorf("deactivated user appears in direct reports")
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	foreign := e.enabledUsers(1)[0]
	for _, path := range []string{"/v1.0/users/" + foreign.ID, "/v1.0/users/" + foreign.UserPrincipalName, "/v1.0/users/" + foreign.ID + "/photo/$value"} {
		if r := e.get(path, tok); r.Status != http.StatusNotFound {
			t.Errorf("contoso caller read a fabrikam user: %d %s", r.Status, r.Body)
		}
	}
	// The fabrikam user can read themself through the same gateway.
	if r := e.get("/v1.0/me", e.token(1, "chat-web", foreign)); r.Status != http.StatusOK {
		t.Errorf("fabrikam /me: %d %s", r.Status, r.Body)
	}
}

func TestPhotos(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	withPhoto, without := 0, 0
	for _, u := range e.enabledUsers(0)[:20] {
		r := e.get("/v1.0/users/"+u.ID+"/photos/48x48/$value", tok)
		switch r.Status {
		case http.StatusOK:
			withPhoto++
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
				t.Errorf("photo content type %q", r.Header.Get("Content-Type"))
			}
		case http.StatusNotFound:
			without++
			if errorCode(t, r) != "ImageNotFound" {
				t.Errorf("no photo: %s", r.Body)
			}
		default:
			t.Fatalf("photo: %d %s", r.Status, r.Body)
		}
	}
	if withPhoto == 0 || without == 0 {
		t.Errorf("photos %d, none %d: the fixture should have both", withPhoto, without)
	}
	if r := e.get("/v1.0/me/photos/49x49/$value", tok); r.Status != http.StatusBadRequest {
		t.Errorf("odd size: %d", r.Status)
	}
}

func TestMalformedInputIsAClearError(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	cases := []struct {
		method, path string
		body         any
		want         int
	}{
		// Keys no user can have: Graph's 404 for an unknown user, without asking Graph.
		{"GET", "/v1.0/users/not a user", nil, 404},
		{"GET", "/v1.0/users/..%2F..%2Fetc", nil, 404},
		{"GET", "/v1.0/users/a%27%20or%201=1", nil, 404},
		{"GET", "/v1.0/users/" + strings.Repeat("a", 500) + "@x.example", nil, 404},
		// A segment Graph does not know: Graph's 400.
		{"GET", "/v1.0/nothing", nil, 400},
		{"DELETE", "/v1.0/me", nil, 405},
		{"POST", "/v1.0/$batch", map[string]any{"requests": "x"}, 400},
		{"POST", "/v1.0/communications/getPresencesByUserId", map[string]any{"ids": []string{"x"}}, 400},
	}
	for _, tc := range cases {
		r := e.do(tc.method, tc.path, tok, tc.body)
		if r.Status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
			continue
		}
		errorCode(t, r)
	}
}

// keys lists a JSON object's keys, sorted, comma-separated.
func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// encodeQuery percent-encodes a human-written query string's values.
func encodeQuery(q string) string {
	var parts []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, k+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}
