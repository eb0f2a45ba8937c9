package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/policy"
)

// demoReplicationDelay is the demo emulator's replication delay: Entra is eventually
// consistent, so the demo is too, and shows that graphgate's guarantees do not depend
// on it (a just-disabled account is still in Graph's search index for this long).
const demoReplicationDelay = 30 * time.Second

// runDemo runs the emulator and the gateway in one process, with a demo policy.
func runDemo(env cmdEnv, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "gateway listen address")
	emuAddr := fs.String("emulator-addr", "127.0.0.1:0", "emulator listen address (HTTPS)")
	dataDir := fs.String("data-dir", "graphgate-data", "where graphgate keeps what it persists")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	metricsAddr := fs.String("metrics-addr", "", "Prometheus metrics listen address, e.g. 127.0.0.1:9090 (default off)")
	replication := fs.Duration("replication-delay", demoReplicationDelay,
		"how long the emulated Entra takes to show a user change in advanced queries and to its token service (0 = at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(env.stderr, *logLevel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	emu, err := emulator.New(emulator.Options{Addr: *emuAddr, Logger: log.With("component", "emulator"),
		ReplicationDelay: *replication})
	if err != nil {
		return err
	}
	defer emu.Close()
	dir := emu.Directory()
	if len(dir.Tenants) == 0 {
		return errors.New("demo: the emulator has no tenants")
	}
	pol, err := policy.Parse([]byte(demoPolicy(dir)))
	if err != nil {
		return fmt.Errorf("demo policy: %w", err)
	}
	cfg := demoConfig(dir, emu.URL(), *dataDir, *logLevel)
	cfg.Metrics.Listen = *metricsAddr
	gw, err := buildGateway(env.ctx, cfg, pol, emu.HTTPClient(), log)
	if err != nil {
		return err
	}
	defer gw.Close()
	ln, err := listen(*addr)
	if err != nil {
		return err
	}
	if err := printDemoIntro(env, dir.Tenants[0], emu.URL(), baseURLOf(ln)); err != nil {
		return err
	}
	waitMetrics, err := startMetrics(env.ctx, cfg.Metrics.Listen, ln.Addr().String(), gw.metrics, env.stdout, log)
	if err != nil {
		return err
	}
	defer waitMetrics() // env.ctx is done when serveUntil returns: the metrics server stops too
	go seedDemoUsage(env.ctx, emu, baseURLOf(ln), gw.usage, log.With("component", "demo-usage"))
	log.Info("graphgate demo serving", "addr", ln.Addr().String())
	return serveUntil(env.ctx, ln, gw.server.Handler(), gatewayStopPlan(cfg, gw.server), log)
}

// demoConfig is the gateway configuration for the emulator's directory.
func demoConfig(dir emulator.DirectoryInfo, emuURL, dataDir, logLevel string) Config {
	cfg := Config{
		AppID:     dir.Tenants[0].GatewayAppID,
		Authority: emuURL,
		GraphURL:  emuURL + "/v1.0",
		DataDir:   dataDir,
		LogLevel:  logLevel,
		CORS:      CORSConfig{AllowedOrigins: []string{"*"}},
		// No load balancer routes to the demo: Ctrl-C stops it without a drain.
		Shutdown: ShutdownConfig{Drain: new(time.Duration)},
	}
	for _, t := range dir.Tenants {
		cfg.Tenants = append(cfg.Tenants, TenantConfig{ID: t.ID, Name: t.Domain, ClientID: t.GatewayAppID, ClientSecret: t.GatewayClientSecret})
	}
	return cfg
}

// demoPolicy grants each of the emulator's client apps a purpose-fitting view.
func demoPolicy(dir emulator.DirectoryInfo) string {
	grants := map[string]string{
		"chat-web": `    purpose: Show colleagues' names, photos and presence next to chat messages.
    operations: [me.read, users.read, users.list, photo.read, presence.read, people.read]
    fields:
      self: [displayName, givenName, surname, mail, jobTitle, officeLocation, preferredLanguage, userPrincipalName]
      others: [displayName, jobTitle, mail]
`,
		"mobile": `    purpose: Show the signed-in user's own profile and colleagues' names and photos on mobile.
    operations: [me.read, users.read, photo.read, presence.read]
    fields:
      self: [displayName, givenName, surname, mail, jobTitle, mobilePhone, businessPhones, officeLocation, userPrincipalName]
      others: [displayName, jobTitle]
`,
		"intranet-directory": `    purpose: Company directory with org chart and contact details.
    operations: [me.read, users.read, users.list, photo.read, manager.read, directReports.read, presence.read, people.read]
    fields:
      self: [displayName, givenName, surname, mail, jobTitle, department, officeLocation, businessPhones, mobilePhone, userPrincipalName, preferredLanguage]
      others: [displayName, givenName, surname, mail, jobTitle, department, officeLocation, businessPhones, userPrincipalName]
`,
	}
	var b strings.Builder
	b.WriteString("# graphgate demo policy\nclients:\n")
	seen := map[string]bool{}
	for _, t := range dir.Tenants {
		for _, c := range t.Clients {
			g, ok := grants[c.Name]
			if !ok || seen[strings.ToLower(c.ID)] {
				continue
			}
			seen[strings.ToLower(c.ID)] = true
			fmt.Fprintf(&b, "  - app_id: %s\n    name: %s\n%s", c.ID, c.Name, g)
		}
	}
	return b.String()
}

// demoIntro is the first stdout line of the demo: one JSON object scripts can rely on.
type demoIntro struct {
	GatewayURL  string `json:"gateway_url"`
	EmulatorURL string `json:"emulator_url"`
	TokenURL    string `json:"token_url"`
	TenantID    string `json:"tenant_id"`
	ClientID    string `json:"client_id"`
	Scope       string `json:"scope"`
	Username    string `json:"username"`
	Password    string `json:"password"`
}

func printDemoIntro(env cmdEnv, t emulator.TenantInfo, emuURL, gwURL string) error {
	in := demoIntro{GatewayURL: gwURL, EmulatorURL: emuURL, TokenURL: emuURL + "/" + t.ID + "/oauth2/v2.0/token",
		TenantID: t.ID, Scope: t.Scope, Password: t.Password}
	for _, c := range t.Clients {
		if c.Name == "chat-web" || in.ClientID == "" {
			in.ClientID = c.ID
		}
	}
	for _, u := range t.Users {
		if u.AccountEnabled {
			in.Username = u.UserPrincipalName
			break
		}
	}
	line, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.stdout, `%s
graphgate demo is running: gateway %s, Graph/Entra emulator %s

Get a token for a demo user (the emulator's certificate is self-signed, hence -k):

  TOKEN=$(curl -sk %s \
    -d grant_type=password -d client_id=%s -d 'scope=%s' \
    -d username=%s -d password=%s | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

Then call the gateway as you would call Microsoft Graph:

  curl -s -H "Authorization: Bearer $TOKEN" %s/v1.0/me
  curl -s -H "Authorization: Bearer $TOKEN" -H 'ConsistencyLevel: eventual' '%s/v1.0/users?$search="displayName:a"&$top=5'

The emulator's directory (tenants, client apps, users): curl -sk %s/_emulator/directory
%sPress Ctrl-C to stop.
`, line, gwURL, emuURL, in.TokenURL, in.ClientID, in.Scope, in.Username, in.Password, gwURL, gwURL, emuURL,
		dashboardHint(t, emuURL, gwURL))
	return err
}
