package emulator_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// emulatorEdgeUPNs are contoso's edge-case users, in directory order after the
// generated users.
var emulatorEdgeUPNs = []string{emulator.GuestUPN, emulator.DollarUPN, emulator.ApostropheUPN,
	emulator.PlusUPN, emulator.AmpPercentUPN, emulator.PercentUPN}

// Graph's refusals of a user key (keys.go).
const (
	msgCollectionSegment = "The request URI is not valid. Since the segment 'users' refers to a collection, this must be the last segment in the request URI or it must be followed by an function or action that can be bound to it otherwise all intermediate segments must refer to a single resource."
	msgQuerySyntax       = "Bad Request - Error in query syntax."
)

// pctAll percent-encodes every byte but ASCII letters, digits, '.', '-' and '_'.
func pctAll(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// pctMin encodes only what a URL path cannot carry literally: '#' and '%'.
func pctMin(s string) string {
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(s)
}

// keyForm is one spelling of a user key after /v1.0/.
type keyForm struct {
	name    string
	path    func(id, upn string) string
	refused func(upn string) bool // Graph refuses the spelling for this UPN
	byID    bool
}

var keyForms = []keyForm{
	{"id", func(id, _ string) string { return "users/" + id }, nil, true},
	{"id in parentheses", func(id, _ string) string { return "users('" + id + "')" }, nil, true},
	{"id in encoded parentheses", func(id, _ string) string { return "users" + pctAll("('"+id+"')") }, nil, true},
	{"upn", func(_, upn string) string { return "users/" + pctMin(upn) }, dollar, false},
	{"upn encoded", func(_, upn string) string { return "users/" + pctAll(upn) }, dollar, false},
	{"upn in parentheses", func(_, upn string) string {
		return "users('" + pctMin(strings.ReplaceAll(upn, "'", "''")) + "')"
	}, nil, false},
	{"upn in encoded parentheses", func(_, upn string) string {
		return "users(" + pctAll("'"+strings.ReplaceAll(upn, "'", "''")+"'") + ")"
	}, nil, false},
}

func dollar(upn string) bool { return strings.HasPrefix(upn, "$") }

// keyRoute is one /users/{key}/... route, with what it answers for a found user.
type keyRoute struct {
	name, method, suffix string
	check                func(t *testing.T, u emulator.User, byID bool, status int, body []byte)
}

var keyRoutes = []keyRoute{
	{"user", "GET", "?$select=id,userPrincipalName", func(t *testing.T, u emulator.User, _ bool, st int, b []byte) {
		var m map[string]any
		if st != 200 || json.Unmarshal(b, &m) != nil || m["id"] != u.ID || m["userPrincipalName"] != u.UserPrincipalName {
			t.Fatalf("got %d %s", st, b)
		}
	}},
	{"manager", "GET", "/manager?$select=id", func(t *testing.T, u emulator.User, _ bool, st int, b []byte) {
		if st != 200 || !strings.Contains(string(b), `"id":"`+u.ManagerID+`"`) {
			t.Fatalf("got %d %s", st, b)
		}
	}},
	{"directReports", "GET", "/directReports?$select=id", okStatus(200)},
	{"photo", "GET", "/photo", photoStatus},
	{"photo value", "GET", "/photos/48x48/$value", photoStatus},
	{"photos", "GET", "/photos", okStatus(200)},
	{"presence", "GET", "/presence", func(t *testing.T, _ emulator.User, byID bool, st int, b []byte) {
		if want := map[bool]int{true: 200, false: 400}[byID]; st != want { // presence takes object ids only
			t.Fatalf("got %d %s, want %d", st, b, want)
		}
	}},
	{"revokeSignInSessions", "POST", "/revokeSignInSessions", func(t *testing.T, _ emulator.User, _ bool, st int, b []byte) {
		if st != 200 && st != 204 {
			t.Fatalf("got %d %s", st, b)
		}
	}},
}

func okStatus(want int) func(*testing.T, emulator.User, bool, int, []byte) {
	return func(t *testing.T, _ emulator.User, _ bool, st int, b []byte) {
		if st != want {
			t.Fatalf("got %d %s, want %d", st, b, want)
		}
	}
}

// photoStatus expects the photo, or a photo 404 (not the user's) for users without one.
func photoStatus(t *testing.T, u emulator.User, _ bool, st int, b []byte) {
	if u.HasPhoto && st == 200 || !u.HasPhoto && st == 404 && !strings.Contains(string(b), "Request_ResourceNotFound") {
		return
	}
	t.Fatalf("got %d %s (hasPhoto %v)", st, b, u.HasPhoto)
}

// checkRefusal asserts Graph's 400 for a refused key spelling.
func checkRefusal(t *testing.T, st int, b []byte, msg string) {
	t.Helper()
	var m map[string]any
	if st != 400 || json.Unmarshal(b, &m) != nil || errCode(m) != "BadRequest" || m["error"].(map[string]any)["message"] != msg {
		t.Fatalf("got %d %s, want 400 BadRequest %q", st, b, msg)
	}
}

// TestUserKeyForms sends every key spelling of every edge-case user (and one generated
// user) to every /users/{key} route, directly and as a $batch item.
func TestUserKeyForms(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	upns := append([]string{ti.Users[5].UserPrincipalName}, emulatorEdgeUPNs...)
	for _, upn := range upns {
		u, ok := e.User(ti.ID, upn)
		if !ok {
			t.Fatalf("fixture %q missing", upn)
		}
		for _, f := range keyForms {
			refused := f.refused != nil && f.refused(upn)
			for _, rt := range keyRoutes {
				path := f.path(u.ID, upn) + rt.suffix
				check := func(t *testing.T, st int, b []byte) {
					if refused {
						checkRefusal(t, st, b, msgCollectionSegment)
						return
					}
					rt.check(t, u, f.byID, st, b)
				}
				t.Run(upn+"/"+f.name+"/"+rt.name, func(t *testing.T) {
					resp, b := do(t, e, rt.method, "/v1.0/"+path, tok, nil, nil)
					check(t, resp.StatusCode, b)
				})
				t.Run(upn+"/"+f.name+"/"+rt.name+"/batch", func(t *testing.T) {
					item := map[string]any{"id": "1", "method": rt.method, "url": path}
					if rt.method == "POST" { // Graph's batch rule for write requests
						item["body"], item["headers"] = map[string]any{}, map[string]string{"Content-Type": "application/json"}
					}
					st, br, raw := postBatch(t, e, tok, []map[string]any{item}, false)
					if st != 200 || len(br.Responses) != 1 {
						t.Fatalf("batch %d %s", st, raw)
					}
					check(t, br.Responses[0].Status, br.Responses[0].Body)
				})
			}
		}
	}
}

// TestUserKeyRefusals checks Graph's answers to key spellings it refuses or cannot
// resolve, directly and as $batch items.
func TestUserKeyRefusals(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	guest, _ := e.User(ti.ID, emulator.GuestUPN)
	notFound := func(key string) string {
		return "Resource '" + key + "' does not exist or one of its queried reference-property objects are not present."
	}
	tests := []struct {
		name, path string
		status     int
		code, msg  string
	}{
		{"dollar segment", "users/$reception@contoso.example", 400, "BadRequest", msgCollectionSegment},
		{"dollar segment encoded", "users/%24reception@contoso.example/manager", 400, "BadRequest", msgCollectionSegment},
		{"unknown dollar segment", "users/$x@y", 400, "BadRequest", msgCollectionSegment},
		{"count segment not last", "users/$count/manager", 400, "BadRequest", msgCollectionSegment},
		{"unterminated literal", "users('abc", 400, "BadRequest", msgQuerySyntax},
		{"unquoted key", "users(abc)", 400, "BadRequest", msgQuerySyntax},
		{"unquoted guid", "users(" + guest.ID + ")", 400, "BadRequest", msgQuerySyntax},
		{"lone quote inside", "users('o'neill.kai@contoso.example')", 400, "BadRequest", msgQuerySyntax},
		{"missing closing quote", "users('abc)/manager", 400, "BadRequest", msgQuerySyntax},
		{"single quote", "users(')", 400, "BadRequest", msgQuerySyntax},
		{"odd quotes", "users(''')", 400, "BadRequest", msgQuerySyntax},
		{"unknown upn", "users/nobody@contoso.example", 404, "Request_ResourceNotFound", notFound("nobody@contoso.example")},
		{"unknown key in parentheses", "users('o''nobody@contoso.example')", 404, "Request_ResourceNotFound", notFound("o'nobody@contoso.example")},
		{"count as a key", "users('$count')", 404, "Request_ResourceNotFound", notFound("$count")},
		{"guest by mail", "users/gwen@partner.example", 404, "Request_ResourceNotFound", notFound("gwen@partner.example")},
		{"plus decoded as a space", "users/mara%20events@contoso.example", 404, "Request_ResourceNotFound", notFound("mara events@contoso.example")},
		{"percent decoded twice", "users/r%26dAlab@contoso.example", 404, "Request_ResourceNotFound", notFound("r&dAlab@contoso.example")},
		{"percent-plus decoded twice", "users/uma%2Bops@contoso.example", 404, "Request_ResourceNotFound", notFound("uma+ops@contoso.example")},
		{"unknown segment after a key", "users('" + guest.ID + "')/shoeSize", 400, "BadRequest", "Resource not found for the segment 'shoeSize'."},
	}
	for _, tc := range tests {
		check := func(t *testing.T, st int, b []byte) {
			var m map[string]any
			if st != tc.status || json.Unmarshal(b, &m) != nil || errCode(m) != tc.code || m["error"].(map[string]any)["message"] != tc.msg {
				t.Fatalf("got %d %s, want %d %s %q", st, b, tc.status, tc.code, tc.msg)
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e, "GET", "/v1.0/"+tc.path, tok, nil, nil)
			check(t, resp.StatusCode, b)
		})
		t.Run(tc.name+"/batch", func(t *testing.T) {
			st, br, raw := postBatch(t, e, tok, []map[string]any{{"id": "1", "method": "GET", "url": tc.path}}, false)
			if st != 200 || len(br.Responses) != 1 {
				t.Fatalf("batch %d %s", st, raw)
			}
			check(t, br.Responses[0].Status, br.Responses[0].Body)
		})
	}
	t.Run("guest with an unencoded hash in a batch", func(t *testing.T) {
		// "#" starts the fragment: the key stops before it, as Graph sees such a URL
		// (microsoftgraph/msgraph-sdk-powershell#1947, "cut the URI at the first '#'").
		_, br, raw := postBatch(t, e, tok, []map[string]any{{"id": "1", "method": "GET", "url": "users/" + emulator.GuestUPN}}, false)
		if len(br.Responses) != 1 || br.Responses[0].Status != 404 || !strings.Contains(string(br.Responses[0].Body), notFound("gwen_partner.example")) {
			t.Fatalf("got %s", raw)
		}
	})
}
