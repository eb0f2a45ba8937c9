package proxy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy"
)

// keySpellings writes a user's keys the ways real clients send them: the object id and
// the UPN, each as a segment (percent-encoded as a client's URL builder does) and in
// parentheses, and the UPN with only "%" and "#" encoded, as typed into a script. ok is false
// for spellings Graph refuses: a UPN starting with "$" written as a plain segment.
func keySpellings(u emulator.UserInfo) []struct {
	name, key string
	ok        bool
} {
	upn := u.UserPrincipalName
	quoted := strings.TrimSuffix(strings.TrimPrefix(spec.KeyInParentheses(upn), "('"), "')")
	plainOK := !strings.HasPrefix(upn, "$")
	return []struct {
		name, key string
		ok        bool
	}{
		{"id", "/" + u.ID, true},
		{"id in parentheses", "('" + u.ID + "')", true},
		{"upn escaped", "/" + url.PathEscape(upn), plainOK},
		{"upn with only % and # encoded", "/" + strings.NewReplacer("%", "%25", "#", "%23").Replace(upn), plainOK},
		{"upn in parentheses", "('" + quoted + "')", true},
		{"upn in encoded parentheses", "%28%27" + quoted + "%27%29", true},
	}
}

// keyInParentheses writes a user key as Graph's key-in-parentheses segment suffix,
// "('key')" with quotes doubled and the rest percent-encoded: the form that addresses
// every UPN, including one starting with "$".
func keyInParentheses(key string) string { return spec.KeyInParentheses(key) }

// unusualUsers returns the enabled users of contoso whose UPN holds a character that
// needs care in a URL: a guest's #EXT#, a leading $, a quote, +, & and %.
func unusualUsers(t *testing.T, e *env) []emulator.UserInfo {
	t.Helper()
	var out []emulator.UserInfo
	found := map[string]bool{}
	for _, u := range e.enabledUsers(0) {
		for _, mark := range []string{"#EXT#", "$", "'", "+", "&", "%"} {
			if strings.Contains(u.UserPrincipalName, mark) && !found[mark] {
				found[mark] = true
				out = append(out, u)
				break
			}
		}
	}
	if len(found) != 6 {
		t.Fatalf("the fixture lacks users with some unusual UPNs: found %v", found)
	}
	return out
}

// TestUserKeySpellingsDirectAndInBatch sends every key spelling of unusual users to every
// route that takes a user, directly and as $batch items, and holds each answer to the
// answer by object id: the same status and the same body. The spelling Graph refuses
// gets Graph's refusal, without asking Graph.
func TestUserKeySpellingsDirectAndInBatch(t *testing.T) {
	e := newEnv(t)
	caller := e.enabledUsers(0)[0]
	tok := e.token(0, "intranet-directory", caller)
	routes := []string{"", "/manager", "/directReports", "/photo/$value", "/presence", "?$select=displayName,jobTitle"}
	for _, u := range unusualUsers(t, e) {
		for _, route := range routes {
			base := e.get("/v1.0/users/"+u.ID+route, tok)
			if (route == "" || strings.HasPrefix(route, "?") || route == "/presence") && base.Status != http.StatusOK {
				t.Fatalf("%s by id: %d %s", route, base.Status, base.Body)
			}
			for _, sp := range keySpellings(u) {
				path := "/v1.0/users" + sp.key + route
				t.Run(sp.name+route, func(t *testing.T) {
					got := e.get(path, tok)
					item := e.batchItem(tok, strings.TrimPrefix(path, "/v1.0"))
					if !sp.ok {
						for _, r := range []response{got, item} {
							if r.Status != http.StatusBadRequest || errorCode(t, r) != "BadRequest" || !strings.Contains(string(r.Body), "refers to a collection") {
								t.Fatalf("%s: %d %s; want Graph's 400 for a $ key outside parentheses", path, r.Status, r.Body)
							}
						}
						return
					}
					if got.Status != base.Status || !sameBody(got.Body, base.Body) {
						t.Fatalf("%s: %d %.300q\nby id: %d %.300q", path, got.Status, got.Body, base.Status, base.Body)
					}
					if item.Status != base.Status || !sameBody(item.Body, base.Body) {
						t.Fatalf("%s in $batch: %d %.300q\nby id: %d %.300q", path, item.Status, item.Body, base.Status, base.Body)
					}
				})
			}
		}
	}
}

// sameBody compares two answers: JSON bodies without their per-request members
// (innerError's ids and date), other bodies byte for byte.
func sameBody(a, b []byte) bool {
	var ja, jb any
	if json.Unmarshal(a, &ja) != nil || json.Unmarshal(b, &jb) != nil {
		return bytes.Equal(a, b)
	}
	strip(ja)
	strip(jb)
	x, _ := json.Marshal(ja)
	y, _ := json.Marshal(jb)
	return bytes.Equal(x, y)
}

func strip(v any) {
	if m, ok := v.(map[string]any); ok {
		if er, ok := m["error"].(map[string]any); ok {
			delete(er, "innerError")
		}
	}
}

// batchItem sends one GET as the only item of a $batch, with the given item headers
// (name, value pairs), and returns the item's answer as a response (a JSON body as
// sent, an image decoded from base64, text unquoted).
func (e *env) batchItem(tok, rel string, headers ...string) response {
	e.t.Helper()
	itemHeaders := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		itemHeaders[headers[i]] = headers[i+1]
	}
	r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": rel, "headers": itemHeaders}}})
	if r.Status != http.StatusOK {
		e.t.Fatalf("$batch: %d %s", r.Status, r.Body)
	}
	var out struct {
		Responses []struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || len(out.Responses) != 1 {
		e.t.Fatalf("$batch answer: %v %s", err, r.Body)
	}
	it := out.Responses[0]
	body := []byte(it.Body)
	switch ct := it.Headers["Content-Type"]; {
	case strings.HasPrefix(ct, "image/"):
		var s []byte
		if err := json.Unmarshal(it.Body, &s); err != nil { // base64 string
			e.t.Fatalf("image item: %v", err)
		}
		body = s
	case strings.HasPrefix(ct, "text/"):
		var s string
		if err := json.Unmarshal(it.Body, &s); err != nil {
			e.t.Fatalf("text item: %v", err)
		}
		body = []byte(s)
	}
	h := http.Header{}
	for k, v := range it.Headers {
		h.Set(k, v)
	}
	return response{Status: it.Status, Header: h, Body: body}
}

// TestGuestOnAdminAPI: a guest's UPN works on the admin API as on the read API.
func TestGuestOnAdminAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.token(0, "chat-web", e.withRole(0, proxy.RoleAdmin))
	var guest emulator.UserInfo
	for _, u := range unusualUsers(t, e) {
		if strings.Contains(u.UserPrincipalName, "#EXT#") {
			guest = u
		}
	}
	a := decodeLogout(t, e.logout(admin, strings.ReplaceAll(guest.UserPrincipalName, "#", "%23")))
	if a.Status != "revoked" {
		t.Fatalf("logout of a guest: %+v", a)
	}
	r := e.get("/v1.0/me", e.mint(0, "chat-web", guest, time.Time{}))
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("the guest's token after logout: %d %s", r.Status, r.Body)
	}
}

// TestCountSegments: /users/$count and {user}/directReports/$count answer text/plain
// with ConsistencyLevel: eventual, count only enabled accounts and what the caller may
// filter on, and answer Graph's error without the header; in $batch too.
func TestCountSegments(t *testing.T) {
	e := newEnv(t)
	caller := e.enabledUsers(0)[0]
	tok := e.token(0, "intranet-directory", caller)
	eventual := []string{"ConsistencyLevel", "eventual"}

	for _, r := range []response{e.get("/v1.0/users/$count", tok, eventual...), e.batchItem(tok, "/users/$count", eventual...)} {
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/users/$count: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		if n, err := strconv.Atoi(string(r.Body)); err != nil || n != len(e.enabledUsers(0)) {
			t.Fatalf("/users/$count = %q; want %d enabled users", r.Body, len(e.enabledUsers(0)))
		}
	}
	r := e.get("/v1.0/users/%24count?$filter="+url.QueryEscape("startswith(displayName,'A')"), tok, eventual...)
	want := 0
	for _, info := range e.enabledUsers(0) {
		if u, _ := e.emu.User(e.tenant(0).ID, info.ID); strings.HasPrefix(strings.ToLower(u.DisplayName), "a") {
			want++
		}
	}
	if r.Status != http.StatusOK || string(r.Body) != strconv.Itoa(want) {
		t.Fatalf("filtered $count: %d %s; want %d", r.Status, r.Body, want)
	}
	for _, path := range []string{"/v1.0/users/$count", "/v1.0/me/directReports/$count"} {
		if r := e.get(path, tok); r.Status != http.StatusBadRequest || errorCode(t, r) != "Request_BadRequest" {
			t.Errorf("%s without ConsistencyLevel: %d %s", path, r.Status, r.Body)
		}
	}
	// A filter on a field the caller may not see is refused, as on the list.
	r = e.get("/v1.0/users/$count?$filter="+url.QueryEscape("mobilePhone eq '1'"), tok, eventual...)
	if r.Status != http.StatusBadRequest {
		t.Errorf("$count filtered on a hidden field: %d %s", r.Status, r.Body)
	}

	mgr := managerWithReports(t, e)
	mtok := e.token(0, "intranet-directory", mgr)
	reports := e.get("/v1.0/me/directReports", mtok).JSON(t)["value"].([]any)
	r = e.get("/v1.0/me/directReports/$count", mtok, eventual...)
	if r.Status != http.StatusOK || string(r.Body) != strconv.Itoa(len(reports)) {
		t.Fatalf("directReports/$count: %d %s; want %d", r.Status, r.Body, len(reports))
	}
	r = e.get("/v1.0/users/"+mgr.ID+"/directReports/microsoft.graph.user/$count", tok, eventual...)
	if r.Status != http.StatusOK || string(r.Body) != strconv.Itoa(len(reports)) {
		t.Fatalf("directReports cast $count: %d %s; want %d", r.Status, r.Body, len(reports))
	}
}

// managerWithReports returns an enabled contoso user with at least two enabled reports.
func managerWithReports(t *testing.T, e *env) emulator.UserInfo {
	t.Helper()
	n := map[string]int{}
	for _, info := range e.enabledUsers(0) {
		u, _ := e.emu.User(e.tenant(0).ID, info.ID)
		n[u.ManagerID]++
	}
	for _, u := range e.enabledUsers(0) {
		if n[u.ID] >= 2 {
			return u
		}
	}
	t.Fatal("no manager with reports")
	return emulator.UserInfo{}
}

// TestPathsGraphDoesNotServeOrGatewayDoesNotOffer: an unknown segment gets Graph's 400,
// a Graph resource graphgate does not serve a 404 that says so, neither blaming Graph.
func TestPathsGraphDoesNotServeOrGatewayDoesNotOffer(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1.0/frobnicate", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/frobnicate", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/me/messages", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/groups", http.StatusNotFound, "Request_ResourceNotFound"},
		{"/v1.0/users('unterminated", http.StatusBadRequest, "BadRequest"},
		{"/v1.0/users/not-a-user-key", http.StatusNotFound, "Request_ResourceNotFound"},
	} {
		for _, r := range []response{e.get(tc.path, tok), e.batchItem(tok, strings.TrimPrefix(tc.path, "/v1.0"))} {
			if r.Status != tc.status || errorCode(t, r) != tc.code || strings.Contains(string(r.Body), "Microsoft Graph rejected") {
				t.Errorf("%s: %d %s; want %d %s", tc.path, r.Status, r.Body, tc.status, tc.code)
			}
		}
	}
}

// TestDirectReportsPagesAndCounts: $top pages a user's direct reports with an
// @odata.nextLink that gives the rest, by any key spelling; $count=true counts them on
// the first page (with ConsistencyLevel: eventual); a foreign $skiptoken is refused.
func TestDirectReportsPagesAndCounts(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	mgr := managerWithReports(t, e)
	all := e.get("/v1.0/users/"+mgr.ID+"/directReports?$select=displayName", tok).JSON(t)["value"].([]any)
	for _, first := range []string{
		"/v1.0/users/" + mgr.ID + "/directReports?$top=1&$select=displayName&$count=true",
		"/v1.0/users" + keyInParentheses(mgr.UserPrincipalName) + "/directReports?$top=1&$select=displayName&$count=true",
	} {
		var got []any
		next, pages := e.url+first, 0
		for next != "" && pages <= len(all) {
			r := e.get(strings.TrimPrefix(next, e.url), tok, "ConsistencyLevel", "eventual")
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", next, r.Status, r.Body)
			}
			m := r.JSON(t)
			if c, ok := m["@odata.count"]; (pages == 0) != ok || ok && int(c.(float64)) != len(all) {
				t.Fatalf("page %d: @odata.count %v, want %d on the first page only", pages, c, len(all))
			}
			got = append(got, m["value"].([]any)...)
			next, _ = m["@odata.nextLink"].(string)
			pages++
		}
		if pages != len(all) || !sameBody(mustJSON(t, got), mustJSON(t, all)) {
			t.Fatalf("%s: %d pages gave %v, want %v", first, pages, got, all)
		}
	}
	r := e.get("/v1.0/users/"+mgr.ID+"/directReports?$skiptoken=999999", tok)
	if r.Status != http.StatusBadRequest || errorCode(t, r) != "Request_UnsupportedQuery" {
		t.Fatalf("foreign $skiptoken: %d %s", r.Status, r.Body)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGrammarRefusalsMatchTheEmulator holds the gateway's local refusals to the
// emulator's, which follows Graph: the same malformed URL gets the same status, code and
// message from both, so graphgate's copy of Graph's answer cannot drift.
func TestGrammarRefusalsMatchTheEmulator(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	ti := e.tenant(0)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ti.GatewayAppID},
		"client_secret": {ti.GatewayClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := e.emu.HTTPClient().PostForm(e.emu.URL()+"/"+ti.ID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if err != nil || tr.AccessToken == "" {
		t.Fatalf("app token: %v", err)
	}
	type answer struct {
		Status        int
		Code, Message string
	}
	read := func(status int, body []byte) answer {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(body, &env)
		return answer{status, env.Error.Code, env.Error.Message}
	}
	for _, path := range []string{
		"/v1.0/users/$reception@contoso.example",
		"/v1.0/users/%24reception@contoso.example/manager",
		"/v1.0/users('adele@contoso.example",
		"/v1.0/users(adele@contoso.example)",
		"/v1.0/users('o'neill.kai@contoso.example')",
		"/v1.0/users/$count",
	} {
		req, _ := http.NewRequest(http.MethodGet, e.emu.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := e.emu.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		graph := read(resp.StatusCode, b.Bytes())
		gw := e.get(path, tok)
		if got := read(gw.Status, gw.Body); got != graph || got.Status < 400 {
			t.Errorf("%s: gateway %+v, emulator (Graph) %+v", path, got, graph)
		}
	}
}
