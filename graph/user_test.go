package graph_test

import (
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

func TestUserAccessors(t *testing.T) {
	validFrom := time.Date(2025, 3, 4, 5, 6, 7, 890000000, time.UTC)
	for _, tc := range []struct {
		name        string
		u           graph.User
		id, display string
		enabled     bool
		from        time.Time
		hasFrom     bool
	}{
		{name: "nil record", u: nil},
		{name: "empty record", u: graph.User{}},
		{
			name: "full record",
			u: graph.User{"id": "11111111-2222-3333-4444-555555555555", "displayName": "Adele Vance",
				"accountEnabled": true, "signInSessionsValidFromDateTime": "2025-03-04T05:06:07.89Z"},
			id: "11111111-2222-3333-4444-555555555555", display: "Adele Vance",
			enabled: true, from: validFrom, hasFrom: true,
		},
		{name: "disabled", u: graph.User{"accountEnabled": false}},
		{name: "requested but null", u: graph.User{"id": nil, "displayName": nil, "accountEnabled": nil, "signInSessionsValidFromDateTime": nil}},
		{name: "wrong types", u: graph.User{"id": 7, "displayName": []any{"x"}, "accountEnabled": "true", "signInSessionsValidFromDateTime": 1.5}},
		{
			name: "whole seconds with offset", u: graph.User{"signInSessionsValidFromDateTime": "2025-03-04T07:06:07+02:00"},
			from: validFrom.Truncate(time.Second), hasFrom: true,
		},
		{name: "unparsable time", u: graph.User{"signInSessionsValidFromDateTime": "yesterday"}},
		{name: "empty time", u: graph.User{"signInSessionsValidFromDateTime": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.u.ID(); got != tc.id {
				t.Errorf("ID() = %q, want %q", got, tc.id)
			}
			if got := tc.u.DisplayName(); got != tc.display {
				t.Errorf("DisplayName() = %q, want %q", got, tc.display)
			}
			if got := tc.u.AccountEnabled(); got != tc.enabled {
				t.Errorf("AccountEnabled() = %v, want %v", got, tc.enabled)
			}
			from, ok := tc.u.SignInSessionsValidFrom()
			if ok != tc.hasFrom || !from.Equal(tc.from) {
				t.Errorf("SignInSessionsValidFrom() = %v, %v; want %v, %v", from, ok, tc.from, tc.hasFrom)
			}
		})
	}
}

// TestUserAccessorsFromGraph reads the accessors' fields from Graph (the emulator) and
// compares them with the directory.
func TestUserAccessorsFromGraph(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	fields := []string{"id", "displayName", "accountEnabled", "signInSessionsValidFromDateTime"}
	for _, tc := range []struct {
		name string
		pred func(emulator.User) bool
	}{
		{"enabled", enabled},
		{"disabled", func(u emulator.User) bool { return !u.AccountEnabled }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := v.user(t, tc.pred)
			u, err := c.User(ctxT(t), want.ID, fields)
			if err != nil {
				t.Fatal(err)
			}
			if u.ID() != want.ID || u.DisplayName() != want.DisplayName || u.AccountEnabled() != want.AccountEnabled {
				t.Errorf("accessors = %q, %q, %v; want %q, %q, %v", u.ID(), u.DisplayName(), u.AccountEnabled(),
					want.ID, want.DisplayName, want.AccountEnabled)
			}
			from, ok := u.SignInSessionsValidFrom()
			if !ok || !from.Equal(want.SignInSessionsValidFromDateTime.Truncate(time.Second)) {
				t.Errorf("SignInSessionsValidFrom() = %v, %v; want %v", from, ok, want.SignInSessionsValidFromDateTime)
			}
		})
	}
}
