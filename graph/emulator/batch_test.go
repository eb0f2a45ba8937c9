package emulator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"net/http"
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

// postBatch sends a $batch, optionally gzip-compressed.
func postBatch(t *testing.T, e *emulator.Emulator, tok string, reqs []map[string]any, gz bool) (int, batchResp, []byte) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"requests": reqs})
	hdr := map[string]string{"Content-Type": "application/json"}
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		raw = buf.Bytes()
		hdr["Content-Encoding"] = "gzip"
	}
	resp, b := do(t, e, http.MethodPost, "/v1.0/$batch", tok, bytes.NewReader(raw), hdr)
	var br batchResp
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &br); err != nil {
			t.Fatalf("batch body %s: %v", b, err)
		}
	}
	return resp.StatusCode, br, b
}

func TestBatch(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	with, _ := photoUsers(t, e, ti)
	reqs := []map[string]any{
		{"id": "a", "method": "GET", "url": "/users/" + ti.Users[0].ID + "?$select=displayName"},
		{"id": "b", "method": "GET", "url": "users/nobody@contoso.example"},
		{"id": "c", "method": "GET", "url": "/users/" + ti.Users[1].ID + "?$select=id"},
		{"id": "d", "method": "GET", "url": "/users/" + with + "/photos/48x48/$value"},
		{"id": "e", "method": "POST", "url": "/communications/getPresencesByUserId",
			"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"ids": []string{ti.Users[2].ID}}},
	}
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e.ResetRequests()
			st, br, raw := postBatch(t, e, tok, reqs, gz)
			if st != 200 || len(br.Responses) != len(reqs) {
				t.Fatalf("batch: %d %s", st, raw)
			}
			byID := map[string]int{}
			for i, r := range br.Responses {
				byID[r.ID] = i
			}
			want := map[string]int{"a": 200, "b": 404, "c": 200, "d": 200, "e": 200}
			for id, status := range want {
				i, ok := byID[id]
				if !ok || br.Responses[i].Status != status {
					t.Fatalf("item %s: %+v", id, br.Responses)
				}
			}
			var a map[string]any
			_ = json.Unmarshal(br.Responses[byID["a"]].Body, &a)
			if a["displayName"] == nil || a["id"] != nil {
				t.Fatalf("item a body %v", a)
			}
			d := br.Responses[byID["d"]]
			var b64 string
			if err := json.Unmarshal(d.Body, &b64); err != nil || d.Headers["Content-Type"] != "image/jpeg" {
				t.Fatalf("image item: %s %v", d.Body, d.Headers)
			}
			jpg, _ := base64.StdEncoding.DecodeString(b64)
			if img, err := jpeg.Decode(bytes.NewReader(jpg)); err != nil || img.Bounds().Dx() != 48 {
				t.Fatalf("image item does not decode to 48px: %v", err)
			}
			inBatch := 0
			for _, r := range e.Requests() {
				if r.InBatch {
					inBatch++
				}
			}
			if inBatch != 5 || e.Count("POST /v1.0/$batch") != 1 || e.Count("GET /v1.0/users/{id}") != 0 {
				t.Fatalf("log: %d items in batch, %+v", inBatch, e.Requests())
			}
		})
	}
	t.Run("plain body labelled gzip", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]any{"requests": reqs[:1]})
		resp, b := do(t, e, http.MethodPost, "/v1.0/$batch", tok, bytes.NewReader(raw),
			map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
		if resp.StatusCode != 400 || errCode(decodeObj(t, b)) != "BadRequest" {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	})
	t.Run("throttled item", func(t *testing.T) {
		e.SetThrottle(emulator.Throttle{Budget: 2, RetryAfter: 1500_000_000})
		defer e.SetThrottle(emulator.Throttle{})
		items := reqs[:1]
		for i := range 3 {
			items = append(items, map[string]any{"id": fmt.Sprint("t", i), "method": "GET", "url": "/users/" + ti.Users[i].ID})
		}
		st, br, raw := postBatch(t, e, tok, items, false)
		if st != 200 {
			t.Fatalf("batch: %d %s", st, raw)
		}
		throttled := 0
		for _, r := range br.Responses {
			if r.Status == 429 {
				throttled++
				if r.Headers["Retry-After"] != "1.5" {
					t.Fatalf("Retry-After %q", r.Headers["Retry-After"])
				}
			}
		}
		if throttled != 2 {
			t.Fatalf("%d throttled items, want 2: %s", throttled, raw)
		}
	})
}
