package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// TestPrivacyProof is the proof that graphgate writes nothing personal. It runs
// `graphgate serve --log-level debug` against the emulator with every persistence this
// build offers (usage store in the data directory, audit file, Redis when
// GRAPHGATE_TEST_REDIS is set), drives every endpoint for every fixture user and client
// app, stops graphgate, and then scans every byte it wrote — logs (stderr), stdout, the
// data directory, the audit file, temporary files, Redis keys and values under its
// prefixes, and the metrics it exposed — for every personal value of the fixture
// directory. One hit fails the test, naming the value and where it was found.
func TestPrivacyProof(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)                      // temporary files graphgate creates land here and are scanned
	emu, err := emulator.New(emulator.Options{}) // Microsoft's side: its own logs are not ours
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	p := newProof(t, emu)
	g := p.start()
	p.checkPrivacyRecord(g.base)
	d := &driver{t: t, emu: emu, base: g.base, cov: map[string]int{}}
	d.driveEverything()
	metrics := ""
	if g.metricsURL != "" {
		metrics = httpGet(t, g.metricsURL)
	}
	g.stop()

	values := personalValues(emu)
	var leaks []leak
	leaks = append(leaks, scanBytes("stderr (logs)", []byte(g.stderr.String()), values)...)
	leaks = append(leaks, scanBytes("stdout", []byte(g.stdout.String()), values)...)
	leaks = append(leaks, scanBytes("GET /metrics", []byte(metrics), values)...)
	written := map[string]int{}
	for _, root := range []string{p.dataDir, p.work, tmp} {
		n, l := scanTree(t, root, p.inputs, values)
		written[root] = n
		leaks = append(leaks, l...)
	}
	if p.redisURL != "" {
		leaks = append(leaks, p.scanRedis(values)...)
	}
	for _, l := range leaks {
		t.Errorf("LEAK: %s", l)
	}
	p.assertNotVacuous(g, d, written)
	if os.Getenv("PROOF_DEBUG") != "" {
		out, _ := os.ReadFile(p.auditFile)
		t.Logf("written %v\naudit: %s\nlogs sample: %.3000s", written, out, g.stderr.String())
	}
	t.Logf("proof covered: %s; requests by endpoint: %v", strings.Join(p.covered, ", "), d.cov)
	if len(p.uncovered) > 0 {
		t.Logf("proof did NOT cover (not in this build or not configured): %s", strings.Join(p.uncovered, ", "))
	}
}

// proof holds the environment of one proof run.
type proof struct {
	t         *testing.T
	emu       *emulator.Emulator
	work      string          // config, policy, CA, audit file
	dataDir   string          // graphgate's data directory
	inputs    map[string]bool // files the test wrote, not graphgate
	env       map[string]string
	redisURL  string
	prefix    string
	auditFile string
	covered   []string
	uncovered []string
}

// configHas reports whether this build's config file knows a top-level key: the proof
// uses every persistence the build offers.
func configHas(key string) bool {
	rt := reflect.TypeOf(Config{})
	for i := range rt.NumField() {
		if strings.Split(rt.Field(i).Tag.Get("yaml"), ",")[0] == key {
			return true
		}
	}
	return false
}

func newProof(t *testing.T, emu *emulator.Emulator) *proof {
	work := t.TempDir()
	p := &proof{t: t, emu: emu, work: work, dataDir: filepath.Join(work, "data"), inputs: map[string]bool{},
		env: map[string]string{}, redisURL: os.Getenv("GRAPHGATE_TEST_REDIS")}
	dir := emu.Directory()
	p.input("ca.pem", string(emu.CACertPEM()))
	p.input("policy.yaml", demoPolicy(dir))
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: 127.0.0.1:0\nlog_level: debug\napp_id: %s\nauthority: %s\ngraph_url: %s/v1.0\n"+
		"ca_file: ca.pem\npolicy_file: policy.yaml\ndata_dir: %s\ntenants:\n",
		dir.Tenants[0].GatewayAppID, emu.URL(), emu.URL(), p.dataDir)
	for i, tn := range dir.Tenants {
		fmt.Fprintf(&cfg, "  - {id: %s, name: %s, client_id: %s, client_secret: ${SECRET_%d}}\n", tn.ID, tn.Domain, tn.GatewayAppID, i)
		p.env[fmt.Sprintf("SECRET_%d", i)] = tn.GatewayClientSecret
	}
	cfg.WriteString("cache: {ttl: 30s}\n")
	p.optional(&cfg, "metrics", "metrics: {listen: 127.0.0.1:0}\n", "Prometheus /metrics")
	p.optional(&cfg, "privacy", "privacy: {hosting_region: EU (proof), controller: Proof GmbH, contact: dpo@proof.example}\n", "privacy config")
	p.optional(&cfg, "usage", "usage: {store: sqlite, flush_interval: 200ms}\n", "usage store (SQLite in the data dir)")
	p.auditFile = filepath.Join(work, "audit.jsonl")
	p.optional(&cfg, "audit", "audit: {file: "+p.auditFile+"}\n", "audit file")
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	p.env["REVOCATION_KEY"] = hex.EncodeToString(key)
	p.optional(&cfg, "revocation", "revocation: {key: ${REVOCATION_KEY}}\n", "revocation key")
	switch {
	case p.redisURL == "":
		p.uncovered = append(p.uncovered, "Redis (GRAPHGATE_TEST_REDIS not set)")
	case !configHas("redis"):
		p.uncovered = append(p.uncovered, "Redis (not in this build)")
		p.redisURL = ""
	default:
		p.prefix = "ggproof-" + hex.EncodeToString(key[:4])
		p.env["REDIS_URL"] = p.redisURL
		fmt.Fprintf(&cfg, "redis: {url: ${REDIS_URL}, prefix: %s}\n", p.prefix)
		p.covered = append(p.covered, "Redis revocation list (prefix "+p.prefix+")")
		if configHas("usage") {
			cfg.WriteString("# distinct users counted in Redis too\n")
			p.replaceUsage(&cfg)
		}
	}
	p.input("graphgate.yaml", cfg.String())
	return p
}

// replaceUsage points usage counting's distinct users at Redis.
func (p *proof) replaceUsage(cfg *strings.Builder) {
	s := strings.Replace(cfg.String(), "usage: {store: sqlite, flush_interval: 200ms}",
		"usage: {store: sqlite, flush_interval: 200ms, redis_url: ${REDIS_URL}}", 1)
	cfg.Reset()
	cfg.WriteString(s)
	p.covered = append(p.covered, "Redis distinct-user counting")
}

func (p *proof) optional(cfg *strings.Builder, key, yaml, what string) {
	if configHas(key) {
		cfg.WriteString(yaml)
		p.covered = append(p.covered, what)
	} else {
		p.uncovered = append(p.uncovered, what)
	}
}

func (p *proof) input(name, text string) {
	p.inputs[write(p.t, p.work, name, text)] = true
}

// running is graphgate serve running in the background.
type running struct {
	t          *testing.T
	base       string
	metricsURL string
	stdout     *testkit.SyncBuffer
	stderr     *testkit.SyncBuffer
	cancel     context.CancelFunc
	done       chan error
}

func (p *proof) start() *running {
	t := p.t
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	g := &running{t: t, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args := []string{"graphgate", "serve", "--config", filepath.Join(p.work, "graphgate.yaml"), "--log-level", "debug"}
	go func() {
		err := run(ctx, args, func(k string) string { return p.env[k] }, io.MultiWriter(pw, g.stdout), g.stderr)
		pw.CloseWithError(fmt.Errorf("graphgate exited: %v", err))
		g.done <- err
	}()
	t.Cleanup(func() { cancel() })
	lines := bufio.NewReader(pr)
	for g.base == "" {
		l, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("graphgate did not start: %v\nstderr: %s", err, g.stderr.String())
		}
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "metrics on ") {
			g.metricsURL = strings.TrimPrefix(l, "metrics on ")
		}
		if strings.HasPrefix(l, "graphgate listening on ") {
			g.base = strings.TrimPrefix(l, "graphgate listening on ")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, lines) }()
	waitReady(t, g.base)
	return g
}

func (g *running) stop() {
	g.cancel()
	select {
	case err := <-g.done:
		if err != nil {
			g.t.Fatalf("graphgate serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		g.t.Fatal("graphgate serve did not shut down")
	}
}

// scanRedis scans graphgate's keys: the revocation prefix and usage counting's keys.
func (p *proof) scanRedis(values []personalValue) []leak {
	opt, err := redis.ParseURL(p.redisURL)
	if err != nil {
		p.t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := redisDump(ctx, rdb, p.prefix+"*", "graphgate:usage:*")
	if err != nil {
		p.t.Fatal(err)
	}
	var out []leak
	own := 0
	for k, v := range keys {
		if strings.HasPrefix(k, p.prefix) {
			own++
		}
		out = append(out, scanBytes("redis key name "+k, []byte(k), values)...)
		out = append(out, scanBytes("redis value of "+k, v, values)...)
	}
	if own == 0 {
		p.t.Errorf("no Redis key under %s: the proof did not exercise Redis", p.prefix)
	}
	for k := range keys {
		if strings.HasPrefix(k, p.prefix) {
			rdb.Del(ctx, k)
		}
	}
	return out
}

// assertNotVacuous checks that the run did process personal data and did write: a
// proof that scanned nothing proves nothing.
func (p *proof) assertNotVacuous(g *running, d *driver, written map[string]int) {
	t := p.t
	if d.personalSeen < 100 {
		t.Errorf("only %d responses held a fixture user's personal data: the gateway was not exercised", d.personalSeen)
	}
	logs := g.stderr.String()
	if n := strings.Count(logs, `"msg":"request"`); n < d.requests/2 {
		t.Errorf("%d access log records for %d requests: debug logging was not captured", n, d.requests)
	}
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Error("no debug record in the logs: --log-level debug did not take effect")
	}
	if configHas("usage") && written[p.dataDir] == 0 {
		t.Error("the usage store wrote nothing to the data directory")
	}
	if configHas("audit") {
		if fi, err := os.Stat(p.auditFile); err != nil || fi.Size() == 0 {
			t.Errorf("the audit file is empty or missing (%v)", err)
		}
	}
}

// checkPrivacyRecord checks that GET /privacy states this deployment's facts: the
// configured hosting region and what this configuration persists where.
func (p *proof) checkPrivacyRecord(base string) {
	if !configHas("privacy") {
		return
	}
	var rec struct {
		HostingRegion string `json:"hosting_region"`
		Persisted     []struct {
			What  string `json:"what"`
			Where string `json:"where"`
		} `json:"persisted"`
	}
	if err := json.Unmarshal([]byte(httpGet(p.t, base+"/privacy")), &rec); err != nil {
		p.t.Fatal(err)
	}
	if rec.HostingRegion != "EU (proof)" {
		p.t.Errorf("/privacy hosting region %q", rec.HostingRegion)
	}
	where := map[string]string{}
	for _, r := range rec.Persisted {
		where[strings.Fields(r.What)[0]] = r.Where
	}
	if configHas("usage") && !strings.Contains(where["Anonymised"], "SQLite") {
		p.t.Errorf("/privacy does not say usage aggregates are in SQLite: %v", where)
	}
	if configHas("audit") && !strings.Contains(where["Audit"], "file") {
		p.t.Errorf("/privacy does not name the audit file sink: %v", where)
	}
	if p.redisURL != "" && !strings.Contains(where["Revocation"], "Redis") {
		p.t.Errorf("/privacy does not say revocation markers are in Redis: %v", where)
	}
}

// TestPrivacyProofDemo runs `graphgate demo --log-level debug` until its seeded traffic
// has gone through the gateway, stops it and scans its logs, its data directory and
// $TMPDIR. stdout is not scanned: the demo prints a demo user's sign-in name there on
// purpose, as instructions for the person running it.
func TestPrivacyProofDemo(t *testing.T) {
	tmp, data := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	emu, err := emulator.New(emulator.Options{}) // the same fixture directory as the demo's
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"graphgate", "demo", "--addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "debug"},
			func(string) string { return "" }, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "demo usage: seeded") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not seed its traffic: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
	var intro demoIntro
	_ = json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &intro)
	if intro.TenantID != emu.Directory().Tenants[0].ID {
		t.Fatalf("the demo's directory (tenant %q) is not the fixture the scan looks for", intro.TenantID)
	}
	values := personalValues(emu)
	leaks := scanBytes("demo stderr (logs)", []byte(stderr.String()), values)
	nData, l := scanTree(t, data, nil, values)
	leaks = append(leaks, l...)
	_, l = scanTree(t, tmp, nil, values)
	leaks = append(leaks, l...)
	for _, l := range leaks {
		t.Errorf("LEAK: %s", l)
	}
	if n := strings.Count(stderr.String(), `"msg":"request"`); n < 50 || nData == 0 {
		t.Errorf("vacuous: %d access records, %d files in the data directory", n, nData)
	}
}
