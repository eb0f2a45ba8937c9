package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// proofInstances is how many graphgate processes the proof runs, sharing Redis and
// PostgreSQL as a scaled-out deployment does.
const proofInstances = 3

// proofRedisDB is the Redis database the proof owns: it is emptied before and after.
const proofRedisDB = 13

// deployment is graphgate as deployed for the proof: several processes of the built
// binary in front of the emulator, sharing one Redis database and one PostgreSQL schema.
type deployment struct {
	t         *testing.T
	emu       *emulator.Emulator
	work      string // the operator's inputs: config, policy, CA (not scanned)
	prefix    string // the instances' Redis key and channel prefix, new for each run
	redisURL  string
	pgURL     string
	pgSchema  string
	env       []string
	instances []*instance
}

// instance is one running graphgate serve process.
type instance struct {
	dir            string // its data directory, audit file and $TMPDIR (scanned)
	auditFile      string
	cmd            *exec.Cmd
	stdout, stderr *testkit.SyncBuffer
	base, metrics  string
	exited         chan error
}

// newDeployment prepares the shared stores and the config of every instance. It needs
// GRAPHGATE_TEST_REDIS and GRAPHGATE_TEST_POSTGRES: the proof covers them as deployed.
func newDeployment(t *testing.T, emu *emulator.Emulator, policyYAML string) *deployment {
	redisBase, pgBase := proofStores(t)
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	d := &deployment{t: t, emu: emu, work: t.TempDir(), prefix: "ggproof-" + hex.EncodeToString(key[:4])}
	d.redisURL = withRedisDB(t, redisBase, proofRedisDB)
	d.claimRedis()
	t.Cleanup(d.flushRedis)
	d.pgSchema, d.pgURL = newSchema(t, pgBase)
	d.env = []string{"PATH=" + os.Getenv("PATH"), "REVOCATION_KEY=" + hex.EncodeToString(key),
		"REDIS_URL=" + d.redisURL, "PG_URL=" + d.pgURL}
	dir := emu.Directory()
	write(t, d.work, "ca.pem", string(emu.CACertPEM()))
	write(t, d.work, "policy.yaml", policyYAML)
	for i, tn := range dir.Tenants {
		d.env = append(d.env, fmt.Sprintf("SECRET_%d=%s", i, tn.GatewayClientSecret))
	}
	return d
}

// proofStores returns the Redis and PostgreSQL URLs the proof needs, or skips the test.
func proofStores(t *testing.T) (redisURL, postgresURL string) {
	redisURL, postgresURL = os.Getenv("GRAPHGATE_TEST_REDIS"), os.Getenv("GRAPHGATE_TEST_POSTGRES")
	if redisURL == "" || postgresURL == "" {
		t.Skip("the privacy proof runs graphgate as deployed, with Redis and PostgreSQL: set GRAPHGATE_TEST_REDIS and GRAPHGATE_TEST_POSTGRES")
	}
	return redisURL, postgresURL
}

// config is instance i's configuration: every persistence graphgate offers, shared
// where a deployment shares it, debug logging on.
func (d *deployment) config(i int, dataDir, auditFile string) string {
	dir := d.emu.Directory()
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\nlog_level: debug\napp_id: %s\nauthority: %s\ngraph_url: %s/v1.0\n"+
		"ca_file: %q\npolicy_file: %q\ndata_dir: %q\ntenants:\n",
		dir.Tenants[0].GatewayAppID, d.emu.URL(), d.emu.URL(), filepath.Join(d.work, "ca.pem"), filepath.Join(d.work, "policy.yaml"), dataDir)
	for k, tn := range dir.Tenants {
		fmt.Fprintf(&b, "  - {id: %s, name: %s, client_id: %s, client_secret: ${SECRET_%d}}\n", tn.ID, tn.Domain, tn.GatewayAppID, k)
	}
	b.WriteString("cache: {ttl: 30s}\n" +
		"metrics: {listen: 127.0.0.1:0}\n" +
		"privacy: {hosting_region: EU (proof), controller: Proof GmbH, contact: dpo@proof.example}\n" +
		"usage: {store: postgres, postgres_url: \"${PG_URL}\", redis_url: \"${REDIS_URL}\", flush_interval: 200ms}\n" +
		"audit: {file: " + strconv.Quote(auditFile) + "}\n" +
		"revocation: {key: ${REVOCATION_KEY}}\n" +
		"redis: {url: \"${REDIS_URL}\", prefix: " + d.prefix + "}\n")
	return b.String()
}

// start runs the instances of bin and waits until each is ready.
func (d *deployment) start(bin string) {
	for i := range proofInstances {
		dir := filepath.Join(d.work, fmt.Sprintf("instance-%d", i+1))
		in := &instance{dir: dir, auditFile: filepath.Join(dir, "audit.jsonl"), stdout: &testkit.SyncBuffer{},
			stderr: &testkit.SyncBuffer{}, exited: make(chan error, 1)}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			d.t.Fatal(err)
		}
		cfg := write(d.t, d.work, fmt.Sprintf("graphgate-%d.yaml", i+1), d.config(i, filepath.Join(dir, "data"), in.auditFile))
		in.cmd = exec.Command(bin, "serve", "--config", cfg, "--log-level", "debug")
		tmp := filepath.Join(dir, "tmp")
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			d.t.Fatal(err)
		}
		in.cmd.Env = append(slices.Clone(d.env), "TMPDIR="+tmp)
		in.cmd.Stdout, in.cmd.Stderr = in.stdout, in.stderr
		if err := in.cmd.Start(); err != nil {
			d.t.Fatal(err)
		}
		go func() { in.exited <- in.cmd.Wait() }()
		d.t.Cleanup(func() { _ = in.cmd.Process.Kill() })
		d.instances = append(d.instances, in)
	}
	for _, in := range d.instances {
		in.waitListening(d.t)
		waitReady(d.t, in.base)
	}
}

// waitListening reads the addresses the instance prints on stdout.
func (in *instance) waitListening(t *testing.T) {
	deadline := time.Now().Add(60 * time.Second)
	for in.base == "" || in.metrics == "" {
		for _, l := range strings.Split(in.stdout.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "graphgate listening on "); ok {
				in.base = strings.TrimSpace(s)
			}
			if s, ok := strings.CutPrefix(l, "metrics on "); ok {
				in.metrics = strings.TrimSpace(s)
			}
		}
		select {
		case err := <-in.exited:
			t.Fatalf("graphgate exited before listening: %v\nstderr: %s", err, in.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("graphgate did not start: %s", in.stderr.String())
		}
	}
}

// stop ends every instance with SIGTERM, as an orchestrator does, and waits for a clean
// exit: what a process writes while shutting down is scanned too.
func (d *deployment) stop() {
	for _, in := range d.instances {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, in := range d.instances {
		select {
		case err := <-in.exited:
			if err != nil {
				d.t.Errorf("instance %d: %v (its logs are not shown: they may hold what a defect leaked)", i+1, err)
			}
		case <-time.After(30 * time.Second):
			d.t.Fatalf("instance %d did not shut down", i+1)
		}
	}
}

func (d *deployment) bases() []string {
	var out []string
	for _, in := range d.instances {
		out = append(out, in.base)
	}
	return out
}

// withRedisDB returns the Redis URL with another database number.
func withRedisDB(t *testing.T, raw string, db int) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("GRAPHGATE_TEST_REDIS: %v", err)
	}
	u.Path = fmt.Sprintf("/%d", db)
	return u.String()
}

func (d *deployment) redis() *redis.Client {
	opt, err := redis.ParseURL(d.redisURL)
	if err != nil {
		d.t.Fatal(err)
	}
	return redis.NewClient(opt)
}

// proofRedisMark is the key that marks the Redis database as the proof's: the proof
// empties only a database that is empty or marked, never someone's data.
const proofRedisMark = "graphgate-privacy-proof"

// claimRedis empties the proof's database if it is the proof's, and marks it.
func (d *deployment) claimRedis() {
	rdb := d.redis()
	defer rdb.Close()
	ctx := context.Background()
	n, err := rdb.DBSize(ctx).Result()
	if err != nil {
		d.t.Fatalf("redis: %v", err)
	}
	if n > 0 && rdb.Exists(ctx, proofRedisMark).Val() == 0 {
		d.t.Fatalf("redis database %d holds %d keys that are not the privacy proof's: empty it or point GRAPHGATE_TEST_REDIS elsewhere", proofRedisDB, n)
	}
	d.flushRedis()
	if err := rdb.Set(ctx, proofRedisMark, "1", 0).Err(); err != nil {
		d.t.Fatalf("redis: %v", err)
	}
}

func (d *deployment) flushRedis() {
	rdb := d.redis()
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		d.t.Fatalf("redis: %v", err)
	}
}

// newSchema creates a PostgreSQL schema of the proof's own (dropped at the end) and
// returns it with a connection URL whose search_path selects it.
func newSchema(t *testing.T, base string) (schema, dsn string) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = "ggproof_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return schema, u.String()
}
