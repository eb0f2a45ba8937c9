package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	gusage "github.com/graphgate/graphgate/proxy/usage"
	"github.com/graphgate/graphgate/proxy/usage/usagetest"
)

// TestUsageStoreFaults runs the built graphgate with usage.store postgres through a
// forwarder the test cuts and restores (issue 14, faults 3 and 5): the gateway starts and
// serves without its store, loses no count to an outage or a graceful stop, and at most
// one flush interval to kill -9.
func TestUsageStoreFaults(t *testing.T) {
	if os.Getenv("GRAPHGATE_TEST_POSTGRES") == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	bin := graphgateBinary(t)
	t.Run("start_unreachable", func(t *testing.T) { t.Parallel(); storeStartUnreachable(t, emu, bin) })
	t.Run("down_at_stop", func(t *testing.T) { t.Parallel(); storeDownAtStop(t, emu, bin) })
	t.Run("outage_running", func(t *testing.T) { t.Parallel(); storeOutageRunning(t, emu, bin) })
	t.Run("kill9", func(t *testing.T) { t.Parallel(); storeKill9(t, emu, bin, false) })
	t.Run("kill9_outage", func(t *testing.T) { t.Parallel(); storeKill9(t, emu, bin, true) })
}

// storeStartUnreachable: PostgreSQL unreachable at start. The gateway is ready, says so
// on /readyz under usage_store, serves, answers analysts 503, and stores every count once
// PostgreSQL is back.
func storeStartUnreachable(t *testing.T, emu *emulator.Emulator, bin string) {
	e := newStoreFaultEnv(t, emu, bin, false)
	p := e.start()
	poll(t, 15*time.Second, func() error { return e.readyzStore(p, false) })
	sent := e.sendMe(p, 50)
	status, body := e.analystReport(p)
	if errBody, _ := body["error"].(map[string]any); status != http.StatusServiceUnavailable || errBody["code"] != "serviceNotAvailable" {
		t.Fatalf("usage API while the store is down: %d %v, want 503 serviceNotAvailable", status, body)
	}
	poll(t, 10*time.Second, func() error { return spoolPresent(e.dataDir) })
	e.fwd.Restore()
	poll(t, 20*time.Second, func() error { return e.readyzStore(p, true) })
	stored := e.waitStored(int64(sent), 10*time.Second)
	p.stop()
	if final := e.stored(); final != stored {
		t.Fatalf("stored %d before the stop, %d after", stored, final)
	}
	t.Logf("FAULT store_start_unreachable: sent=%d stored=%d", sent, stored)
	if stored != int64(sent) {
		t.Fatalf("sent %d, stored %d", sent, stored)
	}
	if spoolPresent(e.dataDir) == nil {
		t.Error("spool left behind although everything is stored")
	}
}

// storeDownAtStop: PostgreSQL goes away just before SIGTERM. The stop spools what is
// unwritten; the next start, with PostgreSQL back, stores it: sent == stored.
func storeDownAtStop(t *testing.T, emu *emulator.Emulator, bin string) {
	e := newStoreFaultEnv(t, emu, bin, true)
	p := e.start()
	waitReady(t, p.base)
	sent := e.sendMe(p, 30)
	e.fwd.Cut()
	sent += e.sendMe(p, 30)
	p.stop()
	before := e.stored()
	spooled := checkSpool(t, e.dataDir, e.personal())
	if before+spooled != int64(sent) || spooled < 30 {
		t.Fatalf("sent %d: %d stored before the stop, %d spooled", sent, before, spooled)
	}
	e.fwd.Restore()
	p2 := e.start()
	waitReady(t, p2.base)
	poll(t, 15*time.Second, func() error {
		if err := spoolPresent(e.dataDir); err == nil {
			return fmt.Errorf("spool still present; stored %d of %d", e.stored(), sent)
		}
		return nil
	})
	p2.stop()
	stored := e.stored()
	t.Logf("FAULT store_down_at_stop: sent=%d stored=%d spooled=%d", sent, stored, spooled)
	if stored != int64(sent) {
		t.Fatalf("sent %d, stored %d", sent, stored)
	}
}

// storeOutageRunning: PostgreSQL goes away while the gateway runs and comes back. The
// gateway stays ready, reports the store, and loses nothing.
func storeOutageRunning(t *testing.T, emu *emulator.Emulator, bin string) {
	e := newStoreFaultEnv(t, emu, bin, true)
	p := e.start()
	waitReady(t, p.base)
	sent := e.sendMe(p, 40)
	e.fwd.Cut()
	sent += e.sendMe(p, 40)
	poll(t, 10*time.Second, func() error { return e.readyzStore(p, false) })
	poll(t, 10*time.Second, func() error { return spoolPresent(e.dataDir) })
	sent += e.sendMe(p, 40)
	e.fwd.Restore()
	poll(t, 20*time.Second, func() error { return e.readyzStore(p, true) })
	stored := e.waitStored(int64(sent), 10*time.Second)
	p.stop()
	final := e.stored()
	t.Logf("FAULT store_outage_running: sent=%d stored=%d", sent, final)
	if stored != int64(sent) || final != int64(sent) {
		t.Fatalf("sent %d, stored %d (after the stop %d)", sent, stored, final)
	}
}

// storeKill9: kill -9 after traffic, with PostgreSQL up or (outage) cut since before the
// last traffic. Every request answered more than one flush interval (plus slack for the
// write itself) before the kill is stored — in the outage case, through the spool, by
// the next start.
func storeKill9(t *testing.T, emu *emulator.Emulator, bin string, outage bool) {
	e := newStoreFaultEnv(t, emu, bin, true)
	p := e.start()
	waitReady(t, p.base)
	first := e.sendMe(p, 20)
	if n := e.waitStored(int64(first), 10*time.Second); n != int64(first) {
		t.Fatalf("first %d requests: %d stored", first, n)
	}
	if outage {
		e.fwd.Cut()
	}
	var answered []time.Time
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
		e.getMe(p)
		answered = append(answered, time.Now())
		time.Sleep(10 * time.Millisecond)
	}
	p.kill9()
	killed := time.Now()
	sent := first + len(answered)
	const slack = time.Second // the write (or spool) in flight at the flush tick
	must := first
	for _, at := range answered {
		if at.Before(killed.Add(-storeFaultFlush - slack)) {
			must++
		}
	}
	name := "store_kill9"
	if outage {
		name = "store_kill9_outage"
		e.fwd.Restore()
		p2 := e.start()
		waitReady(t, p2.base)
		poll(t, 15*time.Second, func() error { return spoolAbsent(e.dataDir) })
		p2.stop()
	}
	stored := e.stored()
	t.Logf("FAULT %s: sent=%d stored=%d lost=%d bound_answered_before_last_interval=%d flush_interval_ms=%d",
		name, sent, stored, int64(sent)-stored, must, storeFaultFlush.Milliseconds())
	if stored < int64(must) || stored > int64(sent) {
		t.Fatalf("sent %d, stored %d: want between %d (answered more than a flush interval before the kill) and %d",
			sent, stored, must, sent)
	}
}

// readyzStore checks that /readyz answers 200 and that usage_store is "ok" (ok) or
// reports a problem (!ok).
func (e *storeFaultEnv) readyzStore(p *gatewayProcess, ok bool) error {
	resp, err := http.Get(p.base + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz %d %v: want 200 whatever the usage store does", resp.StatusCode, body)
	}
	checks, _ := body["checks"].(map[string]any)
	got, _ := checks["usage_store"].(string)
	if (got == "ok") != ok || got == "" {
		return fmt.Errorf("/readyz usage_store = %q, want ok=%v", got, ok)
	}
	return nil
}

// analystReport asks the usage API for the requests report.
func (e *storeFaultEnv) analystReport(p *gatewayProcess) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodGet, p.base+"/usage/v1/requests", nil)
	req.Header.Set("Authorization", "Bearer "+e.analyst)
	c := &http.Client{Timeout: 20 * time.Second} // a hang fails the test
	return getJSON(e.t, c, req)
}

// personal lists what must never reach the spool: the caller's ids, names and tokens.
func (e *storeFaultEnv) personal() []string {
	u := e.emu.Directory().Tenants[0].Users[1]
	return []string{u.ID, u.UserPrincipalName, e.user, e.analyst, e.secret}
}

func spoolPresent(dataDir string) error {
	_, err := os.Stat(filepath.Join(dataDir, gusage.SpoolFile))
	return err
}

func spoolAbsent(dataDir string) error {
	if spoolPresent(dataDir) == nil {
		return fmt.Errorf("spool still present")
	}
	return nil
}

// checkSpool asserts that the spool is private to its owner and holds aggregates only,
// and returns the GET /v1.0/me requests it holds.
func checkSpool(t *testing.T, dataDir string, personal []string) int64 {
	t.Helper()
	_, requests := usagetest.AssertSpool(t, filepath.Join(dataDir, gusage.SpoolFile), personal...)
	return requests["GET /v1.0/me"]
}
