package odata_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/odata"
)

// toolkitProps is the $select of Microsoft Graph Toolkit's person card, inside and
// outside its $expand (packages/mgt-components/src/components/mgt-person-card/
// mgt-person-card.graph.ts of microsoftgraph/microsoft-graph-toolkit).
const toolkitProps = "businessPhones,companyName,department,displayName,givenName,jobTitle,mail,mobilePhone,officeLocation,preferredLanguage,surname,userPrincipalName,id,accountEnabled"

func TestParseExpand(t *testing.T) {
	props := []string{"businessPhones", "companyName", "department", "displayName", "givenName", "jobTitle", "mail",
		"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id", "accountEnabled"}
	tests := []struct {
		name    string
		raw     string // the query string, unescaped as the Toolkit sends it
		want    *odata.Expand
		wantErr string
	}{
		{name: "toolkit person card", raw: "$expand=manager($levels=max;$select=" + toolkitProps + ")&$select=" + toolkitProps + "&$count=true",
			want: &odata.Expand{Select: props, Levels: odata.MaxLevels, LevelsGiven: true}},
		{name: "escaped", raw: "$expand=" + url.QueryEscape("manager($levels=max;$select=id)"), want: &odata.Expand{Select: []string{"id"}, Levels: odata.MaxLevels, LevelsGiven: true}},
		{name: "immediate manager", raw: "$expand=manager", want: &odata.Expand{Levels: 1}},
		{name: "select only", raw: "$expand=Manager($select=displayName)", want: &odata.Expand{Select: []string{"displayName"}, Levels: 1}},
		{name: "levels n, no dollars, spaces", raw: "expand= manager ( levels = 3 ; select=id )", want: &odata.Expand{Select: []string{"id"}, Levels: 3, LevelsGiven: true}},
		{name: "levels MAX", raw: "$expand=manager($levels=MAX)", want: &odata.Expand{Levels: odata.MaxLevels, LevelsGiven: true}},
		{name: "levels 1000", raw: "$expand=manager($levels=1000)", want: &odata.Expand{Levels: 1000, LevelsGiven: true}},
		{name: "unserved in nested select", raw: "$expand=manager($select=userType,displayName)", want: &odata.Expand{Select: []string{"displayName"}, Unserved: []string{"userType"}, Levels: 1}},
		{name: "blank", raw: "$expand=%20", want: nil},

		{name: "levels 0", raw: "$expand=manager($levels=0)", wantErr: "The value of $levels must be max or a number between 1 and 1000."},
		{name: "levels 1001", raw: "$expand=manager($levels=1001)", wantErr: "The value of $levels must be max or a number between 1 and 1000."},
		{name: "levels word", raw: "$expand=manager($levels=all)", wantErr: "The value of $levels must be max"},
		{name: "levels twice", raw: "$expand=manager($levels=1;$levels=2)", wantErr: "$levels is given more than once inside $expand=manager(...)."},
		{name: "nested filter", raw: "$expand=manager($filter=x)", wantErr: "Only $select and $levels may be given inside $expand=manager(...), each as name=value."},
		{name: "nested expand", raw: "$expand=manager($expand=manager)", wantErr: "Only $select and $levels may be given"},
		{name: "empty options", raw: "$expand=manager()", wantErr: "Only $select and $levels may be given"},
		{name: "unclosed", raw: "$expand=manager($levels=1", wantErr: "The options of $expand=manager(...) have no closing parenthesis."},
		{name: "unknown nested property", raw: "$expand=manager($select=salary)", wantErr: "Could not find a property named 'salary' on type 'microsoft.graph.user'."},
		{name: "directReports", raw: "$expand=directReports", wantErr: "graphgate expands only manager, on /me and /users/{id}; it does not expand 'directReports'."},
		{name: "odd name not echoed", raw: "$expand=" + url.QueryEscape("x@y.example"), wantErr: "it does not expand '(invalid name)'."},
		{name: "two navigations", raw: "$expand=manager,directReports", wantErr: "The result of parsing $expand contained at least 2 items, but the maximum allowed is 1."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := odata.Parse(tc.raw, odata.User)
			if tc.wantErr != "" {
				e, ok := err.(*odata.Error)
				if !ok || e.Code != odata.CodeBadRequest || !strings.Contains(e.Message, tc.wantErr) {
					t.Fatalf("Parse(%q) = %+v, %v; want error %q", tc.raw, q.Expand, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.raw, err)
			}
			if got := exportedExpand(q.Expand); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Expand = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// exportedExpand returns e's exported fields only.
func exportedExpand(e *odata.Expand) *odata.Expand {
	if e == nil {
		return nil
	}
	return &odata.Expand{Select: e.Select, Unserved: e.Unserved, Levels: e.Levels, LevelsGiven: e.LevelsGiven}
}

func TestExpandQueryAndForUser(t *testing.T) {
	q, err := odata.Parse("$expand=manager($levels=2;$select=displayName,userType)&$select=id", odata.User)
	if err != nil {
		t.Fatal(err)
	}
	mq := q.Expand.Query()
	if mq.RawSelect() != "displayName,userType" || !reflect.DeepEqual(mq.Select, []string{"displayName"}) ||
		!reflect.DeepEqual(mq.Unserved, []string{"userType"}) || q.RawSelect() != "id" {
		t.Errorf("managers' query: %q %v %v", mq.RawSelect(), mq.Select, mq.Unserved)
	}
	tests := []struct {
		name     string
		raw      string
		eventual bool
		wantErr  bool
	}{
		{"levels without eventual", "$expand=manager($levels=max)", false, true},
		{"levels with eventual", "$expand=manager($levels=max)", true, false},
		{"no levels needs no header", "$expand=manager($select=id)", false, false},
		{"no expand", "$select=id", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := odata.Parse(tc.raw, odata.User)
			if err != nil {
				t.Fatal(err)
			}
			err = q.ForUser(tc.eventual)
			if e, ok := err.(*odata.Error); tc.wantErr != (err != nil) || (err != nil && (!ok || e.Code != odata.CodeUnsupportedQuery)) {
				t.Fatalf("ForUser(%t) = %v", tc.eventual, err)
			}
		})
	}
}
