package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

type batchResp struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func userBatch(users []emulator.UserInfo) map[string]any {
	var reqs []map[string]any
	for i, u := range users {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/users/" + u.ID + "?$select=displayName,mobilePhone"})
	}
	return map[string]any{"requests": reqs}
}

func TestBatchOfColdUsersMakesFewUpstreamCalls(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	if len(users) < 41 {
		t.Fatalf("fixture has %d enabled users, want 41", len(users))
	}
	tok := e.token(0, "chat-web", users[0])
	e.get("/v1.0/me", tok)
	e.emu.ResetRequests()
	for _, chunk := range [][]emulator.UserInfo{users[1:21], users[21:41]} {
		r := e.do(http.MethodPost, "/v1.0/$batch", tok, userBatch(chunk))
		if r.Status != http.StatusOK {
			t.Fatalf("batch: %d %s", r.Status, r.Body)
		}
		var br batchResp
		if err := json.Unmarshal(r.Body, &br); err != nil {
			t.Fatal(err)
		}
		if len(br.Responses) != 20 {
			t.Fatalf("got %d responses", len(br.Responses))
		}
		for _, it := range br.Responses {
			var u map[string]any
			_ = json.Unmarshal(it.Body, &u)
			if it.Status != 200 || keys(u) != "@odata.context,displayName,id" {
				t.Errorf("item %s: %d %s", it.ID, it.Status, it.Body)
			}
		}
	}
	calls := e.emu.Count("")
	if calls > 2 {
		t.Errorf("40 cold users via $batch made %d upstream calls, want at most 2", calls)
	}
	if n := e.emu.Count("GET /v1.0/users/{id}"); n != 0 {
		t.Errorf("%d single-user calls besides the batch", n)
	}
}

func TestBatchSemantics(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	var photoUser emulator.UserInfo
	for _, u := range users {
		if r := e.get("/v1.0/users/"+u.ID+"/photos/48x48/$value", tok); r.Status == 200 {
			photoUser = u
			break
		}
	}
	body := map[string]any{"requests": []map[string]any{
		{"id": "me", "method": "GET", "url": "me"},
		{"id": "missing", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"},
		{"id": "photo", "method": "GET", "url": "/users/" + photoUser.ID + "/photos/48x48/$value"},
		{"id": "forbidden", "method": "GET", "url": "/users/" + users[1].ID + "/manager"},
		{"id": "presence", "method": "POST", "url": "/communications/getPresencesByUserId", "body": map[string]any{"ids": []string{users[1].ID}}, "headers": map[string]string{"Content-Type": "application/json"}},
	}}
	// Graph SDKs gzip their POST bodies: send this one compressed.
	raw, _ := json.Marshal(body)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1.0/$batch", &zb)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var br batchResp
	if err := json.NewDecoder(resp.Body).Decode(&br); err != nil || resp.StatusCode != 200 {
		t.Fatalf("batch: %d %v", resp.StatusCode, err)
	}
	got := map[string]int{}
	for _, it := range br.Responses {
		got[it.ID] = it.Status
		if it.ID == "photo" {
			var s string
			if err := json.Unmarshal(it.Body, &s); err != nil {
				t.Fatalf("photo body is not a base64 string: %s", it.Body)
			}
			if _, err := base64.StdEncoding.DecodeString(s); err != nil || !strings.HasPrefix(it.Headers["Content-Type"], "image/") {
				t.Errorf("photo item: %v, content type %q", err, it.Headers["Content-Type"])
			}
		}
	}
	want := map[string]int{"me": 200, "missing": 404, "photo": 200, "forbidden": 403, "presence": 200}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("item %s: status %d, want %d", id, got[id], st)
		}
	}
	// A request depending on a failed one is 424; Graph takes dependsOn only in a fully
	// sequential batch.
	serial := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": []map[string]any{
		{"id": "missing", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"},
		{"id": "dep", "method": "GET", "url": "/users/" + users[1].ID, "dependsOn": []string{"MISSING"}},
	}})
	var sr batchResp
	if err := json.Unmarshal(serial.Body, &sr); err != nil || serial.Status != 200 || len(sr.Responses) != 2 {
		t.Fatalf("serial batch: %d %s", serial.Status, serial.Body)
	}
	for _, it := range sr.Responses {
		if it.ID == "dep" && it.Status != http.StatusFailedDependency {
			t.Errorf("dependent item: %d, want 424", it.Status)
		}
	}

	tooMany := map[string]any{"requests": make([]map[string]any, 21)}
	for i := range 21 {
		tooMany["requests"].([]map[string]any)[i] = map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/me"}
	}
	if r := e.do(http.MethodPost, "/v1.0/$batch", tok, tooMany); r.Status != 400 {
		t.Errorf("21 items: %d", r.Status)
	}
	nested := map[string]any{"requests": []map[string]any{{"id": "1", "method": "POST", "url": "/$batch", "headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"requests": []any{}}}}}
	if r := e.do(http.MethodPost, "/v1.0/$batch", tok, nested); r.Status != 200 || !strings.Contains(string(r.Body), `"status":400`) {
		t.Errorf("nested batch: %d %s", r.Status, r.Body)
	}
}
