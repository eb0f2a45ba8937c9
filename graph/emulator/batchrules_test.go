package emulator_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// get is a GET item of a batch.
func batchGet(id, url string, dependsOn ...string) map[string]any {
	it := map[string]any{"id": id, "method": "GET", "url": url}
	if len(dependsOn) > 0 {
		it["dependsOn"] = dependsOn
	}
	return it
}

// itemsRun counts the batch items in the request log.
func itemsRun(e *emulator.Emulator) int {
	n := 0
	for _, r := range e.Requests() {
		if r.InBatch {
			n++
		}
	}
	return n
}

// TestBatchRefusals: a batch breaking one of Graph's rules is refused as a whole with
// 400 BadRequest and Graph's message, and none of its items runs
// (https://learn.microsoft.com/en-us/graph/json-batching).
func TestBatchRefusals(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	u := "/users/" + ti.Users[0].ID
	presence := map[string]any{"ids": []string{ti.Users[0].ID}}
	ctJSON := map[string]string{"Content-Type": "application/json"}
	var many []map[string]any
	for i := range 21 {
		many = append(many, batchGet(fmt.Sprint(i), u))
	}
	tests := []struct {
		name  string
		items []map[string]any
		msg   string
	}{
		{"no requests", []map[string]any{}, "Invalid batch payload format."},
		{"more than 20", many, "Number of batch request steps exceeds the maximum of 20."},
		{"missing url", []map[string]any{{"id": "1", "method": "GET"}}, "Invalid batch payload format."},
		{"absolute url", []map[string]any{batchGet("1", "https://graph.microsoft.com/v1.0"+u)}, "Invalid batch payload format."},
		{"scheme-relative url", []map[string]any{batchGet("1", "//graph.microsoft.com/v1.0"+u)}, "Invalid batch payload format."},
		{"ids equal but for case", []map[string]any{batchGet("a", u), batchGet("A", u)}, "Request Id A has to be unique in a batch."},
		{"body without Content-Type", []map[string]any{{"id": "p", "method": "POST",
			"url": "/communications/getPresencesByUserId", "body": presence}},
			"Write request id : p does not contain Content-Type header or body."},
		{"write without body", []map[string]any{{"id": "r", "method": "POST", "headers": ctJSON,
			"url": u + "/revokeSignInSessions"}}, "Write request id : r does not contain Content-Type header or body."},
		{"two dependencies", []map[string]any{batchGet("1", u), batchGet("2", u, "1"), batchGet("3", u, "1", "2")},
			"Invalid dependency for request Id 3."},
		{"unknown dependency", []map[string]any{batchGet("1", u), batchGet("2", u, "9")}, "Invalid dependency for request Id 2."},
		{"forward dependency", []map[string]any{batchGet("1", u, "2"), batchGet("2", u)}, "Invalid dependency for request Id 1."},
		{"mixed parallel and sequential", []map[string]any{batchGet("1", u), batchGet("2", u, "1"), batchGet("3", u)},
			"Batch should be either fully sequential or fully parallel."},
		{"neither serial nor same", []map[string]any{batchGet("1", u), batchGet("2", u, "1"), batchGet("3", u, "1"), batchGet("4", u, "3")},
			"Batch should be either fully sequential or fully parallel."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.ResetRequests()
			st, _, raw := postBatch(t, e, tok, tc.items, false)
			m := decodeObj(t, raw)
			msg, _ := m["error"].(map[string]any)["message"].(string)
			if st != 400 || errCode(m) != "BadRequest" || msg != tc.msg {
				t.Fatalf("got %d %s, want 400 BadRequest %q", st, raw, tc.msg)
			}
			if n := itemsRun(e); n != 0 {
				t.Fatalf("%d items of a refused batch ran", n)
			}
		})
	}
}

// TestBatchSequencing: Graph's sequential patterns run in order, ids and dependsOn
// compare case-insensitively, and an item whose dependency failed gets 424.
func TestBatchSequencing(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	u := "/users/" + ti.Users[0].ID
	missing := "/users/nobody@contoso.example"
	tests := []struct {
		name  string
		items []map[string]any
		want  map[string]int
	}{
		{"serial", []map[string]any{batchGet("1", u), batchGet("2", u, "1"), batchGet("3", u, "2")},
			map[string]int{"1": 200, "2": 200, "3": 200}},
		{"serial, failure in the middle", []map[string]any{batchGet("1", u), batchGet("2", missing, "1"), batchGet("3", u, "2")},
			map[string]int{"1": 200, "2": 404, "3": 424}},
		{"same dependency, failed", []map[string]any{batchGet("1", missing), batchGet("2", u, "1"), batchGet("3", u, "1")},
			map[string]int{"1": 404, "2": 424, "3": 424}},
		{"dependsOn in another case", []map[string]any{batchGet("First", u), batchGet("second", u, "FIRST")},
			map[string]int{"First": 200, "second": 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, br, raw := postBatch(t, e, tok, tc.items, false)
			if st != 200 || len(br.Responses) != len(tc.want) {
				t.Fatalf("batch: %d %s", st, raw)
			}
			for _, r := range br.Responses {
				if want, ok := tc.want[r.ID]; !ok || r.Status != want {
					t.Errorf("item %s: status %d, want %d (%s)", r.ID, r.Status, want, r.Body)
				}
			}
		})
	}
}

// TestBatchResponsesComeInAnyOrder: "Individual responses might appear in a different
// order than the requests" (json-batching): the emulator shuffles them, so clients must
// correlate by id. Every id is answered exactly once, with its own request's answer.
func TestBatchResponsesComeInAnyOrder(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	var items []map[string]any
	var ids []string
	for i := range 20 {
		id := fmt.Sprint("r", i)
		ids = append(ids, id)
		items = append(items, batchGet(id, "/users/"+ti.Users[i].ID+"?$select=id"))
	}
	reordered := false
	for range 5 {
		st, br, raw := postBatch(t, e, tok, items, false)
		if st != 200 {
			t.Fatalf("batch: %d %s", st, raw)
		}
		var got []string
		for _, r := range br.Responses {
			got = append(got, r.ID)
			var body map[string]any
			_ = json.Unmarshal(r.Body, &body)
			i := slices.Index(ids, r.ID)
			if i < 0 || r.Status != 200 || body["id"] != ti.Users[i].ID {
				t.Fatalf("item %s answered %d %v, want user %d", r.ID, r.Status, body, i)
			}
		}
		if !slices.Equal(sortedCopy(got), sortedCopy(ids)) {
			t.Fatalf("answered ids %v, want each of %v once", got, ids)
		}
		reordered = reordered || !slices.Equal(got, ids)
	}
	if !reordered {
		t.Fatal("5 batches of 20 answered in request order every time: responses are not shuffled")
	}
}

// TestBatchItemURLs: item urls are relative to the batch's version; repeating the
// version names an unknown segment, answered per item.
func TestBatchItemURLs(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	id := ti.Users[0].ID
	for _, tc := range []struct {
		url    string
		status int
		msg    string
	}{
		{"/users/" + id, 200, ""},
		{"users/" + id, 200, ""},
		{"/v1.0/users/" + id, 400, "Resource not found for the segment 'v1.0'."},
		{"beta/users/" + id, 400, "Resource not found for the segment 'beta'."},
	} {
		t.Run(tc.url, func(t *testing.T) {
			st, br, raw := postBatch(t, e, tok, []map[string]any{batchGet("1", tc.url)}, false)
			if st != 200 || len(br.Responses) != 1 || br.Responses[0].Status != tc.status {
				t.Fatalf("batch: %d %s", st, raw)
			}
			if tc.msg != "" && !strings.Contains(string(br.Responses[0].Body), tc.msg) {
				t.Fatalf("item body %s, want %q", br.Responses[0].Body, tc.msg)
			}
		})
	}
	t.Run("a URL inside the query is not an absolute url", func(t *testing.T) {
		item := batchGet("1", "/users?$filter=startswith(displayName,'https://x')&$select=id")
		if st, br, raw := postBatch(t, e, tok, []map[string]any{item}, false); st != 200 || len(br.Responses) != 1 {
			t.Fatalf("batch: %d %s", st, raw)
		}
	})
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
