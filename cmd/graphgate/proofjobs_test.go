package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/avatar"
)

// namelessClient is the client app that the proof's policy lets see no names of others.
const namelessClient = "mobile"

// userJobs is what one user does through one client app: every read endpoint, with
// personal values in paths, searches, filters, bodies and headers, and some error paths.
func (d *driver) userJobs(tn emulator.TenantInfo, c emulator.ClientInfo, i int, info emulator.UserInfo, enabled, disabled []emulator.UserInfo) []job {
	me := d.user(tn, info.ID)
	col := d.user(tn, enabled[(i+1)%len(enabled)].ID)
	tok := d.token(tn, c.ID, info.ID)
	seen := []string{col.UserPrincipalName, me.DisplayName, me.ID, col.DisplayName, col.ID}
	ev := []string{"ConsistencyLevel", "eventual"}
	q := url.QueryEscape
	noGone := noneOf(disabled)
	jobs := []job{
		{label: "GET /me", method: "GET", path: "/v1.0/me", token: tok, seen: seen},
		{label: "GET /users/{upn}", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "?$select=displayName,mail,mobilePhone", token: tok, seen: seen},
		{label: "search", method: "GET", path: "/v1.0/users?$search=" + q(`"displayName:`+col.GivenName+`"`) + "&$select=displayName,jobTitle", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "filter", method: "GET", path: "/v1.0/users?$filter=" + q("startswith(displayName,'"+col.Surname+"')") + "&$top=5&$count=true", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "list all", method: "GET", path: "/v1.0/users?$top=999&$count=true&$select=id,displayName", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "photo", method: "GET", path: "/v1.0/me/photo/$value", token: tok},
		{label: "export", method: "GET", path: "/privacy/v1/me/export", token: tok, seen: seen},
	}
	switch i % 6 {
	case 0:
		jobs = append(jobs, job{label: "manager", method: "GET", path: "/v1.0/users/" + col.ID + "/manager", token: tok, seen: seen},
			job{label: "directReports", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "/directReports", token: tok, seen: seen, check: noGone})
	case 1:
		jobs = append(jobs, job{label: "presence", method: "GET", path: "/v1.0/users/" + col.ID + "/presence", token: tok, seen: seen},
			job{label: "beta presence", method: "GET", path: "/beta/users" + graphKey(col.UserPrincipalName) + "/presence", token: tok, seen: seen})
	case 2:
		ids := []string{col.ID, me.ID, enabled[(i+2)%len(enabled)].ID}
		jobs = append(jobs, job{label: "getPresencesByUserId", method: "POST", path: "/v1.0/communications/getPresencesByUserId", token: tok, body: map[string]any{"ids": ids}, seen: seen})
	case 3:
		var reqs []map[string]any
		for k := range 5 {
			u := enabled[(i+k+1)%len(enabled)]
			reqs = append(reqs, map[string]any{"id": fmt.Sprint(k + 1), "method": "GET", "url": "/users" + graphKey(u.UserPrincipalName) + "?$select=displayName,mail"})
		}
		reqs = append(reqs, map[string]any{"id": "6", "method": "GET", "url": "/users/" + col.ID + "/photo/$value"},
			map[string]any{"id": "7", "method": "GET", "url": "/me"})
		jobs = append(jobs, job{label: "$batch", method: "POST", path: "/v1.0/$batch", token: tok, body: map[string]any{"requests": reqs}, seen: seen})
	case 4:
		jobs = append(jobs, job{label: "photo meta", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "/photo", token: tok},
			job{label: "photo size", method: "GET", path: "/v1.0/users/" + col.ID + "/photos/48x48/$value", token: tok})
	case 5:
		gone := d.user(tn, disabled[i%len(disabled)].ID)
		phone := strings.Join(append([]string{col.MobilePhone}, col.BusinessPhones...), "")
		jobs = append(jobs,
			job{label: "unknown user", method: "GET", path: "/v1.0/users" + graphKey("nobody."+strings.Split(me.UserPrincipalName, "@")[0]+"@"+tn.Domain), token: tok},
			job{label: "deactivated user", method: "GET", path: "/v1.0/users" + graphKey(gone.UserPrincipalName), token: tok},
			job{label: "deactivated photo", method: "GET", path: "/v1.0/users/" + gone.ID + "/photos/48x48/$value", token: tok, check: initialsFor(c.Name, gone)},
			job{label: "hidden-field filter", method: "GET", path: "/v1.0/users?$filter=" + q("mobilePhone eq '"+phone+"'"), token: tok, headers: ev},
			job{label: "bad search", method: "GET", path: "/v1.0/users?$search=" + q(`"employeeId:`+me.EmployeeID+` `+me.Surname+`"`), token: tok, headers: ev},
			job{label: "no route", method: "GET", path: "/v1.0/Users" + graphKey(me.UserPrincipalName) + "/calendar", token: tok},
			job{label: "bad token", method: "GET", path: "/v1.0/users" + graphKey(me.UserPrincipalName), token: "not." + me.UserPrincipalName + ".token"})
	}
	return jobs
}

// noneOf checks that a response lists none of the deactivated accounts.
func noneOf(disabled []emulator.UserInfo) func([]byte) string {
	return func(b []byte) string {
		for _, u := range disabled {
			if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(u.ID))) {
				return "a deactivated account is listed"
			}
		}
		return ""
	}
}

// initialsFor checks a deactivated user's avatar: the user's initials for a client app
// that may see names, "?" for one that may not.
func initialsFor(client string, gone emulator.User) func([]byte) string {
	name := gone.DisplayName
	if client == namelessClient {
		name = ""
	}
	want := avatar.PNG(name, gone.ID, 48)
	return func(b []byte) string {
		if bytes.Equal(b, want) {
			return ""
		}
		if client == namelessClient && bytes.Equal(b, avatar.PNG(gone.DisplayName, gone.ID, 48)) {
			return "the avatar shows the initials of a name the client app may not see"
		}
		if bytes.Equal(b, avatar.PNG("", gone.ID, 48)) {
			return fmt.Sprintf("the avatar shows \"?\", not the %q initials (%s)", avatar.Initials(name), client)
		}
		return fmt.Sprintf("the avatar is not the %q initials avatar (%s, %d bytes)", avatar.Initials(name), client, len(b))
	}
}

// analystJobs reads the usage API (JSON and CSV) with an analyst's token, and sends it
// a parameter holding personal data.
func (d *driver) analystJobs(tn emulator.TenantInfo) {
	analyst, client := d.withRole(tn, "Gateway.Analyst")
	if analyst == "" {
		d.t.Fatalf("tenant %s has no analyst: the usage API cannot be driven", tn.Domain)
	}
	me := d.user(tn, analyst)
	tok := d.token(tn, client, analyst)
	for _, p := range []string{"requests?group_by=client_app", "requests?group_by=operation&format=csv", "latency", "cache", "active-users",
		"requests?from=" + url.QueryEscape(me.UserPrincipalName)} {
		d.do(job{label: "usage API", method: "GET", path: "/usage/v1/" + p, token: tok})
	}
}

// adminJobs logs a user out by UPN through an admin on one instance, checks that the
// user's token is refused on another, purges the tenant's cache, and tries what must fail.
func (d *driver) adminJobs(tn emulator.TenantInfo) {
	admin, client := d.withRole(tn, "Gateway.Admin")
	if admin == "" {
		d.t.Fatalf("tenant %s has no admin: the admin API cannot be driven", tn.Domain)
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
	d.do(job{label: "GET /me before logout", method: "GET", path: "/v1.0/me", token: targetTok, instance: 2})
	st, _ := d.do(job{label: "admin logout", method: "POST", path: "/admin/v1/users/" + url.PathEscape(target.UserPrincipalName) + "/logout", token: adminTok, instance: 1})
	if st == http.StatusOK {
		// Another instance learns of the logout through Redis.
		d.do(job{label: "revoked token", method: "GET", path: "/v1.0/me", token: targetTok, instance: 3})
	}
	d.do(job{label: "admin purge", method: "POST", path: "/admin/v1/cache/purge", token: adminTok})
	d.do(job{label: "admin logout of unknown user", method: "POST", path: "/admin/v1/users/" + url.PathEscape("nobody."+strings.Split(target.UserPrincipalName, "@")[0]+"@"+tn.Domain) + "/logout", token: adminTok})
	analyst, _ := d.withRole(tn, "Gateway.Analyst")
	d.do(job{label: "logout without the role", method: "POST", path: "/admin/v1/users/" + url.PathEscape(target.UserPrincipalName) + "/logout", token: d.token(tn, client, analyst)})
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

// graphKey writes a UPN as Graph's key in parentheses, "('upn')" with quotes doubled and
// the rest percent-encoded: the spelling that addresses every UPN (a guest's #EXT#, a
// leading $, ...).
func graphKey(upn string) string { return spec.KeyInParentheses(upn) }
