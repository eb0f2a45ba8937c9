package odata

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/graphgate/graphgate/policy"
)

// $expand on one user, as Graph documents the management chain
// (https://learn.microsoft.com/graph/api/user-list-manager):
// "GET /users/{id | userPrincipalName}/?$expand=manager($levels=n)"; "The n value of
// $levels can be max (to return all managers) or a number between 1 and 1000"; "When
// the $levels parameter is not specified, only the immediate manager is returned"; "You
// can specify $select inside $expand to select the individual manager's properties:
// $expand=manager($levels=max;$select=id,displayName)"; "The $levels parameter is only
// supported on a single user (/users/{id} or me endpoints) and not on the entire users
// list"; "Use of $levels requires the ConsistencyLevel header set to eventual".
// graphgate expands manager only, and only on one user: other navigation properties
// and nested options are refused.
//
//	expand  = "manager" [ "(" option { ";" option } ")" ]
//	option  = ["$"] "select" "=" properties | ["$"] "levels" "=" ( "max" | 1..1000 )

// MaxLevels is the largest $levels Graph takes; $levels=max walks at most this far.
const MaxLevels = 1000

// Expand is a validated $expand=manager(...) of one user.
type Expand struct {
	// Select lists the managers' $select properties as Query.Select does: canonical
	// casing, no duplicates; nil means Graph's default property set.
	Select []string
	// Unserved lists the Graph properties graphgate never serves that the nested
	// $select named, as Query.Unserved does: withheld, not refused.
	Unserved []string
	// Levels is how many managers up the chain to show, 1..MaxLevels: 1 without
	// $levels, MaxLevels for $levels=max.
	Levels int
	// LevelsGiven reports whether $levels was given, which needs ConsistencyLevel:
	// eventual (see Query.ForUser).
	LevelsGiven bool

	rawSelect string
}

// Query returns the managers' options as a Query holding their $select only: what the
// policy decision about each manager depends on.
func (e *Expand) Query() Query {
	q := Query{Select: e.Select, Unserved: e.Unserved}
	if e.rawSelect != "" {
		q.raw = map[string]string{"select": e.rawSelect}
	}
	return q
}

// ForUser checks the options of a request about one user that depend on its
// ConsistencyLevel header (eventual, see Eventual): $levels in $expand needs it, as in
// Graph, or the error's code is CodeUnsupportedQuery.
func (q Query) ForUser(eventual bool) error {
	if q.Expand != nil && q.Expand.LevelsGiven && !eventual {
		// Graph's refusal of an advanced query option without the header, as
		// graph/emulator/expand.go answers it.
		return &Error{Code: CodeUnsupportedQuery,
			Message: "Query option '$levels' is not supported because the required parameters might be missing. " +
				"Try adding ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"}
	}
	return nil
}

// parseExpand reads a $expand value. A blank value is no $expand.
func parseExpand(v string) (*Expand, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if items := splitTop(v, ','); len(items) > 1 {
		// Graph expands one navigation of a user at a time ("for users it is still limited
		// to a single expanded navigation", microsoftgraph/microsoft-graph-docs#96).
		return nil, badRequest("The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.")
	}
	name, opts, hasOpts := strings.Cut(v, "(")
	name = strings.TrimSpace(name)
	if !strings.EqualFold(name, "manager") {
		return nil, badRequest(fmt.Sprintf("graphgate expands only manager, on /me and /users/{id}; it does not expand '%s'.", policy.SafeIdent(name)))
	}
	e := &Expand{Levels: 1}
	if !hasOpts {
		return e, nil
	}
	if !strings.HasSuffix(opts, ")") {
		return nil, badRequest("The options of $expand=manager(...) have no closing parenthesis.")
	}
	seen := map[string]bool{}
	for _, opt := range splitTop(strings.TrimSuffix(opts, ")"), ';') {
		key, val, ok := strings.Cut(opt, "=")
		key = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(key), "$"))
		if !ok || (key != "select" && key != "levels") {
			return nil, badRequest("Only $select and $levels may be given inside $expand=manager(...), each as name=value.")
		}
		if seen[key] {
			return nil, badRequest(fmt.Sprintf("$%s is given more than once inside $expand=manager(...).", key))
		}
		seen[key] = true
		if err := e.setOption(key, strings.TrimSpace(val)); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// setOption sets the nested option key (select or levels) to val.
func (e *Expand) setOption(key, val string) error {
	if key == "select" {
		sel, unserved, err := parseSelect(val)
		if err != nil {
			return err
		}
		e.Select, e.Unserved, e.rawSelect = sel, unserved, val
		return nil
	}
	e.LevelsGiven = true
	if strings.EqualFold(val, "max") {
		e.Levels = MaxLevels
		return nil
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 || n > MaxLevels {
		return badRequest(fmt.Sprintf("The value of $levels must be max or a number between 1 and %d.", MaxLevels))
	}
	e.Levels = n
	return nil
}

// splitTop splits s at every sep outside parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
