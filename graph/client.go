// Package graph is graphgate's only door to Microsoft Graph. It wraps
// msgraph-sdk-go and azidentity behind a small typed API: users by id or UPN with
// a field list, search, manager, direct reports, photos, presence, batched user
// reads and sign-in session revocation. No SDK type leaves this package.
//
// Upstream failures map to a few sentinel errors (ErrNotFound, ErrThrottled, ...);
// throttling and transient failures are retried a bounded number of times,
// honouring fractional Retry-After values and the call's deadline. Errors and logs
// never contain personal data: no user ids, UPNs or request paths.
package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
)

const (
	defaultBaseURL    = "https://graph.microsoft.com/v1.0"
	graphScope        = "https://graph.microsoft.com/.default"
	defaultTimeout    = 10 * time.Second
	defaultMaxRetries = 2
	retryBackoff      = 200 * time.Millisecond
)

// Config configures a Client for one tenant. Only TenantID, ClientID and one
// credential are required; every other zero value selects a safe default.
type Config struct {
	// TenantID is the Entra tenant (GUID or domain) whose directory is read.
	TenantID string
	// ClientID is the application (client) id of the gateway's app registration.
	ClientID string
	// ClientSecret authenticates the app; set it or CertificatePEM, not both.
	ClientSecret string
	// CertificatePEM holds a PEM certificate and its private key (unencrypted) for
	// certificate credentials, as read by azidentity.ParseCertificates.
	CertificatePEM []byte
	// AuthorityHost is the Entra authority, e.g. "https://login.microsoftonline.com/";
	// "" selects the Azure public cloud. It must be https.
	AuthorityHost string
	// BaseURL is Graph's versioned root; "" selects https://graph.microsoft.com/v1.0.
	// It must be https. Access tokens are only ever sent to this host.
	BaseURL string
	// HTTPClient provides the transport for both token requests and Graph calls
	// (its Transport is reused; its Timeout is ignored in favour of Timeout).
	// nil selects a clone of http.DefaultTransport.
	HTTPClient *http.Client
	// Timeout bounds each call including token acquisition and retries; default 10s.
	Timeout time.Duration
	// MaxRetries bounds retries of throttled (429) and transient (502/503/504,
	// transport) failures per request; 0 selects 2, a negative value disables retries.
	MaxRetries int
	// MaxRetryWait is the longest delay (Graph's Retry-After, fractional seconds kept,
	// or the client's back-off) a call waits out before retrying; a longer one ends the
	// call at once with ErrThrottled (or ErrUnavailable for 5xx) carrying the delay.
	// 0 selects DefaultMaxRetryWait (1s), a negative value never waits. Whatever it is,
	// a 429 shuts the client's gate until its Retry-After has passed: meanwhile new
	// calls fail at once with the remaining delay and reach no Graph endpoint.
	MaxRetryWait time.Duration
	// Logger receives debug and warning records without personal data; nil discards.
	Logger *slog.Logger
	// OnCall, when set, is called once after each call of a public Client method
	// returns, with the operation ("user", "users", "manager", "direct_reports",
	// "photo", "presence", "presences", "users_batch", "revoke_sign_in_sessions" or "people"),
	// the outcome (Outcome of the returned error: OutcomeOK, OutcomeNotFound, ...;
	// OutcomeGated when the throttling gate refused the call, which then never reached
	// Graph) and the call's duration, retries and input validation included. It runs on the
	// caller's goroutine, possibly concurrently with other calls, so it must be safe for
	// concurrent use and fast. Its arguments never hold personal data.
	OnCall func(op, outcome string, d time.Duration)
}

// Client reads one tenant's directory from Microsoft Graph. It is safe for
// concurrent use.
type Client struct {
	sdk        *msgraphsdk.GraphServiceClient
	adapter    *msgraphsdk.GraphRequestAdapter
	baseURL    string
	timeout    time.Duration
	maxRetries int
	maxWait    time.Duration // MaxRetryWait, normalised
	gates      *gates        // per service, shut while a Retry-After of Graph runs
	log        *slog.Logger
	onCall     func(op, outcome string, d time.Duration)
}

// New builds a Client. It validates the configuration and prepares the credential
// but makes no network call: a wrong secret surfaces as ErrUnauthorized on first use.
func New(cfg Config) (*Client, error) {
	if err := cfg.normalize(); err != nil {
		return nil, fmt.Errorf("graph: config: %w", err)
	}
	cred, err := newRenewingCredential(func() (azcore.TokenCredential, error) { return newCredential(cfg) })
	if err != nil {
		return nil, fmt.Errorf("graph: credential: %w", err)
	}
	base, _ := url.Parse(cfg.BaseURL)
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, []string{graphScope}, []string{base.Hostname()}) // kiota compares Hostname(): no port
	if err != nil {
		return nil, fmt.Errorf("graph: auth provider: %w", err)
	}
	g := &gates{}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, newGraphHTTPClient(cfg, g, cred))
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(cfg.BaseURL)
	return &Client{
		sdk:        msgraphsdk.NewGraphServiceClient(adapter),
		adapter:    adapter,
		baseURL:    cfg.BaseURL,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		maxWait:    cfg.MaxRetryWait,
		gates:      g,
		log:        cfg.Logger,
		onCall:     cfg.OnCall,
	}, nil
}

// normalize validates cfg and fills in defaults.
func (cfg *Config) normalize() error {
	switch {
	case cfg.TenantID == "":
		return errors.New("tenant id is required")
	case cfg.ClientID == "":
		return errors.New("client id is required")
	case cfg.ClientSecret == "" && len(cfg.CertificatePEM) == 0:
		return errors.New("a client secret or a certificate is required")
	case cfg.ClientSecret != "" && len(cfg.CertificatePEM) != 0:
		return errors.New("set either a client secret or a certificate, not both")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return errors.New("base url must be an absolute https url")
	}
	if cfg.AuthorityHost != "" {
		a, err := url.Parse(cfg.AuthorityHost)
		if err != nil || a.Scheme != "https" || a.Host == "" {
			return errors.New("authority host must be an absolute https url")
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = defaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	} else if cfg.MaxRetryWait < 0 {
		cfg.MaxRetryWait = 0
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// newCredential builds the azidentity credential for the app registration.
func newCredential(cfg Config) (azcore.TokenCredential, error) {
	opts := azcore.ClientOptions{
		Transport: cfg.HTTPClient,
		Retry: policy.RetryOptions{
			MaxRetries:    int32(max(cfg.MaxRetries, -1)),
			RetryDelay:    retryBackoff,
			MaxRetryDelay: 2 * time.Second,
		},
	}
	if cfg.MaxRetries == 0 {
		opts.Retry.MaxRetries = -1 // azcore reads 0 as "default (3)"
	}
	if cfg.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost}
	}
	if cfg.ClientSecret != "" {
		return azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	}
	certs, key, err := azidentity.ParseCertificates(cfg.CertificatePEM, nil)
	if err != nil {
		return nil, errors.New("certificate pem: cannot parse certificate and key")
	}
	return azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
}

// newGraphHTTPClient builds the Graph transport with a middleware chain in a fixed
// order (kiota's default chain is built from a map, so its order varies between
// runs). Outermost first: telemetry headers, our retrier (kiota's retry handler is
// left out: it truncates fractional Retry-After and never retries batch items; ours
// also keeps every request behind the client's throttling gate g), redirects,
// request-body compression (inside the retrier, which replays the original body, so
// every attempt is compressed afresh), $-parameter decoding, user agent, and the
// recorder that notes each response for error mapping.
func newGraphHTTPClient(cfg Config, g *gates, cred *renewingCredential) *http.Client {
	opts := msgraphsdk.GetDefaultClientOptions()
	chain := []khttp.Middleware{
		msgraphgocore.NewGraphTelemetryHandler(&opts),
		&retrier{max: cfg.MaxRetries, maxWait: cfg.MaxRetryWait, base: retryBackoff, gates: g, cred: cred, log: cfg.Logger},
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		recorder{},
	}
	parent := cfg.HTTPClient.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	return &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, chain...),
		// The redirect middleware follows redirects; net/http must not do it again.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// call runs one logical operation on a service under the client's timeout, maps any
// error and logs the outcome without personal data. While the service's throttling gate
// is shut it fails at once, before acquiring a token or building a request.
func (c *Client) call(ctx context.Context, op string, svc service, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ctx, info := withCallInfo(ctx)
	start := time.Now()
	g := &c.gates[svc]
	err := g.admit(ctx, op, 0)
	if err == nil {
		err = fn(ctx)
	}
	err = mapError(ctx, op, err, info, g.remaining())
	level := slog.LevelDebug // a gate refusal too: the 429 that shut the gate was a warning
	if err != nil && !errors.Is(err, ErrNotFound) && !gated(err) {
		level = slog.LevelWarn
	}
	status, _ := info.last()
	c.log.LogAttrs(ctx, level, "graph call", slog.String("op", op), slog.Int("status", status),
		slog.Int("attempts", info.attemptCount()), slog.Duration("duration", time.Since(start)),
		slog.Any("error", errString(err)))
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() // always an *Error here: free of personal data
}
