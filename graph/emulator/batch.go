package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
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

// handleBatch serves POST /v1.0/$batch as Graph's JSON batching
// (https://learn.microsoft.com/en-us/graph/json-batching). A batch breaking one of
// Graph's rules is refused as a whole (batchrules.go). Items run through the same
// pipeline as direct requests (auth, throttling, faults, request log with InBatch):
// concurrently, or in request order when the batch is sequential (dependsOn), where "If
// an individual request fails, any request that depends on that request fails with
// status code 424 (Failed Dependency)". The responses come back in random order:
// "Individual responses might appear in a different order than the requests. The id
// property can be used to correlate individual requests and responses."
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
		graphError(w, r, http.StatusBadRequest, "BadRequest", errBatchFormat)
		return
	}
	if msg := validateBatch(req.Requests); msg != "" {
		graphError(w, r, http.StatusBadRequest, "BadRequest", msg)
		return
	}
	var results []batchResult
	if isSequential(req.Requests) {
		results = e.runSequential(r, req.Requests)
	} else {
		results = e.runParallel(r, req.Requests)
	}
	rand.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{"responses": results})
}

// isSequential reports whether any item states a dependency (validateBatch has made
// sure the batch is then fully sequential).
func isSequential(items []batchItem) bool {
	for _, it := range items {
		if len(it.DependsOn) > 0 {
			return true
		}
	}
	return false
}

// runParallel runs independent items concurrently.
func (e *Emulator) runParallel(r *http.Request, items []batchItem) []batchResult {
	results := make([]batchResult, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() { results[i] = e.runBatchItem(r, it) })
	}
	wg.Wait()
	return results
}

// runSequential runs the items one after another in request order; an item whose
// dependency did not succeed is not run and gets 424.
func (e *Emulator) runSequential(r *http.Request, items []batchItem) []batchResult {
	results := make([]batchResult, len(items))
	status := make(map[string]int, len(items)) // lower-case id => status
	for i, it := range items {
		if len(it.DependsOn) > 0 {
			if s := status[strings.ToLower(it.DependsOn[0])]; s < 200 || s > 299 {
				results[i] = failedDependency(it.ID)
				status[strings.ToLower(it.ID)] = results[i].Status
				continue
			}
		}
		results[i] = e.runBatchItem(r, it)
		status[strings.ToLower(it.ID)] = results[i].Status
	}
	return results
}

// failedDependency is the answer to an item whose dependency failed.
func failedDependency(id string) batchResult {
	return batchResult{ID: id, Status: http.StatusFailedDependency,
		Headers: map[string]string{"Content-Type": "application/json"},
		Body: map[string]any{"error": map[string]any{"code": "FailedDependency",
			"message": "The request could not be processed because a request it depends on failed."}}}
}

// runBatchItem executes one item through dispatch and converts the recorded response.
// Item urls are relative to the batch's version: "Microsoft Graph then makes these URLs
// absolute by using the version endpoint included in the batch URL"
// (https://developer.microsoft.com/en-us/graph/known-issues/?search=JSON%20batching),
// so a url that repeats the version names an unknown segment ("Resource not found for
// the segment 'v1.0'.", microsoftgraph/msgraph-sdk-javascript#1178).
func (e *Emulator) runBatchItem(outer *http.Request, it batchItem) batchResult {
	rel := strings.TrimPrefix(strings.TrimSpace(it.URL), "/")
	req, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(it.Method), "/v1.0/"+rel,
		bytes.NewReader(itemBody(it)))
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
	if seg, _, _ := strings.Cut(strings.SplitN(rel, "?", 2)[0], "/"); strings.EqualFold(seg, "v1.0") || strings.EqualFold(seg, "beta") {
		graphError(rec, req, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+seg+"'.")
	} else {
		e.dispatch(rec, req)
	}
	return recordedResult(it.ID, rec)
}

// itemBody returns the bytes an item sends: a JSON body as is, or for any other
// Content-Type a string body decoded from base64 ("Might be a JSON object or a base64
// URL-encoded value, for example, when the body is an image", json-batching).
func itemBody(it batchItem) []byte {
	if !it.hasBody() {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(it.header("Content-Type"))
	var s string
	if mt == "application/json" || json.Unmarshal(it.Body, &s) != nil {
		return it.Body
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return []byte(s)
}

// recordedResult converts a recorded item response: JSON bodies embedded, text as a
// string, anything else (images) base64-encoded.
func recordedResult(id string, rec *recorder) batchResult {
	res := batchResult{ID: id, Status: rec.status, Headers: map[string]string{}}
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
