package odata_test

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/odata"
)

// exported returns q's exported fields only, so that queries compare with DeepEqual.
func exported(q odata.Query) odata.Query {
	return odata.Query{Select: q.Select, Search: q.Search, Filter: q.Filter, OrderBy: q.OrderBy,
		Top: q.Top, Count: q.Count, SkipToken: q.SkipToken, Unserved: q.Unserved, Expand: exportedExpand(q.Expand)}
}

func notSupported(opt string) *odata.Error {
	return bad("Query option '$" + opt + "' is not supported on this resource.")
}

// pageSize is Graph's refusal of a $top out of 1..999 on users.
func pageSize(n int) *odata.Error {
	return &odata.Error{Code: odata.CodeUnsupportedQuery,
		Message: "Invalid page size specified: '" + strconv.Itoa(n) + "'. Must be between 1 and 999 inclusive."}
}

func twice(opt string) *odata.Error {
	return bad("Query option '$" + opt + "' was specified more than once, it must be specified at most once.")
}

var (
	errTop   = bad("Invalid value for the $top query option found. The $top query option requires a non-negative integer value.")
	errCount = bad("Invalid value for '$count': expected true or false.")
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		allowed odata.Options
		want    odata.Query
		wantErr *odata.Error
	}{
		// Names: with or without "$", any case; others ignored.
		{name: "empty", allowed: odata.List},
		{name: "select", raw: "$select=displayName,mail", allowed: odata.Entity, want: odata.Query{Select: []string{"displayName", "mail"}}},
		{name: "without dollar", raw: "select=displayName", allowed: odata.Entity, want: odata.Query{Select: []string{"displayName"}}},
		{name: "any case", raw: "$SeLeCt=DISPLAYNAME", allowed: odata.Entity, want: odata.Query{Select: []string{"displayName"}}},
		{name: "non-OData parameters ignored", raw: "foo=bar&api-version=1&selectx=1", allowed: odata.None},
		{name: "list options", raw: "$search=%22displayName%3Aa%22&$filter=x&$orderby=y&$skiptoken=z", allowed: odata.List,
			want: odata.Query{Search: `"displayName:a"`, Filter: "x", OrderBy: "y", SkipToken: "z"}},
		// Options outside the allowed set, and unknown $-options.
		{name: "top on an entity", raw: "$top=5", allowed: odata.Entity, wantErr: notSupported("top")},
		{name: "top without dollar on an entity", raw: "top=5", allowed: odata.Entity, wantErr: notSupported("top")},
		{name: "select on none", raw: "$select=id", allowed: odata.None, wantErr: notSupported("select")},
		{name: "expand", raw: "$expand=manager", allowed: odata.List, wantErr: notSupported("expand")},
		{name: "expand without dollar", raw: "Expand=manager", allowed: odata.List, wantErr: notSupported("expand")},
		{name: "unknown dollar option", raw: "$Foo=1", allowed: odata.List, wantErr: notSupported("foo")},
		{name: "skip", raw: "$skip=1", allowed: odata.List, wantErr: notSupported("skip")},
		// Repeats.
		{name: "repeated", raw: "$select=id&$select=mail", allowed: odata.Entity, wantErr: twice("select")},
		{name: "repeated with and without dollar", raw: "$select=id&select=mail", allowed: odata.Entity, wantErr: twice("select")},
		{name: "repeated in another case", raw: "$top=1&$TOP=1", allowed: odata.List, wantErr: twice("top")},
		// Length and syntax.
		{name: "longest", raw: "x=" + strings.Repeat("a", odata.MaxQueryLength-2), allowed: odata.List},
		{name: "too long", raw: "x=" + strings.Repeat("a", odata.MaxQueryLength-1), allowed: odata.List, wantErr: bad("The query string is too long.")},
		{name: "bad escape", raw: "$select=%zz", allowed: odata.Entity, wantErr: bad("The query string is malformed.")},
		{name: "semicolon", raw: "$top=1;$count=true", allowed: odata.List, wantErr: bad("The query string is malformed.")},
		{name: "semicolon after parentheses", raw: "$expand=manager($levels=1);$count=true", allowed: odata.User, wantErr: bad("The query string is malformed.")},
		{name: "semicolon in a non-OData parameter", raw: "a=1;b=2", allowed: odata.User, wantErr: bad("The query string is malformed.")},
		{name: "count on one user", raw: "$count=true&$select=id", allowed: odata.User, want: odata.Query{Select: []string{"id"}, Count: true}},
		{name: "expand on a manager", raw: "$expand=manager", allowed: odata.Entity, wantErr: notSupported("expand")},
		// $select.
		{name: "empty select", raw: "$select=", allowed: odata.Entity},
		{name: "select duplicates", raw: "$select=mail,Mail,id", allowed: odata.Entity, want: odata.Query{Select: []string{"mail", "id"}}},
		{name: "select empty name", raw: "$select=id,,mail", allowed: odata.Entity, wantErr: bad("$select has an empty property name.")},
		{name: "select unknown", raw: "$select=id,foo", allowed: odata.Entity, wantErr: bad("Could not find a property named 'foo' on type 'microsoft.graph.user'.")},
		{name: "select unknown, not echoed", raw: "$select=a%3Cb", allowed: odata.Entity, wantErr: bad("Could not find a property named '(invalid name)' on type 'microsoft.graph.user'.")},
		{name: "select unserved", raw: "$select=userType,displayName,UserType", allowed: odata.Entity,
			want: odata.Query{Select: []string{"displayName"}, Unserved: []string{"userType"}}},
		{name: "select only unserved", raw: "$select=usertype,mailNickname", allowed: odata.Entity,
			want: odata.Query{Select: []string{"id"}, Unserved: []string{"userType", "mailNickname"}}},
		{name: "select unserved and unknown", raw: "$select=userType,foo", allowed: odata.Entity,
			wantErr: bad("Could not find a property named 'foo' on type 'microsoft.graph.user'.")},
		{name: "select unserved and empty name", raw: "$select=userType,,id", allowed: odata.Entity,
			wantErr: bad("Could not find a property named 'userType' on type 'microsoft.graph.user'.")},
		// $top.
		{name: "top 1", raw: "$top=1", allowed: odata.List, want: odata.Query{Top: 1}},
		{name: "top 999", raw: "$top=999", allowed: odata.List, want: odata.Query{Top: 999}},
		{name: "top 0", raw: "$top=0", allowed: odata.List, wantErr: pageSize(0)},
		{name: "top 1000", raw: "$top=1000", allowed: odata.List, wantErr: pageSize(1000)},
		{name: "top negative", raw: "$top=-1", allowed: odata.List, wantErr: errTop},
		{name: "top empty", raw: "$top=", allowed: odata.List, wantErr: errTop},
		{name: "top text", raw: "$top=ten", allowed: odata.List, wantErr: errTop},
		{name: "top fraction", raw: "$top=1.5", allowed: odata.List, wantErr: errTop},
		// $count.
		{name: "count true", raw: "$count=true", allowed: odata.List, want: odata.Query{Count: true}},
		{name: "count TRUE", raw: "$count=TRUE", allowed: odata.List, want: odata.Query{Count: true}},
		{name: "count false", raw: "$count=False", allowed: odata.List},
		{name: "count yes", raw: "$count=yes", allowed: odata.List, wantErr: errCount},
		{name: "count empty", raw: "$count=", allowed: odata.List, wantErr: errCount},
		// Checks run in order: $select, $top, $count.
		{name: "select before top", raw: "$top=0&$select=foo", allowed: odata.List,
			wantErr: bad("Could not find a property named 'foo' on type 'microsoft.graph.user'.")},
		{name: "top before count", raw: "$count=yes&$top=0", allowed: odata.List, wantErr: pageSize(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := odata.Parse(tc.raw, tc.allowed)
			checkErr(t, err, tc.wantErr)
			if got := exported(got); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOptionSets(t *testing.T) {
	if odata.None != 0 || odata.Entity != odata.OptSelect {
		t.Errorf("None = %b, Entity = %b", odata.None, odata.Entity)
	}
	all := odata.OptSelect | odata.OptSearch | odata.OptFilter | odata.OptOrderBy | odata.OptTop | odata.OptCount | odata.OptSkipToken
	if odata.List != all {
		t.Errorf("List = %b, want %b", odata.List, all)
	}
}

func TestRawSelect(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"$select=", ""},
		{"select=Mail,userType", "Mail,userType"},
		{"$select=" + url.QueryEscape(" id , mail"), " id , mail"},
	}
	for _, tc := range tests {
		q, err := odata.Parse(tc.raw, odata.Entity)
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		if got := q.RawSelect(); got != tc.want {
			t.Errorf("%q: RawSelect %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name, raw, skipToken, want string
	}{
		{"nothing", "", "", ""},
		{"skiptoken only", "", "a b&c", "$skiptoken=a+b%26c"},
		{"sorted, with dollar, lower case", "TOP=5&$Select=mail,id&x=1", "", "$select=mail%2Cid&$top=5"},
		{"skiptoken replaced", "$skiptoken=old&$count=true", "new", "$count=true&$skiptoken=new"},
		{"skiptoken dropped", "$skiptoken=old&$count=true", "", "$count=true"},
		{"values escaped", "$filter=" + url.QueryEscape("a eq 'b&c'"), "", "$filter=a+eq+%27b%26c%27"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := odata.Parse(tc.raw, odata.List)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Encode(tc.skipToken); got != tc.want {
				t.Fatalf("Encode(%q) = %q, want %q", tc.skipToken, got, tc.want)
			}
		})
	}
}

// TestParseKeepsUnservedOnLaterErrors: a $select naming unserved properties still reports
// them when $top or $count then fails, so the 400 says what was withheld.
func TestParseKeepsUnservedOnLaterErrors(t *testing.T) {
	for _, raw := range []string{"$select=userType&$top=1000", "$select=displayName,userType&$count=yes"} {
		q, err := odata.Parse(raw, odata.List)
		if err == nil {
			t.Fatalf("%s: no error", raw)
		}
		if len(q.Unserved) != 1 || q.Unserved[0] != "userType" {
			t.Errorf("%s: Unserved = %v, want [userType]", raw, q.Unserved)
		}
	}
}
