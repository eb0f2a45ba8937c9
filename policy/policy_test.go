package policy

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestParseGolden parses every testdata/*.yaml and compares a dump of the policy (or of
// the error) with testdata/*.golden.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := dumpParse(filepath.Base(file), data)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./policy/ -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// dumpParse renders the result of parsing data: the error, or the clients, their
// default decisions for every operation and the upstream field set.
func dumpParse(name string, data []byte) string {
	p, err := ParseNamed(name, data)
	if err != nil {
		var perr *Error
		if !errors.As(err, &perr) {
			return fmt.Sprintf("unexpected error type %T: %v\n", err, err)
		}
		return fmt.Sprintf("error (%d problems):\n%s\n", len(perr.Problems), err)
	}
	var b strings.Builder
	for _, c := range p.Clients() {
		fmt.Fprintf(&b, "client %s\n  app_id: %s\n  purpose: %s\n", c.Name, c.AppID, c.Purpose)
		fmt.Fprintf(&b, "  operations: %v\n  self: %v\n  others: %v\n", c.Operations, c.SelfFields, c.OtherFields)
		for _, op := range Operations() {
			for _, self := range []bool{true, false} {
				d := c.Decide(op, self, nil)
				if !d.Allowed {
					if self {
						fmt.Fprintf(&b, "  %-18s denied: %s\n", op, d.Reason)
					}
					continue
				}
				fmt.Fprintf(&b, "  %-18s self=%-5t fields=%v withheld=%v\n", op, self, d.Fields, d.Withheld)
			}
		}
	}
	fmt.Fprintf(&b, "upstream: %v\n", p.UpstreamFields())
	return b.String()
}

const testPolicy = `
clients:
  - app_id: 11111111-2222-3333-4444-555555555555
    name: chat-web
    purpose: Chat.
    operations: [me.read, users.read, users.list]
    fields:
      self: [displayName, mail, mobilePhone, surname]
      others: [displayName, jobTitle, mail, userPrincipalName, department, businessPhones, createdDateTime]
`

func testClient(t testing.TB) *Client {
	t.Helper()
	p, err := Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.Client("11111111-2222-3333-4444-555555555555")
	if !ok {
		t.Fatal("test client not found")
	}
	return c
}

func TestClientLookup(t *testing.T) {
	p, err := Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want bool
	}{
		{"11111111-2222-3333-4444-555555555555", true},
		{"11111111-2222-3333-4444-555555555555 ", true},
		{"11111111-2222-3333-4444-55555555555A", false},
		{"", false},
		{"chat-web", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if _, ok := p.Client(tt.id); ok != tt.want {
				t.Errorf("Client(%q) found = %t, want %t", tt.id, ok, tt.want)
			}
		})
	}
	upper, ok := p.Client("AAAAAAAA-0000-0000-0000-000000000000")
	if ok || upper != nil {
		t.Errorf("unknown app found")
	}
	if d := p.Decide("AAAAAAAA-0000-0000-0000-000000000000", OpMeRead, true, nil); d.Allowed || len(d.Fields) != 0 {
		t.Errorf("unknown app allowed: %+v", d)
	}
}

func TestDecide(t *testing.T) {
	c := testClient(t)
	tests := []struct {
		name      string
		op        Operation
		self      bool
		requested []string
		want      Decision
	}{
		{"operation not granted", OpPresenceRead, false, nil, Decision{
			Reason: `client "chat-web" may not use operation "presence.read"`}},
		{"unknown operation", Operation("users.delete"), true, nil, Decision{
			Reason: `client "chat-web" may not use operation "users.delete"`}},
		{"self default set", OpMeRead, true, nil, Decision{Allowed: true,
			Fields:   []string{"displayName", "id", "mail", "mobilePhone", "surname"},
			Withheld: []string{"businessPhones", "givenName", "jobTitle", "officeLocation", "preferredLanguage", "userPrincipalName"}}},
		{"others default set", OpUsersRead, false, nil, Decision{Allowed: true,
			Fields:   []string{"businessPhones", "displayName", "id", "jobTitle", "mail", "userPrincipalName"},
			Withheld: []string{"givenName", "mobilePhone", "officeLocation", "preferredLanguage", "surname"}}},
		{"select any case, id added", OpUsersRead, false, []string{"DISPLAYNAME", "mobilephone"}, Decision{Allowed: true,
			Fields: []string{"displayName", "id"}, Withheld: []string{"mobilePhone"}}},
		{"internal field withheld, accountEnabled shown", OpMeRead, true, []string{"accountEnabled", "signInSessionsValidFromDateTime", "id"}, Decision{Allowed: true,
			Fields: []string{"accountEnabled", "id"}, Withheld: []string{"signInSessionsValidFromDateTime"}}},
		{"accountEnabled of others, any case", OpUsersList, false, []string{"ACCOUNTENABLED", "displayName"}, Decision{Allowed: true,
			Fields: []string{"accountEnabled", "displayName", "id"}}},
		{"unknown names withheld, not echoed raw", OpMeRead, true, []string{"salary", "x y@z"}, Decision{Allowed: true,
			Fields: []string{"id"}, Withheld: []string{"(invalid name)", "salary"}}},
		{"nothing withheld", OpUsersList, false, []string{"displayName"}, Decision{Allowed: true,
			Fields: []string{"displayName", "id"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Decide(tt.op, tt.self, tt.requested)
			if tt.want.Reason == "" {
				got.Reason = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	var nilClient *Client
	if nilClient.Allows(OpMeRead) || nilClient.Decide(OpMeRead, true, nil).Allowed {
		t.Error("nil client allowed")
	}
	if d := c.Decide(OpUsersRead, false, nil); !strings.Contains(d.Reason, `"chat-web"`) || !strings.Contains(d.Reason, "withheld") {
		t.Errorf("reason %q does not explain", d.Reason)
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		raw     string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"displayName", []string{"displayName"}, ""},
		{" DisplayName , mail,MAIL ,id", []string{"displayName", "mail", "id"}, ""},
		{"userprincipalname,businessphones", []string{"userPrincipalName", "businessPhones"}, ""},
		{"displayName,salary", nil, "Could not find a property named 'salary' on type 'microsoft.graph.user'."},
		{"displayName,,mail", nil, "empty property name"},
		{"manager/displayName", nil, "Could not find a property named '(invalid name)'"},
		{"*", nil, "Could not find a property named '(invalid name)'"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseSelect(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidQuery) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSelect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestUpstreamFields(t *testing.T) {
	p, err := Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"accountEnabled", "businessPhones", "createdDateTime", "department", "displayName", "id", "jobTitle",
		"mail", "mobilePhone", "signInSessionsValidFromDateTime", "surname", "userPrincipalName"}
	if got := p.UpstreamFields(); !reflect.DeepEqual(got, want) {
		t.Errorf("UpstreamFields = %v\nwant %v", got, want)
	}
	p.UpstreamFields()[0] = "changed"
	if p.UpstreamFields()[0] != "accountEnabled" {
		t.Error("UpstreamFields shares its slice")
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := ParseNamed("conf/policy.yaml", []byte("clients:\n  - name: x\n    colour: red\n"))
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if !strings.Contains(err.Error(), `conf/policy.yaml:3:5: client "x": unknown key "colour"`) {
		t.Errorf("message lacks file:line:col: %v", err)
	}
	if _, err := Parse([]byte("clients: []\n")); err != nil {
		t.Errorf("empty list: %v", err)
	}
}
