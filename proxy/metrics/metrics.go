// Package metrics holds graphgate's Prometheus metrics for operators.
//
// A Metrics owns its own registry (never the global one), so tests and several gateways
// in one process do not collide. Every label value is drawn from a small, fixed set: route
// templates, status classes, client-app policy names, upstream operation names and
// outcome words. No label ever holds a user id, UPN, raw path, query or tenant-internal
// identifier, so a scrape reveals how the gateway behaves, never whom it served.
//
// All methods are safe on a nil *Metrics (they do nothing), so code paths can record
// unconditionally whether or not metrics are enabled.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "graphgate"

// Outcome words of upstream calls and revocations. The graph package owns the words
// of upstream calls (graph.OutcomeOK, ... and graph.Outcome, which classifies an
// error): graph.Config.OnCall reports them and ObserveUpstream is meant to be that
// hook. They are repeated here, not imported, so that this package (and every
// package that records metrics) builds without msgraph-sdk-go; tests in both
// packages pin the same literal words.
const (
	OutcomeOK          = "ok"
	OutcomeNotFound    = "not_found"
	OutcomeThrottled   = "throttled"
	OutcomeGated       = "gated" // refused by the throttling gate: Graph was not called
	OutcomeBadRequest  = "bad_request"
	OutcomeDenied      = "denied"
	OutcomeUnavailable = "unavailable"
	OutcomeError       = "error"
)

// latencyBuckets are the request-latency histogram bounds in seconds, from cache hits
// (sub-millisecond) to slow upstream calls.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the set of operator metrics of one gateway. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	throttled       *prometheus.CounterVec
	upstream        *prometheus.CounterVec
	upstreamTime    *prometheus.HistogramVec
	revocations     *prometheus.CounterVec
	revokedRefused  prometheus.Counter
}

// New returns Metrics registered on a fresh registry, together with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "Requests answered, by route template, status class and client app (policy name or \"other\").",
	}, []string{"route", "status_class", "client_app"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to answer a request, by route template and status class.",
		Buckets: latencyBuckets,
	}, []string{"route", "status_class"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "throttled_responses_total",
		Help: "Requests answered 429 Too Many Requests, by route template.",
	}, []string{"route"})
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "upstream", Name: "requests_total",
		Help: "Calls to Microsoft Graph, by operation and outcome (ok, not_found, throttled, bad_request, denied, unavailable, error; gated: refused while Graph's Retry-After runs, Graph not called).",
	}, []string{"operation", "outcome"})
	m.upstreamTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "upstream", Name: "request_duration_seconds",
		Help:    "Duration of calls to Microsoft Graph (retries included), by operation.",
		Buckets: latencyBuckets,
	}, []string{"operation"})
	m.revocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "revocation", Name: "requests_total",
		Help: "Remote logouts (revocations) processed, by outcome (ok or error).",
	}, []string{"outcome"})
	m.revokedRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "revocation", Name: "refused_tokens_total",
		Help: "Requests refused because their token was issued before the user's revocation cut-off (the gateway's or Entra's).",
	})
	m.reg.MustRegister(m.requests, m.requestDuration, m.throttled, m.upstream, m.upstreamTime,
		m.revocations, m.revokedRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics live in, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition format. Serve it on a listener
// of its own (or behind protection), never on the public API port.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one answered request. route must be a route template (never a
// raw path), clientApp a policy name, "other" or "" (unauthenticated).
func (m *Metrics) ObserveRequest(route string, status int, clientApp string, d time.Duration) {
	if m == nil {
		return
	}
	class := StatusClass(status)
	if clientApp == "" {
		clientApp = "none"
	}
	m.requests.WithLabelValues(route, class, clientApp).Inc()
	m.requestDuration.WithLabelValues(route, class).Observe(d.Seconds())
	if status == http.StatusTooManyRequests {
		m.throttled.WithLabelValues(route).Inc()
	}
}

// ObserveUpstream records one call to Microsoft Graph. operation is a fixed operation
// name (e.g. "user", "users", "photo"); outcome one of the Outcome constants. Its
// signature is that of graph.Config.OnCall, so m.ObserveUpstream can be the hook.
func (m *Metrics) ObserveUpstream(operation, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(operation, outcome).Inc()
	if outcome == OutcomeGated {
		return // no call reached Graph: its duration would flatter Graph's latency
	}
	m.upstreamTime.WithLabelValues(operation).Observe(d.Seconds())
}

// ObserveRevocation records one processed remote logout: ok when err is nil, else error.
// The admin (logout) handler calls it once per revocation request it carried out.
func (m *Metrics) ObserveRevocation(err error) {
	if m == nil {
		return
	}
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
	}
	m.revocations.WithLabelValues(outcome).Inc()
}

// RevokedTokenRefused records one request refused because its token predates the user's
// revocation cut-off.
func (m *Metrics) RevokedTokenRefused() {
	if m == nil {
		return
	}
	m.revokedRefused.Inc()
}

// StatusClass returns the class of an HTTP status code: "2xx", "4xx", ... or "other".
func StatusClass(status int) string {
	switch status / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return "other"
}
