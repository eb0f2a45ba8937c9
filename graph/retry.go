package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

// callInfo records what the wire said for one logical call: the last response's
// status, Retry-After and Content-Type, and how many attempts were made. The SDK's
// error values do not reliably carry these (odd error bodies, batch items), so the
// recorder middleware stores them here through the request context.
type callInfo struct {
	mu          sync.Mutex
	status      int
	retryAfter  time.Duration
	contentType string
	attempts    int
}

type callInfoKey struct{}

func withCallInfo(ctx context.Context) (context.Context, *callInfo) {
	info := &callInfo{}
	return context.WithValue(ctx, callInfoKey{}, info), info
}

func callInfoFrom(ctx context.Context) *callInfo {
	info, _ := ctx.Value(callInfoKey{}).(*callInfo)
	return info
}

func (c *callInfo) record(resp *http.Response) {
	if c == nil || resp == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts++
	c.status = resp.StatusCode
	c.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	c.contentType = resp.Header.Get("Content-Type")
}

func (c *callInfo) last() (status int, retryAfter time.Duration) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.retryAfter
}

func (c *callInfo) attemptCount() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attempts
}

func (c *callInfo) lastContentType() string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.contentType
}

// recorder is the innermost middleware: it notes every response in the call's callInfo.
type recorder struct{}

// Intercept implements khttp.Middleware.
func (recorder) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := p.Next(req, i)
	callInfoFrom(req.Context()).record(resp)
	return resp, err
}

// retrier replaces kiota's retry handler, which truncates fractional Retry-After
// values and sleeps past deadlines. It keeps every request behind the client's
// throttling gate, and shuts the gate for Retry-After (or the back-off) whenever Graph
// answers 429. It retries 429, 502, 503 and 504 and transport errors at most max
// times, waits exactly Retry-After (fractional seconds kept) or an exponential
// back-off, and gives up — returning the last response — as soon as the wait exceeds
// maxWait or would not fit in the request context's deadline. Every attempt is a fresh
// clone of the request with the original (uncompressed) body and headers, so the
// compression handler inside it compresses each attempt afresh.
type retrier struct {
	max     int
	maxWait time.Duration
	base    time.Duration
	gates   *gates
	cred    *renewingCredential // nil: a refused token is not renewed
	log     *slog.Logger
}

// Intercept implements khttp.Middleware. A first attempt meeting a shut gate fails at
// once with the gate's error; a retry, already waiting, waits for the gate within
// maxWait.
func (r *retrier) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ctx := req.Context()
	gate := &r.gates[serviceOf(req.URL.Path)]
	authz := "" // a renewed token's Authorization header, once Graph refused the first
	for attempt := 0; ; attempt++ {
		if err := gate.admit(ctx, "", r.patience(attempt)); err != nil {
			return nil, err
		}
		next := cloneRequest(req, body)
		if authz != "" {
			next.Header.Set("Authorization", authz)
		}
		resp, err := p.Next(next, i)
		if err == nil && resp.StatusCode != http.StatusTooManyRequests && !isBatch(req) {
			gate.succeeded() // a $batch's own 200 says nothing of its items
		}
		if authz == "" && err == nil && resp.StatusCode == http.StatusUnauthorized {
			if authz = r.renewToken(ctx, req.Header.Get("Authorization")); authz != "" {
				discard(resp)
				continue
			}
		}
		delay, retry := r.delay(gate, resp, err, attempt)
		if !retry || attempt >= r.max || delay > r.maxWait || !fits(ctx, delay) {
			return resp, err
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
			discard(resp)
		}
		r.log.LogAttrs(ctx, slog.LevelDebug, "graph: retrying upstream call",
			slog.String("method", req.Method), slog.Int("status", status),
			slog.Int("attempt", attempt+1), slog.Duration("delay", delay))
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// renewToken handles Graph's 401 to a request that carried the app-only token refused
// (a retired signing key, a revoked token), which azidentity would hand out until it
// expires. Unless another request has renewed the credential meanwhile, it drops the
// cached token (at most once per minRenewInterval for the client); it returns the
// Authorization header of the newer token, or "" when the request is to fail with the
// 401 as it is.
func (r *retrier) renewToken(ctx context.Context, refused string) string {
	if r.cred == nil {
		return ""
	}
	authz, gen, err := r.cred.bearer(ctx)
	if err == nil && authz != refused {
		return authz // renewed by another request since this one was sent
	}
	if !r.cred.renew(gen) {
		return ""
	}
	if authz, _, err = r.cred.bearer(ctx); err != nil || authz == refused {
		return ""
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "graph: token refused, acquired a new one")
	return authz
}

// isBatch reports whether req is a Graph $batch request.
func isBatch(req *http.Request) bool { return strings.HasSuffix(req.URL.Path, "/$batch") }

// discard reads a little of a response body we do not use and closes it, so that its
// connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
}

// patience is how long an attempt may wait for a shut gate: nothing for a first
// attempt (its caller gets the remaining delay at once), maxWait for a retry.
func (r *retrier) patience(attempt int) time.Duration {
	if attempt == 0 {
		return 0
	}
	return r.maxWait
}

// delay decides whether an outcome is retryable and how long to wait first: Graph's
// Retry-After, or when it sent none an exponential back-off, as Graph advises: "If no
// Retry-After header is provided by the response, we recommend implementing an
// exponential backoff retry policy"
// (https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling).
// A 429 shuts the gate for that delay (throttleBackoff without Retry-After), and the
// wait before the retry is whatever remains of the gate, which other 429s may have
// extended.
func (r *retrier) delay(gate *gate, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	backoff := r.base * time.Duration(1<<min(attempt, 10))
	if err != nil {
		if resp == nil && !isContextErr(err) {
			return backoff, true
		}
		return 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return gate.throttled(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())), true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d, true
		}
		return backoff, true
	}
	return 0, false
}

// maxThrottleBackoff bounds the back-off reported for a 429 without Retry-After.
const maxThrottleBackoff = 30 * time.Second

// throttleBackoff is the wait after the n-th 429 in a row that came without
// Retry-After (n ≥ 1): the exponential back-off 1 s·2^(n-1), at most
// maxThrottleBackoff, so that the gate holding off the service does not let it hammer
// Graph. It shuts the gate and is what callers are told to wait.
func throttleBackoff(n int) time.Duration {
	return min(time.Second<<min(max(n-1, 0), 5), maxThrottleBackoff)
}

// fits reports whether waiting d still leaves the context time to make a request.
func fits(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func cloneRequest(req *http.Request, body []byte) *http.Request {
	c := req.Clone(req.Context())
	if body == nil {
		return c
	}
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.ContentLength = int64(len(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c
}

// parseRetryAfter reads Retry-After as (fractional) seconds, e.g. "2.128", or as an
// HTTP date. It reports false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) || secs > 24*3600 {
			return 0, false
		}
		return time.Duration(math.Round(secs*1e6)) * time.Microsecond, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
