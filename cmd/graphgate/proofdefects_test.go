package main

import (
	"strings"
	"testing"
)

// proofDefect is one real way of leaking, planted in the source at build time: the proof
// must turn red for it, for the right reason.
type proofDefect struct {
	name   string
	edits  []edit
	caught func(proofResult) bool
}

// defectHelpers is a source file added to package proxy for defects that log: it writes
// JSON records to stderr as graphgate's own logger does, or writes to stderr directly,
// as careless code does. (The standard library's default logger would not do: graphgate
// replaces its output with a notice without the text.)
const defectHelpers = `package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
)

var proofDefectLogger = slog.New(slog.NewJSONHandler(os.Stderr, nil))

func proofDefectLog(msg, v string) { proofDefectLogger.Info(msg, "value", v) }

func proofDefectSHA256(v string) string { s := sha256.Sum256([]byte(v)); return hex.EncodeToString(s[:]) }

func proofDefectStderr(v string) { fmt.Fprintln(os.Stderr, "caller", v) }

var _, _, _ = proofDefectLog, proofDefectSHA256, proofDefectStderr
`

const principalSet = "\tscopeOf(c).setPrincipal(p)\n"

// proofDefects are the defects a reviewer planted one at a time into a copy of the
// source (issue 16), each of which the proof once missed, and a control.
var proofDefects = []proofDefect{
	{
		name:   "list handler logs the raw query",
		edits:  []edit{{"proxy/users.go", "\t\tq, err := parseQuery(c, odata.List)\n", "\t\tproofDefectLog(\"list\", c.Request.URL.RawQuery)\n\t\tq, err := parseQuery(c, odata.List)\n"}},
		caught: leaked("stderr", "givenName", "percent-encoded"),
	},
	{
		name:   "verified bearer tokens logged",
		edits:  []edit{{"proxy/authn.go", principalSet, "\tproofDefectLog(\"token\", raw)\n" + principalSet}},
		caught: leaked("stderr", "token", ""),
	},
	{
		name:   "unkeyed SHA-256 of the object id logged",
		edits:  []edit{{"proxy/authn.go", principalSet, "\tproofDefectLog(\"user\", proofDefectSHA256(p.ObjectID))\n" + principalSet}},
		caught: leaked("stderr", "object id", "SHA-256"),
	},
	{
		name: "client IP, Referer and User-Agent logged",
		edits: []edit{{"proxy/observe.go", `log.LogAttrs(ctx, level, "request", rec.attrs()...)`,
			`log.LogAttrs(ctx, level, "request", append(rec.attrs(), slog.String("ip", c.ClientIP()), slog.String("referer", c.Request.Referer()), slog.String("ua", c.Request.UserAgent()))...)`}},
		caught: func(r proofResult) bool {
			return leaked("stderr", "client IP", "")(r) && leaked("stderr", "client device", "")(r) && leaked("stderr", "userPrincipalName", "")(r)
		},
	},
	{
		name:   "object id written straight to the process's stderr",
		edits:  []edit{{"proxy/authn.go", principalSet, "\tproofDefectStderr(p.ObjectID)\n" + principalSet}},
		caught: leaked("stderr", "object id", "plain"),
	},
	{
		name: "Graph asked for mobilePhone, employeeId and city whatever the policy",
		edits: []edit{
			{"graph/users.go", "qp := &users.UsersRequestBuilderGetQueryParameters{Select: q.Fields}",
				`qp := &users.UsersRequestBuilderGetQueryParameters{Select: append(append([]string(nil), q.Fields...), "mobilePhone", "employeeId", "city")}`},
			{"graph/users.go", "QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: fields},",
				`QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: append(append([]string(nil), fields...), "mobilePhone", "employeeId", "city")},`},
		},
		caught: func(r proofResult) bool {
			return violated("upstream: Graph was asked for employeeid")(r) && violated("upstream: Graph was asked for city")(r) &&
				violated("GET /privacy says")(r) && violated("the self-export says")(r)
		},
	},
	{
		name: "user reads sent to Graph without $select",
		edits: []edit{{"graph/users.go", "QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: fields},",
			"QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{},"}},
		caught: violated("user reads without $select"),
	},
	{
		name: "deactivated users no longer excluded from upstream list queries",
		edits: []edit{
			{"proxy/odata/list.go", "lq := ListQuery{Top: q.Top, SkipToken: q.SkipToken, Filter: enabledOnly}", "lq := ListQuery{Top: q.Top, SkipToken: q.SkipToken}"},
			{"proxy/odata/list.go", `lq.Filter = enabledOnly + " and (" + f + ")"`, "lq.Filter = f"},
		},
		caught: violated("did not exclude deactivated accounts"),
	},
	{
		name:   "deactivated user's avatar shows initials to a caller who may not see names",
		edits:  []edit{{"proxy/photos.go", "\t\tname := \"\"\n", "\t\tname := u.DisplayName()\n"}},
		caught: violated("the avatar shows the initials of a name the client app may not see"),
	},
	{
		name:   "control: names in plain text in the logs",
		edits:  []edit{{"proxy/users.go", "\t\tbody := project(u, d.Fields)\n", "\t\tproofDefectLog(\"user\", u.DisplayName())\n\t\tbody := project(u, d.Fields)\n"}},
		caught: leaked("stderr", "displayName", "plain"),
	},
}

// TestPrivacyProofCatchesDefects plants each defect of proofDefects into the source
// through a build overlay, builds it, runs the whole proof against it and checks that the proof turns red
// for that defect's reason: the proof's strength, tested.
func TestPrivacyProofCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs graphgate once per defect")
	}
	proofStores(t)
	for _, df := range proofDefects {
		t.Run(df.name, func(t *testing.T) {
			bin := buildWithDefect(t, df.edits, map[string]string{"proxy/zz_proof_defect.go": defectHelpers})
			r := runProof(t, bin)
			if !df.caught(r) {
				t.Errorf("the proof missed the defect: %d leaks, violations %q", len(r.leaks), r.violations)
				for i, f := range r.leaks {
					if i < 5 {
						t.Logf("found: %s", f)
					}
				}
			}
		})
	}
}

// leaked reports whether the proof found a value whose label holds label, in a place
// whose name holds where, in a form that holds form ("" matches any).
func leaked(where, label, form string) func(proofResult) bool {
	return func(r proofResult) bool {
		for _, f := range r.leaks {
			if strings.Contains(f.Where, where) && strings.Contains(strings.ToLower(f.Value.Label), strings.ToLower(label)) &&
				strings.Contains(f.Form, form) {
				return true
			}
		}
		return false
	}
}

// violated reports whether a violation holds text.
func violated(text string) func(proofResult) bool {
	return func(r proofResult) bool {
		for _, v := range r.violations {
			if strings.Contains(v, text) {
				return true
			}
		}
		return false
	}
}
