package proxy_test

// Hostile and odd-but-legal inputs, end to end through HTTP: every refusal must be a clear
// error in Graph's envelope with the right status, no-store and a request-id; nothing
// beyond the caller's policy may come back.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func (e *env) batchItems(t *testing.T, tok, items string) (response, map[string]batchItemResp) {
	t.Helper()
	r := e.rawRequest(http.MethodPost, "/v1.0/$batch", "", []byte(`{"requests":[`+items+`]}`),
		"Authorization", "Bearer "+tok, "Content-Type", "application/json")
	out := map[string]batchItemResp{}
	if r.Status != http.StatusOK {
		return r, out
	}
	var br struct {
		Responses []batchItemResp `json:"responses"`
	}
	if err := json.Unmarshal(r.Body, &br); err != nil {
		t.Fatal(err)
	}
	for _, it := range br.Responses {
		out[it.ID] = it
	}
	return r, out
}

type batchItemResp struct {
	ID     string          `json:"id"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

func TestHostileBatchItems(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	inner := `{"requests":[{"id":"a","method":"GET","url":"/me"}]}`
	tests := []struct {
		name, item string
		status     int
	}{
		{"nested $batch", `{"id":"1","method":"POST","url":"/$batch","headers":{"Content-Type":"application/json"},"body":` + inner + `}`, 400},
		{"nested %24batch", `{"id":"1","method":"POST","url":"/%24batch","headers":{"Content-Type":"application/json"},"body":` + inner + `}`, 400},
		{"nested %24BATCH", `{"id":"1","method":"POST","url":"%24BATCH","headers":{"Content-Type":"application/json"},"body":` + inner + `}`, 400},
		{"absolute url", `{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/me"}`, 400},
		// Paths Graph's grammar does not resolve: Graph's 400 for an unknown segment.
		{"scheme-relative url", `{"id":"1","method":"GET","url":"//evil.example/me"}`, 400},
		{"dot-dot to admin", `{"id":"1","method":"POST","url":"/../admin/v1/cache/purge","headers":{"Content-Type":"application/json"},"body":{}}`, 400},
		{"encoded dot-dot to admin", `{"id":"1","method":"POST","url":"/%2e%2e/admin/v1/cache/purge","headers":{"Content-Type":"application/json"},"body":{}}`, 400},
		{"beta inside v1.0", `{"id":"1","method":"GET","url":"/../beta/me/presence"}`, 400},
		{"DELETE", `{"id":"1","method":"DELETE","url":"/me"}`, 405},
		{"HEAD", `{"id":"1","method":"HEAD","url":"/me"}`, 405},
		{"method with space", `{"id":"1","method":"GET /x","url":"/me"}`, 400},
		{"bad escape", `{"id":"1","method":"GET","url":"/me%"}`, 400},
		{"item header cannot swap the token", `{"id":"1","method":"GET","url":"/me","headers":{"Authorization":"Bearer x"}}`, 200},
		{"item gzip header on plain body", `{"id":"1","method":"POST","url":"/communications/getPresencesByUserId","headers":{"Content-Encoding":"gzip","Content-Type":"application/json"},"body":{"ids":[]}}`, 400},
		{"lower-case method, no leading slash", `{"id":"1","method":"get","url":"me"}`, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.emu.ResetRequests()
			r, items := e.batchItems(t, tok, tc.item)
			it, ok := items["1"]
			if r.Status != http.StatusOK || !ok {
				t.Fatalf("batch: %d %s", r.Status, r.Body)
			}
			if it.Status != tc.status {
				t.Fatalf("item status %d, want %d: %s", it.Status, tc.status, it.Body)
			}
			if tc.status >= 400 {
				var env struct {
					Error struct {
						Code       string            `json:"code"`
						InnerError map[string]string `json:"innerError"`
					} `json:"error"`
				}
				if err := json.Unmarshal(it.Body, &env); err != nil || env.Error.Code == "" || env.Error.InnerError["request-id"] == "" {
					t.Errorf("item error without code or request-id: %s", it.Body)
				}
			}
			if strings.Contains(tc.name, "nested") && bytes.Contains(it.Body, []byte(`"responses"`)) {
				t.Errorf("the nested batch ran: %s", it.Body)
			}
		})
	}
}

func TestHostileBatchEnvelope(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	one := `{"requests":[{"id":"1","method":"GET","url":"/me"}]}`
	auth := []string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}
	tests := []struct {
		name    string
		body    []byte
		headers []string
		status  int
	}{
		{"array", []byte(`[]`), nil, 400},
		{"null", []byte(`null`), nil, 400},
		{"string", []byte(`"requests"`), nil, 400},
		{"no items", []byte(`{"requests":[]}`), nil, 400},
		{"21 items", []byte(`{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"id":"x","method":"GET","url":"/me"},`, 21), ",") + `]}`), nil, 400},
		{"duplicate ids", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"1","method":"GET","url":"/me"}]}`), nil, 400},
		{"dependsOn itself", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":["1"]}]}`), nil, 400},
		{"dependsOn cycle", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":["2"]},{"id":"2","method":"GET","url":"/me","dependsOn":["1"]}]}`), nil, 400},
		{"dependsOn unknown", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":["9"]}]}`), nil, 400},
		{"numeric id", []byte(`{"requests":[{"id":1,"method":"GET","url":"/me"}]}`), nil, 400},
		// Graph's batch-level rules (json-batching): a body needs a Content-Type, a POST a
		// body; dependsOn names one earlier request; fully parallel or fully sequential.
		{"body without Content-Type", []byte(`{"requests":[{"id":"1","method":"POST","url":"/communications/getPresencesByUserId","body":{"ids":[]}}]}`), nil, 400},
		{"POST without body", []byte(`{"requests":[{"id":"1","method":"POST","url":"/communications/getPresencesByUserId","headers":{"Content-Type":"application/json"}}]}`), nil, 400},
		{"dependsOn two", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me"},{"id":"3","method":"GET","url":"/me","dependsOn":["1","2"]}]}`), nil, 400},
		{"dependsOn mixed", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me"},{"id":"3","method":"GET","url":"/me","dependsOn":["2"]}]}`), nil, 400},
		{"dependsOn serial", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me","dependsOn":["1"]},{"id":"3","method":"GET","url":"/me","dependsOn":["2"]}]}`), nil, 200},
		{"dependsOn same", []byte(`{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me","dependsOn":["1"]},{"id":"3","method":"GET","url":"/me","dependsOn":["1"]}]}`), nil, 200},
		{"id too long", []byte(`{"requests":[{"id":"` + strings.Repeat("i", 65) + `","method":"GET","url":"/me"}]}`), nil, 400},
		{"invalid gzip", []byte("not gzip at all"), []string{"Content-Encoding", "gzip"}, 400},
		{"brotli", []byte(one), []string{"Content-Encoding", "br"}, 415},
		{"body over 1 MiB", append([]byte(one[:len(one)-1]), append(bytes.Repeat([]byte(" "), 2<<20), '}')...), nil, 413},
		{"gzip bomb", gzipped(t, append([]byte(one[:len(one)-1]), append(bytes.Repeat([]byte(" "), 16<<20), '}')...)), []string{"Content-Encoding", "gzip"}, 413},
		{"gzip within limits", gzipped(t, []byte(one)), []string{"Content-Encoding", "gzip"}, 200},
		{"wrong content type is read as JSON", []byte(one), []string{"Content-Type", "text/plain"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := append(append([]string{}, auth...), tc.headers...)
			if len(tc.headers) > 0 && tc.headers[0] == "Content-Type" {
				h = append([]string{"Authorization", "Bearer " + tok}, tc.headers...)
			}
			r := e.rawRequest(http.MethodPost, "/v1.0/$batch", "", tc.body, h...)
			if tc.status == 200 {
				if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"status":200`)) {
					t.Fatalf("%d %.300s", r.Status, r.Body)
				}
				return
			}
			assertGraphError(t, r, tc.status, "")
		})
	}
}

func TestHostilePresences(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	guids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		}
		return out
	}
	tests := []struct {
		name   string
		body   any
		status int
		want   int // presences returned
	}{
		{"duplicates", map[string]any{"ids": []string{users[1].ID, users[1].ID, strings.ToUpper(users[1].ID)}}, 200, 1},
		{"other tenant's id left out", map[string]any{"ids": []string{users[1].ID, e.enabledUsers(1)[0].ID}}, 200, 1},
		{"deactivated left out", map[string]any{"ids": []string{users[1].ID, e.disabledUser(0).ID}}, 200, 1},
		{"650 unknown ids", map[string]any{"ids": guids(650)}, 200, 0},
		{"651 ids", map[string]any{"ids": guids(651)}, 400, 0},
		{"no ids", map[string]any{"ids": []string{}}, 400, 0},
		{"null ids", map[string]any{"ids": nil}, 400, 0},
		{"non-GUID", map[string]any{"ids": []string{users[1].UserPrincipalName}}, 400, 0},
		{"numbers", map[string]any{"ids": []int{1, 2}}, 400, 0},
		{"not an object", []string{users[1].ID}, 400, 0},
		{"body over 64 KiB", map[string]any{"ids": []string{users[1].ID}, "pad": strings.Repeat("x", 70<<10)}, 413, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/v1.0/communications/getPresencesByUserId", tok, tc.body)
			if tc.status != 200 {
				assertGraphError(t, r, tc.status, "")
				return
			}
			var got struct {
				Value []map[string]any `json:"value"`
			}
			if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != 200 || len(got.Value) != tc.want {
				t.Fatalf("%d: %d presences, want %d: %.300s", r.Status, len(got.Value), tc.want, r.Body)
			}
		})
	}
}
