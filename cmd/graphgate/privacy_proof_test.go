package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/privacy/scan"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// TestPrivacyProof is the proof that graphgate writes nothing personal and fetches
// nothing it may not show. It builds the graphgate binary and runs three `graphgate
// serve --log-level debug` processes as deployed (sharing Redis and PostgreSQL, each with
// its data directory and audit file) in front of the emulator, drives every endpoint for
// every fixture user and client app from a client with its own IP address and device
// string, stops the processes, and then scans with graphgate's own leak scanner (`graphgate
// privacy scan`) every byte they wrote: their real stdout and stderr, their metrics, data
// directories and audit files, $TMPDIR, every key of the proof's Redis database and every
// row of the proof's PostgreSQL schema. It looks for every personal value in every form a
// leak takes (plain, escaped, encoded, hashed). It also checks what no scan can see: the
// fields Graph was asked for, the deactivated accounts' absence from lists and their
// avatars, and a fixed list of what must have been exercised. Any finding fails it.
// TestPrivacyProofCatchesDefects shows that each known way of leaking turns it red.
func TestPrivacyProof(t *testing.T) {
	proofStores(t)
	r := runProof(t, graphgateBinary(t))
	for _, f := range r.leaks {
		t.Errorf("LEAK: %s", f)
	}
	for _, v := range r.violations {
		t.Errorf("VIOLATION: %s", v)
	}
	t.Logf("proof scanned %d files (%d bytes) and %d store records for %d values; %d requests",
		r.files, r.bytes, r.records, r.values, r.requests)
}

// proofResult is what one run of the proof found.
type proofResult struct {
	leaks      []scan.Finding
	violations []string
	files      int
	bytes      int64
	records    int
	values     int
	requests   int
}

// proofCoverage is what the proof must exercise, by driver label and the status at least
// one of its requests must get. A run that misses one is not a proof.
var proofCoverage = []struct {
	label  string
	status int
}{
	{"GET /me", 200}, {"GET /users/{upn}", 200}, {"search", 200}, {"filter", 200}, {"list all", 200},
	{"photo", 200}, {"export", 200}, {"manager", 200}, {"directReports", 200}, {"presence", 200},
	{"beta presence", 200}, {"getPresencesByUserId", 200}, {"$batch", 200}, {"photo meta", 200},
	{"photo size", 200}, {"unknown user", 404}, {"deactivated user", 404}, {"deactivated photo", 200},
	{"hidden-field filter", 400}, {"bad search", 400}, {"no route", 404}, {"bad token", 400},
	{"deactivated caller", 401}, {"privacy", 200}, {"privacy html", 200}, {"dashboard", 200}, {"probe", 200},
	{"usage API", 200}, {"GET /me before logout", 200}, {"admin logout", 200}, {"revoked token", 401},
	{"admin purge", 200}, {"admin logout of unknown user", 404}, {"logout without the role", 403},
}

// runProof runs the whole proof against the graphgate binary bin and returns what it
// found; it fails t only when the proof itself cannot run.
func runProof(t *testing.T, bin string) proofResult {
	emu, err := emulator.New(emulator.Options{}) // Microsoft's side: its own logs are not ours
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	polYAML := proofPolicy(t, emu.Directory())
	dep := newDeployment(t, emu, polYAML)
	dep.start(bin)
	d := newDriver(t, emu, dep.bases())
	d.driveEverything(dep.waitUsageRows)
	record := httpGet(t, dep.instances[0].base+"/privacy")
	metrics := make([]string, len(dep.instances))
	for i, in := range dep.instances {
		metrics[i] = httpGet(t, in.metrics)
	}
	dep.stop()

	var r proofResult
	r.requests = d.requests
	values := personalValues(emu, d.tokens, d.photos, dep.secrets())
	r.values = len(values)
	sc, err := scan.New(values)
	if err != nil {
		t.Fatal(err)
	}
	dep.scanAll(sc, metrics, &r)
	r.violations = append(r.violations, d.violations...)
	r.violations = append(r.violations, d.coverageGaps()...)
	r.violations = append(r.violations, dep.writtenGaps(d)...)
	pol, err := policy.Parse([]byte(polYAML))
	if err != nil {
		t.Fatal(err)
	}
	r.violations = append(r.violations, upstreamViolations(userReads(emu.Requests()), pol.UpstreamFields(), record, d.export)...)
	r.violations = append(r.violations, peopleUpstreamViolations(emu.Requests(), record)...)
	return r
}

// proofPolicy is the demo's policy, except that the mobile app sees no names of others:
// the proof needs a client app that may not see displayName.
func proofPolicy(t *testing.T, dir emulator.DirectoryInfo) string {
	const others = "    purpose: Show the signed-in user's own profile and colleagues' names and photos on mobile.\n"
	p := demoPolicy(dir)
	out := strings.Replace(p, "      others: [displayName, jobTitle]\n", "      others: [jobTitle]\n", 1)
	if out == p || !strings.Contains(p, others) {
		t.Fatal("the demo policy changed: update proofPolicy so that the mobile app sees no names of others")
	}
	return out
}

// scanAll scans everything the instances wrote.
func (dep *deployment) scanAll(sc *scan.Scanner, metrics []string, r *proofResult) {
	t := dep.t
	for i, in := range dep.instances {
		name := fmt.Sprintf("instance %d ", i+1)
		for what, data := range map[string]string{"stdout": in.stdout.String(), "stderr": in.stderr.String(), "GET /metrics": metrics[i]} {
			r.leaks = append(r.leaks, sc.Bytes(name+what, []byte(data))...)
			r.bytes += int64(len(data))
		}
	}
	for _, root := range dep.instanceDirs() {
		n, b, f, err := sc.Tree(root)
		if err != nil {
			t.Fatal(err)
		}
		r.files, r.bytes, r.leaks = r.files+n, r.bytes+b, append(r.leaks, f...)
	}
	k := 0
	for key, v := range dep.dumpRedis() {
		k++
		r.leaks = append(r.leaks, sc.Bytes(fmt.Sprintf("redis key name #%d", k), []byte(key))...)
		r.leaks = append(r.leaks, sc.Bytes(fmt.Sprintf("redis value of key #%d", k), v)...)
		r.records++
	}
	for table, rows := range dep.dumpPostgres() {
		r.leaks = append(r.leaks, sc.Bytes("postgres table "+table, rows)...)
		r.records += strings.Count(string(rows), "\n") + 1
	}
}

func (dep *deployment) instanceDirs() []string {
	var out []string
	for _, in := range dep.instances {
		out = append(out, in.dir)
	}
	return out
}

// secrets are what the operator configured that must never be written either.
func (dep *deployment) secrets() []string {
	var out []string
	for _, kv := range dep.env {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SECRET_") || k == "REVOCATION_KEY" {
			out = append(out, v)
		}
	}
	return out
}

// waitUsageRows waits until usage counting has reached PostgreSQL, so that analysts'
// reads see this run's traffic.
func (dep *deployment) waitUsageRows() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dep.pgURL)
	if err != nil {
		dep.t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if conn.QueryRow(ctx, "SELECT count(*) FROM usage_requests").Scan(&n) == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			dep.t.Fatal("usage counting wrote nothing to PostgreSQL within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// coverageGaps lists the items of proofCoverage the run did not reach.
func (d *driver) coverageGaps() []string {
	var out []string
	for _, c := range proofCoverage {
		if d.status[c.label][c.status] == 0 {
			out = append(out, fmt.Sprintf("coverage: %q never got %d (got %v)", c.label, c.status, d.status[c.label]))
		}
	}
	if d.personalSeen < 100 {
		out = append(out, fmt.Sprintf("coverage: only %d responses held personal data", d.personalSeen))
	}
	if len(d.photos) == 0 {
		out = append(out, "coverage: no photo was served")
	}
	return out
}

// writtenGaps lists the stores and outputs the run should have written to but did not:
// a proof that scanned nothing proves nothing.
func (dep *deployment) writtenGaps(d *driver) []string {
	var out []string
	total := 0
	for i, in := range dep.instances {
		logs := in.stderr.String()
		n := strings.Count(logs, `"msg":"request"`)
		total += n
		if n < 100 {
			out = append(out, fmt.Sprintf("coverage: instance %d logged %d requests", i+1, n))
		}
		if !strings.Contains(logs, `"level":"DEBUG"`) {
			out = append(out, fmt.Sprintf("coverage: instance %d wrote no debug record", i+1))
		}
	}
	if total < d.requests/2 {
		out = append(out, fmt.Sprintf("coverage: %d access records for %d requests", total, d.requests))
	}
	audit := 0
	for _, in := range dep.instances {
		if fi, err := os.Stat(in.auditFile); err == nil {
			audit += int(fi.Size())
		}
	}
	if audit == 0 {
		out = append(out, "coverage: no audit record was written")
	}
	if len(dep.dumpRedis()) == 0 {
		out = append(out, "coverage: nothing was written to Redis")
	}
	if rows := dep.dumpPostgres()["usage_requests"]; len(rows) == 0 {
		out = append(out, "coverage: no usage row was written to PostgreSQL")
	}
	return out
}

// upstreamViolations checks what graphgate asked Graph for: only fields some policy
// allows (plus the internal ones), never a user read without $select (Graph would answer
// with its default properties), every user list without deactivated accounts; and that
// the record of processing (GET /privacy) and the self-export name exactly the fields
// Graph was actually asked for.
func upstreamViolations(reqs []emulator.Request, allowed []string, record, export string) []string {
	var out []string
	ok := map[string]bool{}
	for _, f := range allowed {
		ok[strings.ToLower(f)] = true
	}
	fetched := map[string]bool{}
	lists, bare := 0, 0
	for _, r := range reqs {
		for _, f := range r.Select {
			f = strings.ToLower(f)
			if !ok[f] && !fetched[f] {
				out = append(out, fmt.Sprintf("upstream: Graph was asked for %s (%s), which no policy allows", f, r.Route))
			}
			fetched[f] = true
		}
		if r.Status != http.StatusOK {
			continue
		}
		if slices.Contains(testkit.UserRecordRoutes, r.Route) && len(r.Select) == 0 {
			bare++
		}
		if r.Route == testkit.UserListRoute {
			lists++
			if !testkit.ExcludesDeactivated(r.Filter) {
				out = append(out, "upstream: a user list did not exclude deactivated accounts")
			}
		}
	}
	if bare > 0 {
		out = append(out, fmt.Sprintf("upstream: %d user reads without $select (Graph's default properties)", bare))
	}
	if lists == 0 {
		out = append(out, "coverage: no user list reached Graph")
	}
	var got []string
	for f := range fetched {
		got = append(got, f)
	}
	slices.Sort(got)
	out = append(out, statedFields("GET /privacy", record, "fields_fetched_from_graph", got)...)
	return append(out, statedFields("the self-export", export, "fields_processed", got)...)
}

// statedFields checks that a JSON document's list of fields (under key) is exactly got.
func statedFields(what, doc, key string, got []string) []string {
	var m map[string]json.RawMessage
	var said []string
	if err := json.Unmarshal([]byte(doc), &m); err != nil || json.Unmarshal(m[key], &said) != nil {
		return []string{fmt.Sprintf("%s: no %s", what, key)}
	}
	for i := range said {
		said[i] = strings.ToLower(said[i])
	}
	slices.Sort(said)
	if !slices.Equal(said, got) {
		return []string{fmt.Sprintf("%s says %v are fetched from Graph, but Graph was asked for %v", what, said, got)}
	}
	return nil
}

// TestPrivacyProofDemo runs the built binary's `graphgate demo --log-level debug` until
// its seeded traffic has gone through the gateway, stops it and scans its logs, its data
// directory (the SQLite usage store) and $TMPDIR. stdout is not scanned: the demo prints a
// demo user's sign-in name there on purpose, as instructions for the person running it.
func TestPrivacyProofDemo(t *testing.T) {
	bin := graphgateBinary(t)
	tmp, data := t.TempDir(), t.TempDir()
	emu, err := emulator.New(emulator.Options{}) // the same fixture directory as the demo's
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	var stdout, stderr testkit.SyncBuffer
	cmd := exec.Command(bin, "demo", "--addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "debug")
	cmd.Env, cmd.Stdout, cmd.Stderr = []string{"TMPDIR=" + tmp, "PATH=" + os.Getenv("PATH")}, &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "demo usage: seeded") {
		select {
		case err := <-exited:
			t.Fatalf("the demo exited: %v (its logs are not shown: they may hold a leak)", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo did not seed its traffic within 60 s")
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("demo: %v", err)
	}
	var intro demoIntro
	_ = json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &intro)
	if intro.TenantID != emu.Directory().Tenants[0].ID {
		t.Fatalf("the demo's directory (tenant %q) is not the fixture the scan looks for", intro.TenantID)
	}
	sc, err := scan.New(personalValues(emu, nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	leaks := sc.Bytes("demo stderr (logs)", []byte(stderr.String()))
	nData, _, l, err := sc.Tree(data)
	if err != nil {
		t.Fatal(err)
	}
	leaks = append(leaks, l...)
	_, _, l, err = sc.Tree(tmp)
	if err != nil {
		t.Fatal(err)
	}
	leaks = append(leaks, l...)
	for _, l := range leaks {
		t.Errorf("LEAK: %s", l)
	}
	if n := strings.Count(stderr.String(), `"msg":"request"`); n < 50 || nData == 0 {
		t.Errorf("vacuous: %d access records, %d files in the data directory", n, nData)
	}
}
