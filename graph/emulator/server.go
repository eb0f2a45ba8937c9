// Package emulator is a faithful in-process and standalone fake of Entra ID and the
// Microsoft Graph v1.0 endpoints graphgate uses, served over HTTPS with an in-memory CA.
//
// One origin serves both: the Entra authority (/{tenant}/v2.0/.well-known/openid-configuration,
// /{tenant}/discovery/v2.0/keys, /{tenant}/oauth2/v2.0/token, /common/UserRealm/{upn}) and
// Graph (/v1.0/...). Graph requires an app-only token minted by the emulator; the token's tid
// selects the tenant. Faults, throttling, outages and a request log can be driven from Go
// or over the JSON control API under /_emulator/.
package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configures New. The zero value serves DefaultDirectory on 127.0.0.1 with a
// random port.
type Options struct {
	// Addr is the listen address; "" means 127.0.0.1:0.
	Addr string
	// Directory is the initial directory; nil means DefaultDirectory().
	Directory *Directory
	// Logger receives one debug record per request (route template and status only);
	// nil discards.
	Logger *slog.Logger
	// PublicURL overrides the origin used in issuers, discovery documents and nextLinks
	// (e.g. "https://emulator:8443" behind a container network); its host is added to
	// the certificate. "" means https://{listen address}, with 127.0.0.1 for an
	// unspecified address.
	PublicURL string
	// ReplicationDelay is how long a user change takes to reach Graph's advanced-query
	// index and Entra's token service (see SetReplicationDelay); 0 means at once.
	ReplicationDelay time.Duration
}

// Emulator is a running fake of Entra ID and Microsoft Graph.
type Emulator struct {
	log    *slog.Logger
	url    string
	tls    *tlsMaterial
	srv    *http.Server
	mux    *http.ServeMux
	ctl    *http.ServeMux
	client *http.Client
	now    func() time.Time
	done   chan struct{}

	mu      sync.RWMutex
	tenants []*tenantState
	refresh map[string]refreshGrant
	repl    replication

	faults faultState
	reqlog requestLog
}

// New generates a CA and server certificate in memory, signing keys per tenant, and
// starts serving HTTPS on opts.Addr.
func New(opts Options) (*Emulator, error) {
	e := &Emulator{log: opts.Logger, now: time.Now, refresh: map[string]refreshGrant{}, done: make(chan struct{})}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.faults.init()
	e.repl.delay = max(opts.ReplicationDelay, 0)
	dir := opts.Directory
	if dir == nil {
		dir = DefaultDirectory()
	}
	if err := e.loadDirectory(dir); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	hosts, err := e.setURL(ln.Addr().(*net.TCPAddr), opts.PublicURL)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	if e.tls, err = newTLS(e.now(), hosts...); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	e.mux, e.ctl = e.routes(), e.controlRoutes()
	e.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: e.tls.pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
	}, Timeout: 30 * time.Second}
	e.srv = &http.Server{
		Handler:           e,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{e.tls.cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(e.done)
		if err := e.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("emulator: serve", "err", err)
		}
	}()
	return e, nil
}

// loadDirectory indexes a deep copy of dir and generates one signing key per tenant.
func (e *Emulator) loadDirectory(dir *Directory) error {
	var wg sync.WaitGroup
	errs := make([]error, len(dir.Tenants))
	for i, t := range dir.Tenants {
		ts, err := newTenantState(t)
		if err != nil {
			return fmt.Errorf("emulator: tenant %d: %w", i, err)
		}
		e.tenants = append(e.tenants, ts)
		wg.Go(func() {
			k, err := newSigningKey(e.now())
			ts.keys, errs[i] = []*signingKey{k}, err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// setURL derives the public origin and returns the hosts the certificate must cover.
func (e *Emulator) setURL(addr *net.TCPAddr, public string) ([]string, error) {
	host := "127.0.0.1"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	e.url = "https://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	hosts := []string{host}
	if public != "" {
		u, err := url.Parse(public)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("emulator: public url must be https://host[:port]: %w", ErrInvalid)
		}
		e.url = "https://" + u.Host
		hosts = append(hosts, u.Hostname())
	}
	return hosts, nil
}

// URL returns the origin, e.g. "https://127.0.0.1:PORT": the Entra authority host and the
// Graph host (Graph's base URL is URL()+"/v1.0").
func (e *Emulator) URL() string { return e.url }

// HTTPClient returns a client that trusts the emulator's CA.
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// CertPool returns a pool holding the emulator's CA certificate.
func (e *Emulator) CertPool() *x509.CertPool { return e.tls.pool.Clone() }

// CACertPEM returns the emulator's CA certificate in PEM form.
func (e *Emulator) CACertPEM() []byte { return append([]byte(nil), e.tls.caPEM...) }

// Handler returns the emulator's HTTP handler (the same one the HTTPS server runs), for
// callers that serve it themselves.
func (e *Emulator) Handler() http.Handler { return e }

// Close stops the server and closes idle client connections.
func (e *Emulator) Close() error {
	err := e.srv.Close()
	<-e.done
	e.client.CloseIdleConnections()
	return err
}

// ServeHTTP runs the request pipeline: request ids, control API, outage, then dispatch.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := &reqState{requestID: newUUID(), clientRequestID: r.Header.Get("client-request-id")}
	if st.clientRequestID == "" {
		st.clientRequestID = st.requestID
	}
	w.Header().Set("request-id", st.requestID)
	w.Header().Set("client-request-id", st.clientRequestID)
	r = withState(r, st)
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.ctl.ServeHTTP(w, r)
		return
	}
	if e.faults.outage() {
		// A connection-level failure: HTTP/1 closes the connection, HTTP/2 resets the stream.
		panic(http.ErrAbortHandler)
	}
	e.dispatch(w, r)
}

// dispatch routes one request (or $batch item) and records it in the request log.
func (e *Emulator) dispatch(w http.ResponseWriter, r *http.Request) {
	start := e.now()
	st := state(r)
	sw := &statusWriter{ResponseWriter: w}
	// Graph reads ";" in a query as part of a value ($expand=manager($levels=max;$select=id),
	// https://learn.microsoft.com/graph/api/user-list-manager); Go's url.ParseQuery
	// drops any pair holding one (golang.org/issue/25192), so it is escaped first.
	r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, ";", "%3B")
	if err := decodeBody(r); err != nil {
		graphError(sw, r, http.StatusBadRequest, "BadRequest", "The request body could not be decompressed: invalid gzip data.")
	} else if routeUserKey(sw, r) {
		e.mux.ServeHTTP(sw, r)
	}
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	route := r.Pattern
	if route == "" || route == "/" {
		route = r.Method + " (unmatched)"
	}
	q := r.URL.Query()
	filter, _ := option(q, "filter")
	search, _ := option(q, "search")
	e.reqlog.add(Request{Time: start, Method: r.Method, Route: route, TenantID: st.tenantID,
		AppID: st.appID, Select: st.selects, Filter: filter, Search: search, Status: sw.status, InBatch: st.inBatch})
	e.log.Debug("emulator: request", "route", route, "status", sw.status, "in_batch", st.inBatch,
		"duration", e.now().Sub(start))
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush supports streaming writers.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// readAllLimited reads at most 4 MiB of a body.
func readAllLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, 4<<20))
}
