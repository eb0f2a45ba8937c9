package testkit

import "strings"

// UserRecordRoutes are the emulator's request-log routes whose answers hold user records:
// a request to one of them without $select would bring back Graph's default property
// set instead of the fields some policy allows.
var UserRecordRoutes = []string{"GET /v1.0/users", "GET /v1.0/users/{id}",
	"GET /v1.0/users/{id}/manager", "GET /v1.0/users/{id}/directReports"}

// UserListRoute is the emulator's request-log route of user lists.
const UserListRoute = "GET /v1.0/users"

// EnabledOnlyFilter is the filter the gateway adds to every user list it sends to Graph.
const EnabledOnlyFilter = "accountEnabled eq true"

// ExcludesDeactivated reports whether a user-list $filter sent to Graph keeps
// deactivated accounts out: EnabledOnlyFilter alone, or and-ed with one parenthesised
// group that closes only at the end (so no "or" of the caller's can escape it).
// Parentheses inside quoted strings do not count.
func ExcludesDeactivated(filter string) bool {
	if filter == EnabledOnlyFilter {
		return true
	}
	rest, ok := strings.CutPrefix(filter, EnabledOnlyFilter+" and ")
	if !ok || !strings.HasPrefix(rest, "(") {
		return false
	}
	depth, quoted := 0, false
	for i, c := range rest {
		switch {
		case c == '\'':
			quoted = !quoted // '' inside a string toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 && i != len(rest)-1 {
				return false
			}
		}
	}
	return depth == 0 && !quoted
}
