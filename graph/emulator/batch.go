package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/graphgate/graphgate/graph/spec"
)

// batchItem is one request of a JSON batch.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

// batchResult is one response of a JSON batch.
type batchResult struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// handleBatch serves POST /v1.0/$batch: items run concurrently through the same pipeline
// (auth, throttling, faults, request log with InBatch), dependsOn waits and fails with 424.
func (e *Emulator) handleBatch(w http.ResponseWriter, r *http.Request, _ *tenantState) {
	if state(r).inBatch {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Nested batch requests are not supported.")
		return
	}
	var req struct {
		Requests []batchItem `json:"requests"`
	}
	raw, err := readAllLimited(r.Body)
	if err != nil || json.Unmarshal(raw, &req) != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	if msg := validateBatch(req.Requests); msg != "" {
		graphError(w, r, http.StatusBadRequest, "BadRequest", msg)
		return
	}
	results := make([]batchResult, len(req.Requests))
	done := make(map[string]chan struct{}, len(req.Requests))
	for _, it := range req.Requests {
		done[it.ID] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for i, it := range req.Requests {
		wg.Go(func() {
			defer close(done[it.ID])
			for _, dep := range it.DependsOn {
				<-done[dep]
			}
			if failedDependency(results, req.Requests, it.DependsOn) {
				results[i] = batchResult{ID: it.ID, Status: http.StatusFailedDependency,
					Headers: map[string]string{"Content-Type": "application/json"},
					Body: map[string]any{"error": map[string]any{"code": "FailedDependency",
						"message": "The request could not be processed because a request it depends on failed."}}}
				return
			}
			results[i] = e.runBatchItem(r, it)
		})
	}
	wg.Wait()
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{"responses": results})
}

// validateBatch checks the batch shape; it returns Graph's message or "".
func validateBatch(items []batchItem) string {
	if len(items) == 0 {
		return "Invalid batch payload format: 'requests' is required."
	}
	if len(items) > spec.MaxBatchRequests {
		return "Number of batch request steps exceeds the maximum of " + strconv.Itoa(spec.MaxBatchRequests) + "."
	}
	seen := map[string]bool{}
	for _, it := range items {
		switch {
		case it.ID == "" || it.Method == "" || it.URL == "":
			return "Invalid batch payload format: every request needs id, method and url."
		case seen[it.ID]:
			return "Request Id '" + it.ID + "' is duplicated in the batch."
		}
		for _, d := range it.DependsOn {
			if !seen[d] {
				return "Request Id '" + it.ID + "' depends on '" + d + "', which is not an earlier request in the batch."
			}
		}
		seen[it.ID] = true
	}
	return ""
}

// failedDependency reports whether any dependency of an item failed.
func failedDependency(results []batchResult, items []batchItem, deps []string) bool {
	for _, d := range deps {
		for j, it := range items {
			if it.ID == d && (results[j].Status < 200 || results[j].Status > 299) {
				return true
			}
		}
	}
	return false
}

// runBatchItem executes one item through dispatch and converts the recorded response.
func (e *Emulator) runBatchItem(outer *http.Request, it batchItem) batchResult {
	target := strings.TrimSpace(it.URL)
	if u, err := url.Parse(target); err == nil && u.IsAbs() {
		target = u.RequestURI()
	}
	target = "/" + strings.TrimPrefix(target, "/")
	if !strings.HasPrefix(target, "/v1.0/") {
		target = "/v1.0" + target
	}
	var body []byte
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = it.Body
		var s string
		if json.Unmarshal(it.Body, &s) == nil {
			body = []byte(s)
		}
	}
	req, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(it.Method), target, bytes.NewReader(body))
	if err != nil {
		return batchResult{ID: it.ID, Status: http.StatusBadRequest, Body: map[string]any{
			"error": map[string]any{"code": "BadRequest", "message": "Invalid request URL."}}}
	}
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", outer.Header.Get("Authorization"))
	ost := state(outer)
	req = withState(req, &reqState{requestID: newUUID(), clientRequestID: ost.clientRequestID, inBatch: true})
	rec := &recorder{header: http.Header{}}
	e.dispatch(rec, req)
	res := batchResult{ID: it.ID, Status: rec.status, Headers: map[string]string{}}
	if res.Status == 0 {
		res.Status = http.StatusOK
	}
	for k, v := range rec.header {
		res.Headers[k] = strings.Join(v, ", ")
	}
	if rec.buf.Len() > 0 {
		ct := strings.ToLower(rec.header.Get("Content-Type"))
		switch {
		case strings.HasPrefix(ct, "application/json"):
			res.Body = json.RawMessage(rec.buf.Bytes())
		case strings.HasPrefix(ct, "text/"):
			res.Body = rec.buf.String()
		default:
			res.Body = base64.StdEncoding.EncodeToString(rec.buf.Bytes())
		}
	}
	return res
}

// recorder is a minimal in-memory ResponseWriter for batch items.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}
