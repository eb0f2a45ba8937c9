package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// driver sends the proof's traffic: every endpoint, for every fixture user and client app.
type driver struct {
	t    *testing.T
	emu  *emulator.Emulator
	base string

	mu           sync.Mutex
	cov          map[string]int // requests per endpoint label
	requests     int
	personalSeen int // responses that carried some fixture user's personal data
}

// job is one request.
type job struct {
	label, method, path, token string
	body                       any
	headers                    []string
	seen                       []string // personal values the response may carry
}

var proofClient = &http.Client{Timeout: 20 * time.Second}

func (d *driver) do(j job) (int, []byte) {
	var rd io.Reader
	if j.body != nil {
		b, _ := json.Marshal(j.body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(j.method, d.base+j.path, rd)
	if err != nil {
		d.t.Errorf("%s: %v", j.label, err)
		return 0, nil
	}
	if j.token != "" {
		req.Header.Set("Authorization", "Bearer "+j.token)
	}
	if j.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(j.headers); i += 2 {
		req.Header.Set(j.headers[i], j.headers[i+1])
	}
	resp, err := proofClient.Do(req)
	if err != nil {
		d.t.Errorf("%s: %v", j.label, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	d.cov[j.label]++
	for _, v := range j.seen {
		if v != "" && bytes.Contains(b, []byte(v)) {
			d.personalSeen++
			break
		}
	}
	if resp.StatusCode >= 500 {
		d.t.Errorf("%s: status %d: %s", j.label, resp.StatusCode, b)
	}
	// No response may be kept by a browser or a shared cache.
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		d.t.Errorf("%s: status %d without Cache-Control: no-store / nosniff", j.label, resp.StatusCode)
	}
	return resp.StatusCode, b
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
func (d *driver) driveEverything() {
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
				jobs = append(jobs, d.userJobs(tn, c.ID, i, info, enabled, disabled)...)
			}
			for _, info := range disabled {
				jobs = append(jobs, job{label: "deactivated caller", method: "GET", path: "/v1.0/me", token: d.token(tn, c.ID, info.ID)})
			}
		}
	}
	jobs = append(jobs, job{label: "privacy", method: "GET", path: "/privacy"},
		job{label: "privacy html", method: "GET", path: "/privacy", headers: []string{"Accept", "text/html"}},
		job{label: "dashboard", method: "GET", path: "/usage/"},
		job{label: "probe", method: "GET", path: "/healthz"}, job{label: "probe", method: "GET", path: "/readyz"})
	d.runAll(jobs)
	time.Sleep(500 * time.Millisecond) // let usage counting flush once before analysts read
	for _, tn := range d.emu.Directory().Tenants {
		d.analystJobs(tn)
		d.adminJobs(tn)
	}
}

// userJobs is what one user does through one client app: every read endpoint, with
// personal values in paths, searches, filters and bodies, and some error paths.
func (d *driver) userJobs(tn emulator.TenantInfo, clientID string, i int, info emulator.UserInfo, enabled, disabled []emulator.UserInfo) []job {
	me := d.user(tn, info.ID)
	col := d.user(tn, enabled[(i+1)%len(enabled)].ID)
	tok := d.token(tn, clientID, info.ID)
	seen := []string{me.DisplayName, me.ID, col.DisplayName, col.ID}
	ev := []string{"ConsistencyLevel", "eventual"}
	q := url.QueryEscape
	jobs := []job{
		{label: "GET /me", method: "GET", path: "/v1.0/me", token: tok, seen: seen},
		{label: "GET /users/{upn}", method: "GET", path: "/v1.0/users/" + col.UserPrincipalName + "?$select=displayName,mail,mobilePhone", token: tok, seen: seen},
		{label: "search", method: "GET", path: "/v1.0/users?$search=" + q(`"displayName:`+col.GivenName+`"`) + "&$select=displayName,jobTitle", token: tok, headers: ev, seen: seen},
		{label: "filter", method: "GET", path: "/v1.0/users?$filter=" + q("startswith(displayName,'"+col.Surname+"')") + "&$top=5&$count=true", token: tok, headers: ev, seen: seen},
		{label: "photo", method: "GET", path: "/v1.0/me/photo/$value", token: tok},
		{label: "export", method: "GET", path: "/privacy/v1/me/export", token: tok, seen: seen},
	}
	switch i % 6 {
	case 0:
		jobs = append(jobs, job{label: "manager", method: "GET", path: "/v1.0/users/" + col.ID + "/manager", token: tok, seen: seen},
			job{label: "directReports", method: "GET", path: "/v1.0/users/" + col.UserPrincipalName + "/directReports", token: tok, seen: seen})
	case 1:
		jobs = append(jobs, job{label: "presence", method: "GET", path: "/v1.0/users/" + col.ID + "/presence", token: tok, seen: seen},
			job{label: "beta presence", method: "GET", path: "/beta/users/" + col.UserPrincipalName + "/presence", token: tok, seen: seen})
	case 2:
		ids := []string{col.ID, me.ID, enabled[(i+2)%len(enabled)].ID}
		jobs = append(jobs, job{label: "getPresencesByUserId", method: "POST", path: "/v1.0/communications/getPresencesByUserId", token: tok, body: map[string]any{"ids": ids}, seen: seen})
	case 3:
		var reqs []map[string]any
		for k := range 5 {
			u := enabled[(i+k+1)%len(enabled)]
			reqs = append(reqs, map[string]any{"id": fmt.Sprint(k + 1), "method": "GET", "url": "/users/" + u.UserPrincipalName + "?$select=displayName,mail"})
		}
		reqs = append(reqs, map[string]any{"id": "6", "method": "GET", "url": "/users/" + col.ID + "/photo/$value"},
			map[string]any{"id": "7", "method": "GET", "url": "/me", "dependsOn": []string{"1"}})
		jobs = append(jobs, job{label: "$batch", method: "POST", path: "/v1.0/$batch", token: tok, body: map[string]any{"requests": reqs}, seen: seen})
	case 4:
		jobs = append(jobs, job{label: "photo meta", method: "GET", path: "/v1.0/users/" + col.UserPrincipalName + "/photo", token: tok},
			job{label: "photo size", method: "GET", path: "/v1.0/users/" + col.ID + "/photos/48x48/$value", token: tok})
	case 5:
		gone := disabled[i%len(disabled)]
		phone := strings.Join(append([]string{col.MobilePhone}, col.BusinessPhones...), "")
		jobs = append(jobs,
			job{label: "unknown user", method: "GET", path: "/v1.0/users/nobody." + strings.Split(me.UserPrincipalName, "@")[0] + "@" + tn.Domain, token: tok},
			job{label: "deactivated user", method: "GET", path: "/v1.0/users/" + gone.UserPrincipalName, token: tok},
			job{label: "deactivated photo", method: "GET", path: "/v1.0/users/" + gone.ID + "/photo/$value", token: tok},
			job{label: "hidden-field filter", method: "GET", path: "/v1.0/users?$filter=" + q("mobilePhone eq '"+phone+"'"), token: tok, headers: ev},
			job{label: "bad search", method: "GET", path: "/v1.0/users?$search=" + q(`"employeeId:`+me.EmployeeID+` `+me.Surname+`"`), token: tok, headers: ev},
			job{label: "no route", method: "GET", path: "/v1.0/Users/" + me.UserPrincipalName + "/calendar", token: tok},
			job{label: "bad token", method: "GET", path: "/v1.0/users/" + me.UserPrincipalName, token: "not." + me.UserPrincipalName + ".token"})
	}
	return jobs
}

// analystJobs reads the usage API (JSON and CSV) with an analyst's token, and sends it
// a parameter holding personal data.
func (d *driver) analystJobs(tn emulator.TenantInfo) {
	analyst, client := d.withRole(tn, "Gateway.Analyst")
	if analyst == "" {
		d.t.Logf("tenant %s has no analyst: usage API not driven", tn.Domain)
		return
	}
	me := d.user(tn, analyst)
	tok := d.token(tn, client, analyst)
	for _, p := range []string{"requests?group_by=client_app", "requests?group_by=operation&format=csv", "latency", "cache", "active-users",
		"requests?from=" + url.QueryEscape(me.UserPrincipalName)} {
		d.do(job{label: "usage API", method: "GET", path: "/usage/v1/" + p, token: tok})
	}
}

// adminJobs logs a user out by UPN through an admin, checks that the user's token is
// refused, purges the tenant's cache, and tries what must fail.
func (d *driver) adminJobs(tn emulator.TenantInfo) {
	admin, client := d.withRole(tn, "Gateway.Admin")
	if admin == "" {
		d.t.Logf("tenant %s has no admin: admin API not driven", tn.Domain)
		return
	}
	var target emulator.User
	for _, u := range tn.Users {
		if u.AccountEnabled && len(u.Roles) == 0 && u.ID != admin {
			target = d.user(tn, u.ID)
			break
		}
	}
	adminTok := d.token(tn, client, admin)
	targetTok := d.token(tn, client, target.ID)
	if st, _ := d.do(job{label: "GET /me before logout", method: "GET", path: "/v1.0/me", token: targetTok}); st != http.StatusOK {
		d.t.Errorf("target's /me before logout: %d", st)
	}
	st, body := d.do(job{label: "admin logout", method: "POST", path: "/admin/v1/users/" + target.UserPrincipalName + "/logout", token: adminTok})
	switch st {
	case http.StatusOK:
		if st, _ := d.do(job{label: "revoked token", method: "GET", path: "/v1.0/me", token: targetTok}); st != http.StatusUnauthorized {
			d.t.Errorf("a logged-out user's token got %d, want 401", st)
		}
	case http.StatusNotFound:
		d.t.Logf("admin API not in this build: %s", body)
		return
	default:
		d.t.Errorf("admin logout: %d %s", st, body)
	}
	d.do(job{label: "admin purge", method: "POST", path: "/admin/v1/cache/purge", token: adminTok})
	d.do(job{label: "admin logout of unknown user", method: "POST", path: "/admin/v1/users/nobody." + strings.Split(target.UserPrincipalName, "@")[0] + "@" + tn.Domain + "/logout", token: adminTok})
	d.do(job{label: "logout without the role", method: "POST", path: "/admin/v1/users/" + target.UserPrincipalName + "/logout", token: d.token(tn, client, target.ID)})
}

// withRole returns an enabled user holding role, and the intranet-directory client id.
func (d *driver) withRole(tn emulator.TenantInfo, role string) (userID, clientID string) {
	for _, c := range tn.Clients {
		if c.Name == "intranet-directory" {
			clientID = c.ID
		}
	}
	for _, u := range tn.Users {
		for _, r := range u.Roles {
			if r == role && u.AccountEnabled {
				return u.ID, clientID
			}
		}
	}
	return "", clientID
}
