package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
	"github.com/graphgate/graphgate/proxy/ratelimit"
)

type batchRequest struct {
	Requests []batchItem `json:"requests"`
}

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// batchItemKey marks the context of a request the gateway dispatches as an item of a
// $batch. Graph does not nest batches, and a nested one would multiply a single request
// by 20 per level, each level riding on the outer batch's prepaid rate-limit charge.
type batchItemKey struct{}

// errNestedBatch answers a $batch sent as an item of another $batch, however its url
// was spelled ("$batch", "%24batch", ...).
var errNestedBatch = errBadRequest("A batch request may not contain another $batch request.")

// handleBatch serves POST /$batch. Every item goes through the same pipeline as a direct
// request (authentication, policy, cache, upstream limits); user records the items need
// are first fetched together with one upstream $batch per 20 users.
func handleBatch(dir *directory.Directory, lim *ratelimit.Limiter, dispatch http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Context().Value(batchItemKey{}) != nil {
			abortWithError(c, errNestedBatch)
			return
		}
		var req batchRequest
		if err := json.NewDecoder(c.Request.Body).Decode(&req); err != nil {
			abortWithError(c, bodyError(err, "The batch request body must be a JSON object with a \"requests\" array."))
			return
		}
		if err := validateBatch(req.Requests); err != nil {
			abortWithError(c, err)
			return
		}
		if err := prepayBatch(c, lim, len(req.Requests)); err != nil {
			abortWithError(c, err)
			return
		}
		dir.Prefetch(c.Request.Context(), scopeOf(c).tenantID(), batchUserIDs(c, req.Requests))
		writeJSON(c, gin.H{"responses": runBatchItems(c, dispatch, req.Requests)})
	}
}

// batchItemConcurrency bounds how many items of one parallel $batch run at once: a
// quarter of a tenant's default upstream slots (upstream.max_concurrency, 16), so that
// one batch of slow uncached items neither runs item after item into the request's
// deadline nor takes every slot of its tenant.
const batchItemConcurrency = 4

// runBatchItems runs a batch's items and returns their answers in request order. A
// parallel batch (no dependsOn) runs its items concurrently, as Graph does ("individual
// requests … can be executed in any order", https://learn.microsoft.com/en-us/graph/json-batching);
// a sequential one runs them in order, each after the requests it depends on.
func runBatchItems(c *gin.Context, dispatch http.Handler, items []batchItem) []batchResponse {
	out := make([]batchResponse, len(items))
	if !hasDependencies(items) {
		var g errgroup.Group
		g.SetLimit(batchItemConcurrency)
		for i, it := range items {
			g.Go(func() error {
				out[i] = runBatchItem(c, dispatch, it, nil)
				return nil
			})
		}
		_ = g.Wait()
		return out
	}
	status := map[string]int{} // lower-case id => status
	for i, it := range items {
		out[i] = runBatchItem(c, dispatch, it, status)
		status[strings.ToLower(it.ID)] = out[i].Status
	}
	return out
}

// hasDependencies reports whether any item of a batch depends on another.
func hasDependencies(items []batchItem) bool {
	for _, it := range items {
		if len(it.DependsOn) > 0 {
			return true
		}
	}
	return false
}

// validateBatch checks the batch as Graph does before running anything. Ids compare
// case-insensitively, as on Graph: "id … Not case-sensitive. Must be unique in the batch,
// otherwise, the batch request fails with a 400 error code"
// (https://learn.microsoft.com/en-us/graph/json-batching). An item with a body needs a
// Content-Type, and a POST needs a body ("When a body is included with the request, the
// headers object must contain a value for Content-Type", ibid.); Graph fails the whole
// batch with the message below (microsoftgraph/msgraph-sdk-dotnet#2628). Sequencing
// follows Graph's rule: every dependsOn names one earlier request, and a batch is either
// fully parallel or fully sequential (each request on its predecessor, or all on the
// same one): "Batch should be either fully sequential or fully parallel" (ibid.,
// microsoftgraph/microsoft-graph-docs#16280).
func validateBatch(items []batchItem) error {
	if len(items) == 0 {
		return errBadRequest("The batch must contain at least one request.")
	}
	if len(items) > spec.MaxBatchRequests {
		return errBadRequest(fmt.Sprintf("The batch holds %d requests; at most %d are allowed.", len(items), spec.MaxBatchRequests))
	}
	seen := map[string]bool{}
	for _, it := range items {
		switch {
		case it.ID == "" || len(it.ID) > 64:
			return errBadRequest("Every batch request needs an id of 1 to 64 characters.")
		case seen[strings.ToLower(it.ID)]:
			return errBadRequest("Batch request ids must be unique; they compare case-insensitively.")
		case it.Method == "" || it.URL == "":
			return errBadRequest("Every batch request needs a method and a url.")
		case (it.hasBody() || strings.EqualFold(it.Method, http.MethodPost)) && (!it.hasBody() || it.header("Content-Type") == ""):
			return errBadRequest("Write request id : " + it.ID + " does not contain Content-Type header or body.")
		case len(it.DependsOn) > 1 || len(it.DependsOn) == 1 && !seen[strings.ToLower(it.DependsOn[0])]:
			return errBadRequest("Invalid dependency for request Id " + it.ID + ": dependsOn names one earlier request.")
		}
		seen[strings.ToLower(it.ID)] = true
	}
	if !parallelOrSequential(items) {
		return errBadRequest("Batch should be either fully sequential or fully parallel.")
	}
	return nil
}

// parallelOrSequential reports whether no request depends on another, or every request
// after the first depends on its predecessor, or all of them on the same request.
func parallelOrSequential(items []batchItem) bool {
	deps, serial, same := 0, true, true
	for i, it := range items {
		if len(it.DependsOn) == 0 {
			serial, same = serial && i == 0, same && i == 0
			continue
		}
		deps++
		serial = serial && strings.EqualFold(it.DependsOn[0], items[i-1].ID)
		same = same && strings.EqualFold(it.DependsOn[0], items[1].DependsOn[0])
	}
	return deps == 0 || serial || same
}

// hasBody reports whether the item carries a body.
func (it batchItem) hasBody() bool { return len(it.Body) > 0 && string(it.Body) != "null" }

// header looks an item header up case-insensitively.
func (it batchItem) header(name string) string {
	for k, v := range it.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// batchUserIDs collects the user object ids the items address, read by the same URL
// grammar as the items themselves, for prefetching.
func batchUserIDs(c *gin.Context, items []batchItem) []string {
	var ids []string
	for _, it := range items {
		u, err := url.Parse("/" + apiVersion(c) + "/" + strings.TrimPrefix(it.URL, "/"))
		if err != nil {
			continue
		}
		if t, err := odata.ParsePath(u.EscapedPath()); err == nil && spec.IsObjectID(t.UserKey) {
			ids = append(ids, t.UserKey)
		}
	}
	return ids
}

// runBatchItem dispatches one item through the gateway's own router.
func runBatchItem(c *gin.Context, dispatch http.Handler, it batchItem, status map[string]int) batchResponse {
	for _, d := range it.DependsOn {
		if status[strings.ToLower(d)] >= 400 {
			return itemError(c, it.ID, http.StatusFailedDependency, "FailedDependency", "The request depends on a request that failed.")
		}
	}
	rel := strings.TrimPrefix(it.URL, "/")
	u, err := url.Parse("/" + apiVersion(c) + "/" + rel)
	if err != nil || strings.Contains(rel, "://") || strings.HasPrefix(strings.ToLower(rel), "$batch") {
		return itemError(c, it.ID, http.StatusBadRequest, "BadRequest", "Invalid batch request url: it must be a relative Graph url.")
	}
	var body []byte
	if it.hasBody() {
		body = it.Body
	}
	ctx := context.WithValue(context.WithoutCancel(c.Request.Context()), batchItemKey{}, true)
	r, err := http.NewRequestWithContext(ctx, strings.ToUpper(it.Method), u.String(), bytes.NewReader(body))
	if err != nil {
		return itemError(c, it.ID, http.StatusBadRequest, "BadRequest", "Invalid batch request.")
	}
	for k, v := range it.Headers {
		r.Header.Set(k, v)
	}
	r.Header.Set("Authorization", c.GetHeader("Authorization"))
	r.Host = c.Request.Host
	r.TLS = c.Request.TLS
	rec := newRecorder()
	dispatch.ServeHTTP(rec, r)
	return recordedResponse(it.ID, rec)
}

// itemError is the answer to a batch item the gateway refuses without dispatching it. Its
// innerError carries the batch request's date and ids, as every other error does.
func itemError(c *gin.Context, id string, status int, code, msg string) batchResponse {
	return batchResponse{ID: id, Status: status, Headers: map[string]string{"Content-Type": "application/json"},
		Body: envelope(scopeOf(c), code, msg)}
}

// recordedResponse converts a recorded item response to a batch response: JSON bodies
// are embedded, images base64-encoded (as Graph clients expect), other text as a string.
func recordedResponse(id string, rec *recorder) batchResponse {
	ct := rec.header.Get("Content-Type")
	resp := batchResponse{ID: id, Status: rec.status, Headers: map[string]string{}}
	for _, h := range []string{"Content-Type", "Retry-After", "WWW-Authenticate", HeaderWithheld, "ETag"} {
		if v := rec.header.Get(h); v != "" {
			resp.Headers[h] = v
		}
	}
	switch {
	case rec.body.Len() == 0:
	case strings.HasPrefix(ct, "application/json"):
		resp.Body = json.RawMessage(rec.body.Bytes())
	case strings.HasPrefix(ct, "image/"):
		resp.Body = base64.StdEncoding.EncodeToString(rec.body.Bytes())
	default:
		resp.Body = rec.body.String()
	}
	return resp
}

// recorder is a minimal in-memory http.ResponseWriter for batch items.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
