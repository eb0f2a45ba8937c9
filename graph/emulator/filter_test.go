package emulator_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// Graph's answers to a $filter operator that needs the advanced query parameters, and
// to one a property does not support at all:
// https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects
const (
	msgNeedsAdvanced = "Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
	msgUnsupported   = "Unsupported or invalid query filter clause specified for property '%s' of resource 'User'."
)

// TestFilterOperators checks $filter support per property and operator as the user
// resource (https://learn.microsoft.com/graph/api/resources/user#properties) and the
// advanced query page (https://learn.microsoft.com/graph/aad-advanced-queries) document.
func TestFilterOperators(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	day := func(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }
	ids := addUsers(t, e,
		emulator.User{UserPrincipalName: "flt0@contoso.example", DisplayName: "Filter Alpha", EmployeeID: "E100",
			MobilePhone: "+1 555 0190", OfficeLocation: "99/1", Mail: "flt0@contoso.example", CreatedDateTime: day(1990, 1)},
		emulator.User{UserPrincipalName: "flt1@contoso.example", DisplayName: "Filter Beta", EmployeeID: "E200", CreatedDateTime: day(1990, 6)},
		emulator.User{UserPrincipalName: "flt2@contoso.example", DisplayName: "Filter Gamma", Mail: "flt2@contoso.example", CreatedDateTime: day(1991, 1)},
	)
	pick := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	checkFilters(t, e, tok, ids, []filterCase{
		{"eq by default", "employeeId eq 'E100'", false, pick(0), "", ""},
		{"in by default", "employeeId in ('E100','E200')", false, pick(0, 1), "", ""},
		{"startsWith by default", "startsWith(displayName,'filter b')", false, pick(1), "", ""},
		{"no ge or le on strings", "displayName ge 'Filter B' and displayName le 'Filter Gz'", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "displayName")},
		{"ne needs advanced", "employeeId ne 'E100'", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "ne")},
		{"ne advanced", "employeeId ne 'E100' and startsWith(displayName,'Filter')", true, pick(1, 2), "", ""},
		{"not needs advanced", "not(displayName eq 'Filter Alpha')", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "not")},
		{"NOT startsWith advanced", "NOT startsWith(displayName,'Filter A') and startsWith(userPrincipalName,'flt')", true, pick(1, 2), "", ""},
		{"mobilePhone eq needs advanced", "mobilePhone eq '+1 555 0190'", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "eq")},
		{"mobilePhone eq advanced", "mobilePhone eq '+1 555 0190'", true, pick(0), "", ""},
		{"officeLocation startsWith needs advanced", "startsWith(officeLocation,'99/')", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "startsWith")},
		{"officeLocation startsWith advanced", "startsWith(officeLocation,'99/')", true, pick(0), "", ""},
		{"endsWith needs advanced", "endsWith(userPrincipalName,'t1@contoso.example')", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "endsWith")},
		{"endsWith advanced on userPrincipalName", "endsWith(userPrincipalName,'T1@contoso.example')", true, pick(1), "", ""},
		{"endsWith not on displayName", "endsWith(displayName,'Alpha')", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "displayName")},
		{"eq null needs advanced", "mail eq null", false, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgNeedsAdvanced, "eq")},
		{"eq null advanced", "mail eq null and startsWith(displayName,'Filter')", true, pick(1), "", ""},
		{"ne null advanced", "mail ne null and startsWith(displayName,'Filter')", true, pick(0, 2), "", ""},
		{"eq null on a property that is not nullable", "userPrincipalName eq null", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "userPrincipalName")},
		{"createdDateTime range by default", "createdDateTime ge 1990-01-01T00:00:00Z and createdDateTime le 1990-12-31T23:59:59Z", false, pick(0, 1), "", ""},
		{"createdDateTime ge a date", "createdDateTime ge 1990-06-01 and createdDateTime le 1991-01-01T00:00:00Z", false, pick(1, 2), "", ""},
		{"createdDateTime has no in", "createdDateTime in (1990-01-01T00:00:00Z)", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "createdDateTime")},
		{"createdDateTime has no startsWith", "startsWith(createdDateTime,'1990')", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "createdDateTime")},
		{"gt is not supported", "displayName gt 'Filter'", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "displayName")},
		{"not filterable", "signInSessionsValidFromDateTime ge 1990-01-01T00:00:00Z", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "signInSessionsValidFromDateTime")},
		{"lambda on a collection", "businessPhones/any(p:p eq '1')", true, nil, "Request_UnsupportedQuery", fmt.Sprintf(msgUnsupported, "businessPhones")},
		{"incompatible types", "accountEnabled eq 'true'", false, nil, "BadRequest",
			"A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."},
		{"unknown property", "shoeSize eq '4'", false, nil, "BadRequest", "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{"unknown function", "contains(displayName,'a')", false, nil, "BadRequest", ""},
		{"unterminated string", "displayName eq 'x", false, nil, "BadRequest", ""},
	})
}

// TestFilterUserTable checks rows of the "User properties" table of
// https://learn.microsoft.com/graph/aad-advanced-queries (columns eq, startsWith, ge/le,
// eq Null; blank cells are refused even with advanced query parameters) where it is
// stricter than the user resource page, and its rules for in, ne and not.
func TestFilterUserTable(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	day := func(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }
	ids := addUsers(t, e,
		emulator.User{UserPrincipalName: "tbl0@contoso.example", DisplayName: "Table Alpha", EmployeeID: "1100", CreatedDateTime: day(1980, 1)},
		emulator.User{UserPrincipalName: "tbl1@contoso.example", DisplayName: "Table Beta", EmployeeID: "1200", CreatedDateTime: day(1980, 6)},
		emulator.User{UserPrincipalName: "tbl2@contoso.example", DisplayName: "Table Gamma", CreatedDateTime: day(1981, 1)},
	)
	all, none := ids, []string{}
	unsup := func(p string) string { return fmt.Sprintf(msgUnsupported, p) }
	needs := func(op string) string { return fmt.Sprintf(msgNeedsAdvanced, op) }
	const uq = "Request_UnsupportedQuery"
	mine := " and startsWith(displayName,'Table')"
	checkFilters(t, e, tok, ids, []filterCase{
		// employeeId: eq by default, eq null advanced, no startsWith and no ge/le.
		{"employeeId eq by default", "employeeId eq '1200'", false, ids[1:2], "", ""},
		{"employeeId startsWith", "startswith(employeeId,'1')", false, nil, uq, unsup("employeeId")},
		{"employeeId startsWith advanced", "startswith(employeeId,'1')", true, nil, uq, unsup("employeeId")},
		{"employeeId ge", "employeeId ge '1'", false, nil, uq, unsup("employeeId")},
		{"employeeId ge advanced", "employeeId ge '1'", true, nil, uq, unsup("employeeId")},
		{"employeeId le advanced", "employeeId le '2'", true, nil, uq, unsup("employeeId")},
		{"employeeId eq null needs advanced", "employeeId eq null", false, nil, uq, needs("eq")},
		{"employeeId eq null advanced", "employeeId eq null" + mine, true, ids[2:], "", ""},
		// createdDateTime: ge/le by default, eq null advanced, no eq (so no in, ne).
		{"createdDateTime ge by default", "createdDateTime ge 1980-06-01T00:00:00Z", false, ids[1:], "", ""},
		{"createdDateTime le by default", "createdDateTime le 1980-06-01T00:00:00Z", false, ids[:2], "", ""},
		{"createdDateTime eq", "createdDateTime eq 1980-01-01T00:00:00Z", false, nil, uq, unsup("createdDateTime")},
		{"createdDateTime eq advanced", "createdDateTime eq 1980-01-01T00:00:00Z", true, nil, uq, unsup("createdDateTime")},
		{"createdDateTime in advanced", "createdDateTime in (1980-01-01T00:00:00Z)", true, nil, uq, unsup("createdDateTime")},
		{"createdDateTime ne advanced", "createdDateTime ne 1980-01-01T00:00:00Z", true, nil, uq, unsup("createdDateTime")},
		{"createdDateTime eq null needs advanced", "createdDateTime eq null", false, nil, uq, needs("eq")},
		{"createdDateTime ne null advanced", "createdDateTime ne null" + mine, true, all, "", ""},
		{"createdDateTime le null", "createdDateTime le null", true, nil, uq, unsup("createdDateTime")},
		// faxNumber: eq, startsWith and eq null all advanced; in follows eq.
		{"faxNumber eq needs advanced", "faxNumber eq '1'", false, nil, uq, needs("eq")},
		{"faxNumber startsWith needs advanced", "startswith(faxNumber,'1')", false, nil, uq, needs("startsWith")},
		{"faxNumber in needs advanced", "faxNumber in ('1','2')", false, nil, uq, needs("in")},
		{"faxNumber eq advanced", "faxNumber eq '1'" + mine, true, none, "", ""},
		{"faxNumber eq null advanced", "faxNumber eq null" + mine, true, all, "", ""},
		{"faxNumber ge advanced", "faxNumber ge '1'", true, nil, uq, unsup("faxNumber")},
		// No ge/le on string properties.
		{"displayName ge", "displayName ge 'Table B'", false, nil, uq, unsup("displayName")},
		{"displayName le advanced", "displayName le 'Table B'", true, nil, uq, unsup("displayName")},
		{"mail ge advanced", "mail ge 'a'", true, nil, uq, unsup("mail")},
		{"userPrincipalName le advanced", "userPrincipalName le 'z'", true, nil, uq, unsup("userPrincipalName")},
		// Other rows stricter than the user resource page.
		{"state eq by default", "state eq 'WA'", false, none, "", ""},
		{"state startsWith advanced", "startswith(state,'W')", true, nil, uq, unsup("state")},
		{"preferredLanguage eq needs advanced", "preferredLanguage eq 'en-US'", false, nil, uq, needs("eq")},
		{"preferredLanguage startsWith advanced", "startswith(preferredLanguage,'en')", true, nil, uq, unsup("preferredLanguage")},
		{"employeeType eq needs advanced", "employeeType eq 'Employee'", false, nil, uq, needs("eq")},
		{"employeeType startsWith advanced", "startswith(employeeType,'E')", true, nil, uq, unsup("employeeType")},
		{"onPremisesUserPrincipalName is not listed", "onPremisesUserPrincipalName eq 'a@b'", true, nil, uq, unsup("onPremisesUserPrincipalName")},
		{"endsWith not on employeeId", "endswith(employeeId,'00')", true, nil, uq, unsup("employeeId")},
		// Rows looser than before: eq by default, advanced-only rows, null only.
		{"onPremisesImmutableId eq by default", "onPremisesImmutableId eq 'x'", false, none, "", ""},
		{"onPremisesDistinguishedName eq needs advanced", "onPremisesDistinguishedName eq 'CN=x'", false, nil, uq, needs("eq")},
		{"onPremisesDistinguishedName startsWith advanced", "startswith(onPremisesDistinguishedName,'CN=')" + mine, true, none, "", ""},
		{"passwordPolicies eq a value", "passwordPolicies eq 'None'", true, nil, uq, unsup("passwordPolicies")},
		{"passwordPolicies eq null needs advanced", "passwordPolicies eq null", false, nil, uq, needs("eq")},
		{"passwordPolicies eq null advanced", "passwordPolicies eq null" + mine, true, all, "", ""},
		// ne null is a negation: advanced even where eq null is not listed as advanced.
		{"ne null needs advanced", "displayName ne null", false, nil, uq, needs("ne")},
		// id is not in the table; the user resource page documents eq and in.
		{"id eq by default", "id eq '" + ids[0] + "'", false, ids[:1], "", ""},
	})
}

// filterCase is one $filter on /users and Graph's answer: the added users it must list
// (status 200) or its error (status 400; msg "" skips the message).
type filterCase struct {
	name, filter string
	advanced     bool
	want         []string
	code, msg    string
}

// checkFilters runs the cases against e; ids are the users the test added.
func checkFilters(t *testing.T, e *emulator.Emulator, tok string, ids []string, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			query, hdr := "$select=id&$top=999&$filter="+tc.filter, map[string]string(nil)
			if tc.advanced {
				query, hdr = query+"&$count=true", advancedHdr
			}
			r := list(t, e, tok, "/v1.0/users", query, hdr)
			if tc.code != "" {
				if r.status != 400 || r.code() != tc.code || (tc.msg != "" && r.message() != tc.msg) {
					t.Fatalf("got %d %v, want 400 %s %q", r.status, r.body, tc.code, tc.msg)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			if got := only(r.ids, ids); !slices.Equal(got, tc.want) {
				t.Fatalf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFilterInLimit checks the limit of 15 OR children (in values) without advanced
// query parameters (https://developer.microsoft.com/graph/known-issues/?search=13635).
func TestFilterInLimit(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	quoted := func(n int) []string {
		var out []string
		for _, u := range ti.Users[:n] {
			out = append(out, "'"+u.ID+"'")
		}
		return out
	}
	ors := func(n int) string {
		var out []string
		for _, id := range quoted(n) {
			out = append(out, "id eq "+id)
		}
		return strings.Join(out, " or ")
	}
	tests := []struct {
		name, filter string
		advanced     bool
		status, n    int
	}{
		{"in with 15 values", "id in (" + strings.Join(quoted(15), ",") + ")", false, 200, 15},
		{"in with 16 values", "id in (" + strings.Join(quoted(16), ",") + ")", false, 400, 16},
		{"in with 16 values, advanced", "id in (" + strings.Join(quoted(16), ",") + ")", true, 200, 16},
		{"16 or-ed comparisons", ors(16), false, 400, 16},
		{"an in and ors add up", "id in (" + strings.Join(quoted(10), ",") + ") or " + ors(6), false, 400, 16},
		{"15 or-ed comparisons", ors(15), false, 200, 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query, hdr := "$select=id&$filter="+tc.filter, map[string]string(nil)
			if tc.advanced {
				query, hdr = query+"&$count=true", advancedHdr
			}
			r := list(t, e, tok, "/v1.0/users", query, hdr)
			if r.status != tc.status {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			want := fmt.Sprintf("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: 15.", tc.n)
			if tc.status == 400 && (r.code() != "Request_UnsupportedQuery" || r.message() != want) {
				t.Fatalf("error %v", r.body)
			}
			if tc.status == 200 && len(r.ids) != tc.n {
				t.Fatalf("%d users, want %d", len(r.ids), tc.n)
			}
		})
	}
}
