package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// Canaries the proof's client sends with every request: personal data of the device
// and the person that graphgate must not write anywhere. The client connects from its
// own loopback address, so that its IP address is a value of its own.
const (
	proofClientIP  = "127.0.0.77"
	proofUserAgent = "ProofBrowser/7.3 (device 5c1f-canary-device-41d7)"
)

// driver sends the proof's traffic to the deployment's instances in turn: every endpoint,
// for every fixture user and client app.
type driver struct {
	t      *testing.T
	emu    *emulator.Emulator
	bases  []string
	client *http.Client

	mu           sync.Mutex
	next         int
	status       map[string]map[int]int // label → status → count
	requests     int
	personalSeen int      // responses that carried some fixture user's personal data
	tokens       []string // every token sent
	photos       [][]byte // photo bytes served
	export       string   // one self-export answer
	violations   []string // behaviour the responses broke
}

// job is one request.
type job struct {
	label, method, path, token string
	body                       any
	headers                    []string
	seen                       []string            // personal values the response may carry
	check                      func([]byte) string // "" or what the response got wrong
	instance                   int                 // 1-based instance to send it to; 0 = the next in turn
}

func newDriver(t *testing.T, emu *emulator.Emulator, bases []string) *driver {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(proofClientIP)}, Timeout: 5 * time.Second}
	return &driver{t: t, emu: emu, bases: bases, status: map[string]map[int]int{},
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}}
}

func (d *driver) do(j job) (int, []byte) {
	var rd io.Reader
	if j.body != nil {
		b, _ := json.Marshal(j.body)
		rd = bytes.NewReader(b)
	}
	d.mu.Lock()
	base := d.bases[d.next%len(d.bases)]
	d.next++
	if j.instance > 0 {
		base = d.bases[(j.instance-1)%len(d.bases)]
	}
	d.mu.Unlock()
	req, err := http.NewRequest(j.method, base+j.path, rd)
	if err != nil { // the error would quote the path, which holds personal data
		d.t.Errorf("%s: the request could not be built", j.label)
		return 0, nil
	}
	req.Header.Set("User-Agent", proofUserAgent)
	if j.token != "" {
		req.Header.Set("Authorization", "Bearer "+j.token)
		// A browser app's page address: it names the person the page is about.
		if len(j.seen) > 1 {
			req.Header.Set("Referer", "https://app.proof.example/people/"+url.PathEscape(j.seen[0]))
		}
	}
	if j.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(j.headers); i += 2 {
		req.Header.Set(j.headers[i], j.headers[i+1])
	}
	resp, err := d.client.Do(req)
	if err != nil { // *url.Error quotes the URL: name only the kind of failure
		d.t.Errorf("%s: request failed (%T)", j.label, errors.Unwrap(err))
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d.record(j, resp, b)
	return resp.StatusCode, b
}

// record counts the response and checks what every response must be.
func (d *driver) record(j job, resp *http.Response, b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	if d.status[j.label] == nil {
		d.status[j.label] = map[int]int{}
	}
	d.status[j.label][resp.StatusCode]++
	if j.token != "" {
		d.tokens = append(d.tokens, j.token)
	}
	for _, v := range j.seen {
		if v != "" && bytes.Contains(b, []byte(v)) {
			d.personalSeen++
			break
		}
	}
	if j.label == "export" && resp.StatusCode == http.StatusOK && d.export == "" {
		d.export = string(b)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "image/jpeg") {
		d.photos = append(d.photos, b)
	}
	if resp.StatusCode >= 500 {
		d.violations = append(d.violations, fmt.Sprintf("%s: status %d", j.label, resp.StatusCode))
	}
	// No response may be kept by a browser or a shared cache.
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		d.violations = append(d.violations, fmt.Sprintf("%s: status %d without Cache-Control: no-store / nosniff", j.label, resp.StatusCode))
	}
	if j.check != nil && resp.StatusCode == http.StatusOK {
		if v := j.check(b); v != "" {
			d.violations = append(d.violations, j.label+": "+v)
		}
	}
}

// runAll runs jobs on a few workers.
func (d *driver) runAll(jobs []job) {
	ch := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				d.do(j)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

func (d *driver) token(tn emulator.TenantInfo, clientID, userID string) string {
	tok, err := d.emu.MintToken(emulator.TokenRequest{TenantID: tn.ID, ClientID: clientID, UserID: userID})
	if err != nil {
		d.t.Fatal(err)
	}
	return tok
}

func (d *driver) user(tn emulator.TenantInfo, id string) emulator.User {
	u, ok := d.emu.User(tn.ID, id)
	if !ok {
		d.t.Fatalf("no fixture user %s", id)
	}
	return u
}

// driveEverything sends the whole traffic: reads, search, photos, org chart, presence,
// batch, error paths, the transparency endpoints, the usage API and remote logout.
func (d *driver) driveEverything(usageFlushed func()) {
	var jobs []job
	for _, tn := range d.emu.Directory().Tenants {
		var enabled, disabled []emulator.UserInfo
		for _, u := range tn.Users {
			if u.AccountEnabled {
				enabled = append(enabled, u)
			} else {
				disabled = append(disabled, u)
			}
		}
		for _, c := range tn.Clients {
			for i, info := range enabled {
				jobs = append(jobs, d.userJobs(tn, c, i, info, enabled, disabled)...)
			}
			for _, info := range disabled {
				jobs = append(jobs, job{label: "deactivated caller", method: "GET", path: "/v1.0/me", token: d.token(tn, c.ID, info.ID)})
			}
		}
	}
	for i := range d.bases {
		jobs = append(jobs, job{label: "privacy", method: "GET", path: "/privacy", instance: i + 1},
			job{label: "privacy html", method: "GET", path: "/privacy", headers: []string{"Accept", "text/html"}, instance: i + 1},
			job{label: "dashboard", method: "GET", path: "/usage/", instance: i + 1},
			job{label: "probe", method: "GET", path: "/healthz", instance: i + 1}, job{label: "probe", method: "GET", path: "/readyz", instance: i + 1})
	}
	d.runAll(jobs)
	usageFlushed()
	for _, tn := range d.emu.Directory().Tenants {
		d.analystJobs(tn)
		d.adminJobs(tn)
	}
}
