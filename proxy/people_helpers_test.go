package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// Helpers of the People API tests (people_sweep_test.go, people_privacy_test.go,
// people_pages_test.go, people_cache_test.go): safe to use from any goroutine unless
// they take a *testing.T.

// foldText is how a person types a name: lower case, without accents.
func foldText(s string) string {
	s = strings.NewReplacer("ø", "o", "æ", "ae", "œ", "oe", "ß", "ss", "đ", "d", "ł", "l").Replace(strings.ToLower(s))
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// visiblyMatches reports whether a people search text finds u by a property the app may
// see of others: a name, or a word of it, or an address starting with the text.
func visiblyMatches(u emulator.User, text string, others map[string]bool) bool {
	text = foldText(text)
	for _, f := range searchable {
		v := foldText(userValue(u, f))
		if !others[f] || v == "" {
			continue
		}
		if strings.HasPrefix(v, text) {
			return true
		}
		isSep := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
		if f != "mail" && f != "userPrincipalName" && slices.ContainsFunc(strings.FieldsFunc(v, isSep),
			func(w string) bool { return strings.HasPrefix(w, text) }) {
			return true
		}
	}
	return false
}

// rankedUsers is the emulator's ranking of owner's relevant people without contacts
// and deactivated accounts: what /me/people must list, in order. A guest has no mailbox,
// and Graph answers its People API 404 (graph/emulator/people.go): nobody, although
// Emulator.People ranks people for guests too.
func rankedUsers(emu *emulator.Emulator, tenantID, owner string) ([]string, error) {
	if o, ok := emu.User(tenantID, owner); ok && o.UserType == "Guest" {
		return nil, nil
	}
	ranked, err := emu.People(tenantID, owner)
	var ids []string
	for _, p := range ranked {
		if u, ok := emu.User(tenantID, p.ID); ok && u.AccountEnabled && p.Subclass == spec.PersonOrganizationUser {
			ids = append(ids, strings.ToLower(u.ID))
		}
	}
	return ids, err
}

// peopleAnswer is a people list response, decoded.
type peopleAnswer struct {
	status   int
	withheld []string
	people   []map[string]any
	next     string // @odata.nextLink's path and query
	body     []byte
}

// gatewayDo sends a request to the gateway at base with tok and headers (name, value
// pairs), from any goroutine.
func gatewayDo(base, method, path, tok string, body []byte, headers ...string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// fetchPeople sends GET path to the gateway with tok and decodes the people answer.
func fetchPeople(base, path, tok string, headers ...string) (peopleAnswer, error) {
	status, h, b, err := gatewayDo(base, http.MethodGet, path, tok, nil, headers...)
	if err != nil {
		return peopleAnswer{}, err
	}
	return decodePeople(status, h, b)
}

// decodePeople decodes a people answer.
func decodePeople(status int, h http.Header, b []byte) (peopleAnswer, error) {
	a := peopleAnswer{status: status, body: b}
	if w := h.Get("Graphgate-Withheld-Fields"); w != "" {
		a.withheld = strings.Split(w, ",")
		slices.Sort(a.withheld)
	}
	if a.status != http.StatusOK {
		return a, nil
	}
	var body struct {
		Value []map[string]any `json:"value"`
		Next  string           `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		return a, err
	}
	a.people = body.Value
	if body.Next != "" {
		u, err := url.Parse(body.Next)
		if err != nil {
			return a, err
		}
		a.next = u.RequestURI()
	}
	return a, nil
}

// idsOf lists the (lower-case) ids of people.
func idsOf(people []map[string]any) []string {
	out := make([]string, 0, len(people))
	for _, p := range people {
		id, _ := p["id"].(string)
		out = append(out, strings.ToLower(id))
	}
	return out
}

// envWithPolicy starts the emulator and a gateway with the policy file at path.
func envWithPolicy(t *testing.T, path string) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	pol, err := proxytest.PolicyFile(path, emu.Directory())
	if err != nil {
		t.Fatal(err)
	}
	return envOf(t, proxytest.New(t, proxytest.Options{Emulator: emu, Policy: pol}))
}

// enabledOf lists the enabled users of a tenant.
func enabledOf(tn emulator.TenantInfo) []emulator.UserInfo {
	var out []emulator.UserInfo
	for _, u := range tn.Users {
		if u.AccountEnabled {
			out = append(out, u)
		}
	}
	return out
}

// mustMint mints a token of a client app (by name) for a user of tn.
func mustMint(e *env, tn emulator.TenantInfo, client, userID string) string {
	e.t.Helper()
	for _, c := range tn.Clients {
		if c.Name == client {
			tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: tn.ID, ClientID: c.ID, UserID: userID})
			if err != nil {
				e.t.Fatal(err)
			}
			return tok
		}
	}
	e.t.Fatalf("no client app %q", client)
	return ""
}
