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
// distinct id. Items Graph throttled shut the client's gate and are re-sent once it
// opens (the SDK never retries batch items), up to MaxRetries rounds, when that wait is
// within MaxRetryWait and the timeout; otherwise they carry a *ThrottledError.
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

// batchChunk reads up to spec.MaxBatchRequests users within one call timeout. Items
// Graph throttled shut the client's gate, like a throttled request, and are re-sent
// once it opens, if that wait is within MaxRetryWait and the deadline, at most
// MaxRetries times; otherwise they carry a *ThrottledError with the remaining delay.
func (c *Client) batchChunk(ctx context.Context, op string, ids, fields []string) (map[string]BatchResult, error) {
	out := make(map[string]BatchResult, len(ids))
	err := c.call(ctx, op, directory, func(ctx context.Context) error {
		pending := ids
		for round := 0; len(pending) > 0; round++ {
			if round > 0 { // a re-send, already waiting: it may wait for the gate within MaxRetryWait
				if err := c.gates[directory].admit(ctx, op, c.maxWait); err != nil {
					return c.failPending(ctx, op, out, pending, err, round)
				}
			}
			items, err := c.postBatch(ctx, pending, fields)
			if err != nil {
				return c.failPending(ctx, op, out, pending, err, round)
			}
			throttled := c.sortItems(op, out, pending, items, fields, round)
			if len(throttled) == 0 {
				return nil
			}
			wait := c.gates[directory].remaining()
			if round >= c.maxRetries || wait > c.maxWait || !fits(ctx, wait) {
				for _, t := range throttled {
					out[t.id] = itemResult(op, t.item, fields, round+1, wait)
				}
				return nil
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "graph: retrying throttled batch items",
				slog.Int("items", len(throttled)), slog.Duration("delay", wait), slog.Int("round", round+1))
			pending = make([]string, 0, len(throttled))
			for _, t := range throttled {
				pending = append(pending, t.id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// throttledItem is a $batch item Graph answered 429, with the user id it asked for.
type throttledItem struct {
	id   string
	item batchItem
}

// sortItems files the answers of one $batch round (the round-th, from 0) into out and
// returns the items Graph throttled, in request order, after shutting the gate for
// each one's Retry-After (or the gate's back-off when it has none).
func (c *Client) sortItems(op string, out map[string]BatchResult, pending []string, items map[string]batchItem,
	fields []string, round int) []throttledItem {
	var throttled []throttledItem
	for i, id := range pending {
		it, ok := items[strconv.Itoa(i+1)]
		switch {
		case !ok:
			out[id] = BatchResult{Err: &Error{Kind: ErrUnavailable, op: op, Code: "missing_batch_item"}}
		case it.Status == http.StatusTooManyRequests:
			c.gates[directory].throttled(parseRetryAfter(header(it.Headers, "Retry-After"), time.Now()))
			throttled = append(throttled, throttledItem{id: id, item: it})
		default:
			out[id] = itemResult(op, it, fields, round+1, 0)
		}
	}
	if len(throttled) == 0 {
		c.gates[directory].succeeded()
	}
	return throttled
}

// failPending gives the items still pending in a re-send round the error that ended
// it (mapped: e.g. the gate's refusal), keeping the answers of earlier rounds; a failure
// of the first round fails the whole chunk.
func (c *Client) failPending(ctx context.Context, op string, out map[string]BatchResult, pending []string,
	err error, round int) error {
	if round == 0 {
		return err
	}
	mapped := mapError(ctx, op, err, callInfoFrom(ctx), c.gates[directory].remaining())
	for _, id := range pending {
		out[id] = BatchResult{Err: mapped}
	}
	return nil
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

// itemResult maps one batch item, answered on the attempts-th try, to a user or an
// error; a throttled item waits at least shut, what remains of the client's gate.
func itemResult(op string, it batchItem, fields []string, attempts int, shut time.Duration) BatchResult {
	if it.Status >= 400 || it.Status < 200 {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(it.Body, &env) // odd bodies just lose the code
		ra, _ := parseRetryAfter(header(it.Headers, "Retry-After"), time.Now())
		err := statusError(op, nonZero(it.Status, http.StatusBadGateway), env.Error.Code, ra)
		settleRetryAfter(err, attempts, shut)
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
