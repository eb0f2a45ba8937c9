package emulator_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// countCase is one $count request and its expected answer: a count, or an error.
type countCase struct {
	name, path string
	hdr        map[string]string
	want       int
	status     int
	code, msg  string
}

// checkCount sends tc directly and as a $batch item.
func checkCount(t *testing.T, e *emulator.Emulator, tok string, tc countCase) {
	t.Helper()
	check := func(t *testing.T, st int, ct string, b []byte) {
		t.Helper()
		if tc.status == 0 {
			if n, err := strconv.Atoi(string(b)); st != 200 || err != nil || n != tc.want || !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("got %d %q %q, want %d", st, ct, b, tc.want)
			}
			return
		}
		var m map[string]any
		if st != tc.status || json.Unmarshal(b, &m) != nil || errCode(m) != tc.code || m["error"].(map[string]any)["message"] != tc.msg {
			t.Fatalf("got %d %s, want %d %s %q", st, b, tc.status, tc.code, tc.msg)
		}
	}
	t.Run(tc.name, func(t *testing.T) {
		resp, b := do(t, e, http.MethodGet, "/v1.0/"+tc.path, tok, nil, tc.hdr)
		check(t, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	})
	t.Run(tc.name+"/batch", func(t *testing.T) {
		_, br, raw := postBatch(t, e, tok, []map[string]any{{"id": "1", "method": "GET", "url": tc.path, "headers": tc.hdr}}, false)
		if len(br.Responses) != 1 {
			t.Fatalf("batch %s", raw)
		}
		r := br.Responses[0]
		b := []byte(r.Body)
		var s string
		if json.Unmarshal(r.Body, &s) == nil { // a text/plain item body is a JSON string
			b = []byte(s)
		}
		check(t, r.Status, r.Headers["Content-Type"], b)
	})
}

// Graph's refusals of a $count segment (count.go).
const (
	msgCountUnsupported = "$count is not currently supported."
	msgCountSelect      = "The type 'Edm.Int32' is not valid for $select or $expand, only structured types are allowed."
	msgCountTop         = "The query specified in the URI is not valid. The requested resource is not a collection. Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections."
)

// TestCountSegments checks /users/$count and /users/{key}/directReports/$count:
// text/plain, ConsistencyLevel required, $filter and $search honoured, query options
// that cannot apply to a number refused.
func TestCountSegments(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	head := ti.Users[1]
	reports, disabledReports, guests := 0, 0, 0
	for _, ui := range ti.Users {
		u, _ := e.User(ti.ID, ui.ID)
		if u.ManagerID == head.ID {
			reports++
			if !u.AccountEnabled {
				disabledReports++
			}
		}
		if u.UserType == "Guest" {
			guests++
		}
	}
	if reports == 0 || guests != 1 {
		t.Fatalf("fixture: %d reports, %d guests", reports, guests)
	}
	ev := eventual
	upnKey := "users('" + strings.ReplaceAll(head.UserPrincipalName, "'", "''") + "')"
	for _, tc := range []countCase{
		{name: "users", path: "users/$count", hdr: ev, want: len(ti.Users)},
		{name: "users encoded", path: "users/%24count", hdr: ev, want: len(ti.Users)},
		{name: "users filtered", path: "users/$count?$filter=userType%20eq%20'Guest'", hdr: ev, want: 1},
		{name: "users advanced filter", path: "users/$count?$filter=endswith(mail,'@partner.example')", hdr: ev, want: 1},
		{name: "users searched", path: `users/$count?$search="displayName:O'Neill"`, hdr: ev, want: 1},
		{name: "users no header", path: "users/$count", status: 400, code: "Request_BadRequest", msg: msgCountUnsupported},
		{name: "users no header filtered", path: "users/$count?$filter=userType%20eq%20'Guest'", status: 400, code: "Request_BadRequest", msg: msgCountUnsupported},
		{name: "users select", path: "users/$count?$select=id", hdr: ev, status: 400, code: "BadRequest", msg: msgCountSelect},
		{name: "users expand", path: "users/$count?$expand=manager", hdr: ev, status: 400, code: "BadRequest", msg: msgCountSelect},
		{name: "users top", path: "users/$count?$top=5", hdr: ev, status: 400, code: "BadRequest", msg: msgCountTop},
		{name: "users orderby", path: "users/$count?$orderby=displayName", hdr: ev, status: 400, code: "BadRequest", msg: msgCountTop},
		{name: "reports", path: "users/" + head.ID + "/directReports/$count", hdr: ev, want: reports},
		{name: "reports by key", path: upnKey + "/directReports/%24count", hdr: ev, want: reports},
		{name: "reports filtered", path: "users/" + head.ID + "/directReports/$count?$filter=accountEnabled%20eq%20false", hdr: ev, want: disabledReports},
		{name: "reports no header", path: "users/" + head.ID + "/directReports/$count", status: 400, code: "Request_BadRequest", msg: msgCountUnsupported},
		{name: "reports select", path: "users/" + head.ID + "/directReports/$count?$select=id", hdr: ev, status: 400, code: "BadRequest", msg: msgCountSelect},
		{name: "reports of nobody", path: "users/nobody@contoso.example/directReports/$count", hdr: ev, status: 404, code: "Request_ResourceNotFound",
			msg: "Resource 'nobody@contoso.example' does not exist or one of its queried reference-property objects are not present."},
	} {
		checkCount(t, e, tok, tc)
	}
}

// TestCountSegmentLags checks that a count, like the list's advanced queries, reads
// the lagging index: a user disabled moments ago is still counted as enabled.
func TestCountSegmentLags(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	kai, _ := e.User(ti.ID, emulator.ApostropheUPN)
	count := func(path string) string {
		_, b := do(t, e, http.MethodGet, "/v1.0/"+path, tok, nil, eventual)
		return string(b)
	}
	enabled := "users/$count?$filter=accountEnabled%20eq%20true"
	reports := "users/" + kai.ManagerID + "/directReports/$count?$filter=accountEnabled%20eq%20true"
	beforeAll, beforeReports := count(enabled), count(reports)
	e.SetReplicationDelay(time.Hour)
	if err := e.SetAccountEnabled(ti.ID, kai.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := count(enabled); got != beforeAll {
		t.Fatalf("users/$count = %s right after the change, want the lagging %s", got, beforeAll)
	}
	if got := count(reports); got != beforeReports {
		t.Fatalf("directReports/$count = %s right after the change, want the lagging %s", got, beforeReports)
	}
	e.SetReplicationDelay(0)
	if n, _ := strconv.Atoi(count(enabled)); strconv.Itoa(n+1) != beforeAll {
		t.Fatalf("users/$count = %d once replicated, want one less than %s", n, beforeAll)
	}
}
