package odata_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/odata"
)

const testPolicy = `
clients:
  - app_id: 11111111-2222-3333-4444-555555555555
    name: chat-web
    purpose: Chat.
    operations: [me.read, users.read, users.list]
    fields:
      self: [displayName, mail, mobilePhone]
      others: [displayName, jobTitle, mail, userPrincipalName]
`

func testClient(t testing.TB) *policy.Client {
	t.Helper()
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.Client("11111111-2222-3333-4444-555555555555")
	if !ok {
		t.Fatal("test client not found")
	}
	return c
}

func TestForList(t *testing.T) {
	cl := testClient(t)
	const enabled = "accountEnabled eq true"
	tests := []struct {
		name     string
		query    string
		eventual bool
		nilCl    bool
		want     odata.ListQuery
		wantErr  *odata.Error
	}{
		{name: "defaults", want: odata.ListQuery{Filter: enabled, Top: 100, Count: true}},
		{name: "defaults with eventual", eventual: true, want: odata.ListQuery{Filter: enabled, Top: 100, Count: true}},
		{name: "top and skiptoken", query: "$top=5&$skiptoken=abc", want: odata.ListQuery{Filter: enabled, Top: 5, Count: true, SkipToken: "abc"}},
		{name: "count false needs no header", query: "$count=false", want: odata.ListQuery{Filter: enabled, Top: 100, Count: true}},
		{name: "count without eventual is ignored", query: "$count=true", want: odata.ListQuery{Filter: enabled, Top: 100, Count: true}},
		{name: "count with eventual is answered", query: "$count=true", eventual: true, want: odata.ListQuery{Filter: enabled, Top: 100, Count: true, ReportCount: true}},
		{name: "search without eventual", query: `$search="displayName:a"`, wantErr: errUnsupported},
		{name: "blank search without eventual", query: "$search=%20", wantErr: errUnsupported},
		{name: "search", query: `$search="displayName:ad"`, eventual: true,
			want: odata.ListQuery{Search: `"displayName:ad"`, Filter: enabled, Top: 100, Count: true}},
		{name: "search on a hidden field", query: `$search="department:x"`, eventual: true,
			wantErr: bad(`Invalid $search: clause 1: property 'department' is not visible to client "chat-web", nor is any property of the other clauses`)},
		{name: "search OR on a hidden field", query: `$search="displayName:x" OR "department:x" OR "userPrincipalName:x"`, eventual: true,
			want: odata.ListQuery{Search: `"displayName:x" OR "userPrincipalName:x"`, Filter: enabled, Top: 100, Count: true, Withheld: []string{"department"}}},
		{name: "search AND on a hidden field", query: `$search="displayName:x" AND "department:x"`, eventual: true,
			wantErr: bad(`Invalid $search: clause 2: property 'department' is not visible to client "chat-web", and a clause joined by AND cannot be left out`)},
		{name: "search on an unsearchable field", query: `$search="businessPhones:555"`, eventual: true,
			wantErr: bad("Invalid $search: clause 1: property 'businessPhones' cannot be searched (at position 1)")},
		{name: "filter", query: "$filter=startswith(DisplayName,'a')",
			want: odata.ListQuery{Filter: enabled + " and (startswith(displayName,'a'))", Top: 100, Count: true}},
		{name: "blank filter", query: "$filter=%20", want: odata.ListQuery{Filter: enabled, Top: 100, Count: true}},
		{name: "filter on a hidden field", query: "$filter=mobilePhone eq '1'", wantErr: bad(`Invalid $filter: property 'mobilePhone' is not visible to client "chat-web" (at position 1)`)},
		{name: "filter malformed", query: "$filter=displayName eq", wantErr: bad("Invalid $filter: property 'displayName' must be compared with a string literal in single quotes (at position 15)")},
		{name: "orderby", query: "$orderby=displayName DESC", want: odata.ListQuery{Filter: enabled, OrderBy: "displayName desc", Top: 100, Count: true}},
		{name: "orderby unsortable", query: "$orderby=jobTitle", wantErr: bad("Invalid $orderby: sorting by 'jobTitle' is not supported; use displayName or userPrincipalName")},
		{name: "unknown client", query: "$orderby=displayName", nilCl: true, wantErr: bad("Invalid $orderby: unknown client app")},
		{name: "everything", query: `$search="mail:x"&$filter=jobTitle eq 'a'&$orderby=displayName&$top=999&$count=true&$skiptoken=t`, eventual: true,
			want: odata.ListQuery{Search: `"mail:x"`, Filter: enabled + " and (jobTitle eq 'a')", OrderBy: "displayName", Top: 999, Count: true, ReportCount: true, SkipToken: "t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := odata.Parse(tc.query, odata.List)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := cl
			if tc.nilCl {
				c = nil
			}
			got, err := q.ForList(c, tc.eventual)
			checkErr(t, err, tc.wantErr)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

var errUnsupported = &odata.Error{Code: "Request_UnsupportedQuery",
	Message: "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"}

func bad(msg string) *odata.Error { return &odata.Error{Code: "BadRequest", Message: msg} }

// checkErr fails unless err is nil and want is nil, or err is an *odata.Error equal to want.
func checkErr(t *testing.T, err error, want *odata.Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var got *odata.Error
	if !errors.As(err, &got) {
		t.Fatalf("error %v (%T), want %+v", err, err, want)
	}
	if *got != *want {
		t.Fatalf("error %+v, want %+v", *got, *want)
	}
}

func TestEventual(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{{"eventual", true}, {"EVENTUAL", true}, {"Eventual", true}, {"", false}, {"session", false}, {" eventual", false}} {
		if got := odata.Eventual(tc.in); got != tc.want {
			t.Errorf("Eventual(%q) = %t, want %t", tc.in, got, tc.want)
		}
	}
	if odata.ConsistencyLevelHeader != "ConsistencyLevel" {
		t.Errorf("header %q", odata.ConsistencyLevelHeader)
	}
}
