package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// exchange is one request a keep-alive client wrote and what came back.
type exchange struct {
	written  time.Time
	answered bool // a whole response was read
	status   int
	close    bool // the response said "Connection: close"
}

// keepAliveClient sends GET path back to back on one connection, as a busy client that
// does not retry, until an answer says "Connection: close" (it would then reconnect,
// through the load balancer, to another instance) or the connection fails.
func keepAliveClient(t *testing.T, addr, path, token string, out chan<- exchange) {
	c := dialRaw(t, addr)
	_ = c.SetDeadline(time.Now().Add(25 * time.Second))
	for {
		x := exchange{written: time.Now()}
		if err := c.get(path, token); err != nil {
			return // nothing was written: not a lost request
		}
		resp, _, err := c.readResponse()
		if err == nil {
			x.answered, x.status, x.close = true, resp.StatusCode, resp.Close
		}
		out <- x
		if !x.answered || x.close {
			return
		}
	}
}

// TestShutdownDrainsKeepAliveConnections sends SIGTERM to a real graphgate process while
// busy keep-alive clients send requests back to back: every request written gets a whole
// answer, answers from the drain on say "Connection: close", /readyz answers 503 during
// the drain, and the process exits 0 within drain + grace.
func TestShutdownDrainsKeepAliveConnections(t *testing.T) {
	const conns = 8
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	drain, grace := time.Second, 11*time.Second // grace: the default, 2 × upstream.timeout + 5s
	p := startGatewayProcess(t, graphgateBinary(t), emu, "upstream: {timeout: 3s}\nshutdown: {drain: 1s}\n"+noRateLimits)
	token := p.token(enabledUserIndexes(emu.Directory().Tenants[0])[0])

	results := make(chan exchange, 1<<16)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() { defer wg.Done(); keepAliveClient(t, p.addr, "/v1.0/me", token, results) }()
	}
	waitFor(t, "every client's first answers", func() bool { return len(results) >= 3*conns })
	p.signal(syscall.SIGTERM)
	drainSeen, readyz := waitDraining(t, p.base)
	wg.Wait()
	code, after := p.wait(drain + grace + 5*time.Second)
	close(results)

	tl := tallyExchanges(t, results, drainSeen)
	t.Logf("FAULT shutdown: connections=%d sent=%d answered=%d cut=%d connection_close_answers=%d "+
		"kept_open_after_drain=%d readyz_during_drain=%d exit_code=%d exit_ms=%d drain_ms=%d grace_ms=%d",
		conns, tl.sent, tl.answered, tl.cut, tl.closes, tl.afterDrainKeptOpen, readyz, code, after.Milliseconds(),
		drain.Milliseconds(), grace.Milliseconds())
	if tl.cut != 0 || tl.answered != tl.sent {
		t.Errorf("%d of %d requests written got no answer", tl.cut, tl.sent)
	}
	if tl.closes != conns {
		t.Errorf("%d connections were told \"Connection: close\", want all %d", tl.closes, conns)
	}
	if tl.afterDrainKeptOpen != 0 {
		t.Errorf("%d answers to requests written during the drain kept the connection open", tl.afterDrainKeptOpen)
	}
	if readyz != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the drain: %d, want 503; stderr:\n%s", readyz, p.stderr.String())
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	for _, phase := range []string{"shutdown: draining", "shutdown: closing the listener", "shutdown: done"} {
		if !strings.Contains(p.stderr.String(), phase) {
			t.Errorf("the log lacks the phase %q", phase)
		}
	}
}

// exchangeTally counts the keep-alive clients' exchanges.
type exchangeTally struct {
	sent, answered, cut int
	closes              int // answers saying "Connection: close"
	afterDrainKeptOpen  int // answers to requests written after the drain was seen, without it
}

// tallyExchanges counts the exchanges in results (closed), failing the test for an
// answer other than 200; drainSeen is when /readyz first answered draining.
func tallyExchanges(t *testing.T, results <-chan exchange, drainSeen time.Time) exchangeTally {
	t.Helper()
	var tl exchangeTally
	for x := range results {
		tl.sent++
		switch {
		case !x.answered:
			tl.cut++
		case x.status != http.StatusOK:
			t.Errorf("an answer was %d, want 200", x.status)
		}
		if x.answered {
			tl.answered++
		}
		if x.close {
			tl.closes++
		}
		if x.answered && !x.close && x.written.After(drainSeen) {
			tl.afterDrainKeptOpen++
		}
	}
	return tl
}

// waitDraining polls /readyz on new connections until it answers 503 with
// "shutdown": "draining", and returns when it first did and the status.
func waitDraining(t *testing.T, base string) (time.Time, int) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			var body struct {
				Checks map[string]any `json:"checks"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && body.Checks["shutdown"] == "draining" {
				return time.Now(), resp.StatusCode
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("/readyz never answered 503 draining after SIGTERM")
	return time.Now(), 0
}

// waitFor polls cond until it holds, failing the test after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShutdownLetsRequestsInFlightFinish sends SIGTERM while a request waits for a slow
// Graph: the request outlives the drain and completes with 200 within the grace period,
// and the process then exits 0. The Graph call (2.5 s) is a quarter of the request
// deadline (10 s): a loaded machine does not turn it into a 503.
func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	const timeout, latency, drain = 10 * time.Second, 2500 * time.Millisecond, time.Second
	grace := 2*timeout + 5*time.Second // the default
	p := startGatewayProcess(t, graphgateBinary(t), emu, "upstream: {timeout: 10s}\nshutdown: {drain: 1s}\n")
	ten := emu.Directory().Tenants[0]
	users := enabledUserIndexes(ten)
	token := p.token(users[0])
	c := dialRaw(t, p.addr)
	_ = c.SetDeadline(time.Now().Add(25 * time.Second))
	// The caller's own record is cached first: only the target's read is slow.
	if err := c.get("/v1.0/me", token); err != nil {
		t.Fatal(err)
	}
	if resp, _, err := c.readResponse(); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/me: %v %v", resp, err)
	}
	emu.SetFault("GET /v1.0/users/{id}", emulator.Fault{Latency: latency})
	start := time.Now()
	if err := c.get("/v1.0/users/"+ten.Users[users[1]].ID, token); err != nil {
		t.Fatal(err)
	}
	// The emulator logs a call when it answers, so there is nothing to poll: the signal
	// comes well inside the call's 2.5 s, and the request outlives the 1 s drain anyway.
	time.Sleep(300 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	resp, body, err := c.readResponse()
	took := time.Since(start)
	code, after := p.wait(drain + grace + 5*time.Second)
	status, closeHdr := 0, false
	if err == nil {
		status, closeHdr = resp.StatusCode, resp.Close
	}
	t.Logf("FAULT inflight: upstream_timeout_ms=%d graph_latency_ms=%d drain_ms=%d grace_ms=%d status=%d "+
		"connection_close=%t request_ms=%d exit_code=%d exit_ms=%d",
		timeout.Milliseconds(), latency.Milliseconds(), drain.Milliseconds(), grace.Milliseconds(), status,
		closeHdr, took.Milliseconds(), code, after.Milliseconds())
	if err != nil || status != http.StatusOK {
		t.Fatalf("the request in flight at SIGTERM: status %d, err %v, body %s", status, err, body)
	}
	var u map[string]any
	if err := json.Unmarshal(body, &u); err != nil || u["id"] != ten.Users[users[1]].ID {
		t.Errorf("the answer is not the user's record: %s", body)
	}
	if !closeHdr {
		t.Error("the answer written during the shutdown does not say Connection: close")
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
}
