package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"golang.org/x/sync/errgroup"

	"github.com/graphgate/graphgate/graph/spec"
)

// BatchResult is one user's outcome in UsersByID: the user, or an error matching
// one of the sentinels (ErrNotFound, ErrThrottled, ...).
type BatchResult struct {
	User User
	Err  error
}

const (
	maxBatchIDs      = 1000
	batchConcurrency = 3
)

// batchItem is one response inside Graph's $batch answer.
type batchItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// UsersByID reads many users with Graph $batch (at most spec.MaxBatchRequests, 20,
// per upstream request, up to 3 requests in flight) and returns one result per
// distinct id. Items Graph throttled are retried after their Retry-After (the SDK never retries batch items)
// up to MaxRetries rounds within the timeout; then they carry a *ThrottledError.
// When a whole $batch request fails its items carry that error; UsersByID itself
// fails only for invalid input or when every request failed.
func (c *Client) UsersByID(ctx context.Context, ids []string, fields []string) (_ map[string]BatchResult, err error) {
	defer c.observe(opUsersBatch, time.Now(), &err)
	const op = "batch get users"
	if err := validateFields(op, fields); err != nil {
		return nil, err
	}
	uniq := dedupe(ids)
	if len(uniq) > maxBatchIDs {
		return nil, badRequest(op, "too_many_ids")
	}
	for _, id := range uniq {
		if err := validateID(op, id); err != nil {
			return nil, err
		}
	}
	results := make(map[string]BatchResult, len(uniq))
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
		g        errgroup.Group
	)
	g.SetLimit(batchConcurrency)
	chunks := 0
	for start := 0; start < len(uniq); start += spec.MaxBatchRequests {
		chunk := uniq[start:min(start+spec.MaxBatchRequests, len(uniq))]
		chunks++
		g.Go(func() error {
			res, err := c.batchChunk(ctx, op, chunk, fields)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				firstErr = cmpErr(firstErr, err)
				for _, id := range chunk {
					results[id] = BatchResult{Err: err}
				}
				return nil
			}
			for id, r := range res {
				results[id] = r
			}
			return nil
		})
	}
	_ = g.Wait()
	if chunks > 0 && failed == chunks {
		return nil, firstErr
	}
	return results, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// batchChunk reads up to spec.MaxBatchRequests users, re-sending throttled items after the largest
// Retry-After among them, within one call timeout.
func (c *Client) batchChunk(ctx context.Context, op string, ids, fields []string) (map[string]BatchResult, error) {
	out := make(map[string]BatchResult, len(ids))
	err := c.call(ctx, op, func(ctx context.Context) error {
		pending := ids
		for round := 0; len(pending) > 0; round++ {
			items, err := c.postBatch(ctx, pending, fields)
			if err != nil {
				return err
			}
			var throttled []string
			var wait time.Duration
			for i, id := range pending {
				it, ok := items[strconv.Itoa(i+1)]
				switch {
				case !ok:
					out[id] = BatchResult{Err: &Error{Kind: ErrUnavailable, op: op, Code: "missing_batch_item"}}
				case it.Status == http.StatusTooManyRequests && round < c.maxRetries:
					throttled = append(throttled, id)
					d, ok := parseRetryAfter(header(it.Headers, "Retry-After"), time.Now())
					if !ok {
						d = retryBackoff * time.Duration(1<<round)
					}
					wait = max(wait, d)
				default:
					out[id] = itemResult(op, it, fields, round+1)
				}
			}
			if len(throttled) == 0 {
				return nil
			}
			if !fits(ctx, wait) {
				for _, id := range throttled {
					out[id] = BatchResult{Err: statusError(op, http.StatusTooManyRequests, "TooManyRequests", wait)}
				}
				return nil
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "graph: retrying throttled batch items",
				slog.Int("items", len(throttled)), slog.Duration("delay", wait), slog.Int("round", round+1))
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			pending = throttled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// postBatch sends one raw $batch request through the SDK's adapter (auth, retry,
// compression) and returns the items by their id ("1" … "20"). The msgraph-sdk-go-core
// batch helpers are not used: they drop item status details on errors and re-encode
// item bodies through reflection.
func (c *Client) postBatch(ctx context.Context, ids, fields []string) (map[string]batchItem, error) {
	type request struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	reqs := make([]request, len(ids))
	query := ""
	if len(fields) > 0 {
		query = "?$select=" + strings.Join(fields, ",")
	}
	for i, id := range ids {
		reqs[i] = request{ID: strconv.Itoa(i + 1), Method: "GET", URL: "/users/" + url.PathEscape(id) + query}
	}
	body, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		return nil, err
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.PathParameters["baseurl"] = c.baseURL
	ri.SetStreamContentAndContentType(body, "application/json")
	ri.Headers.TryAdd("Accept", "application/json")
	raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abstractions.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	if err != nil {
		return nil, err
	}
	b, _ := raw.([]byte)
	var resp struct {
		Responses []batchItem `json:"responses"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, &Error{Kind: ErrUnavailable, op: "batch", Status: http.StatusOK, Code: "invalid_batch_response"}
	}
	items := make(map[string]batchItem, len(resp.Responses))
	for _, it := range resp.Responses {
		items[it.ID] = it
	}
	return items, nil
}

// itemResult maps one batch item, answered on the attempts-th try, to a user or an error.
func itemResult(op string, it batchItem, fields []string, attempts int) BatchResult {
	if it.Status >= 400 || it.Status < 200 {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(it.Body, &env) // odd bodies just lose the code
		ra, _ := parseRetryAfter(header(it.Headers, "Retry-After"), time.Now())
		err := statusError(op, nonZero(it.Status, http.StatusBadGateway), env.Error.Code, ra)
		estimateRetryAfter(err, attempts)
		return BatchResult{Err: err}
	}
	u, err := parseUser(it.Body, fields)
	if err != nil {
		return BatchResult{Err: &Error{Kind: ErrUnavailable, op: op, Status: it.Status, Code: "invalid_item_body"}}
	}
	return BatchResult{User: u}
}

// parseUser reads a user JSON object through the SDK model, so batch results look
// exactly like User results.
func parseUser(body []byte, fields []string) (User, error) {
	node, err := jsonserialization.NewJsonParseNode(body)
	if err != nil {
		return nil, err
	}
	v, err := node.GetObjectValue(models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("empty user object")
	}
	return toUser(v, fields)
}

// header looks a header up case-insensitively in a batch item's header map.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
