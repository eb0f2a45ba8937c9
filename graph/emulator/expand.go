package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// $expand on users: the emulator models the manager relationship, as "Get the
// management chain" documents it (https://learn.microsoft.com/graph/api/user-list-manager):
// "GET /users/{id | userPrincipalName}/?$expand=manager($levels=n)"; "The n value of
// $levels can be max (to return all managers) or a number between 1 and 1000"; "When the
// $levels parameter is not specified, only the immediate manager is returned"; "You can
// specify $select inside $expand to select the individual manager's properties:
// $expand=manager($levels=max;$select=id,displayName)"; "$levels parameter is only
// supported on a single user (/users/{id} or me endpoints) and not on the entire list of
// users"; "$levels requires the ConsistencyLevel header set to eventual" (the beta page;
// the v1.0 page's example also sends $count=true, which the newer text no longer asks
// for, so the emulator does not require it). The chain nests each manager as "manager"
// inside the one below it, each with "@odata.type" (manager is a directoryObject), and
// ends at the root. Deactivated managers are returned like any other: Graph does not
// filter on accountEnabled.

// errExpandFailed prefixes Graph's $select/$expand parse errors ("Parsing OData Select
// and Expand failed: Found an unbalanced bracket expression.",
// microsoftgraph/microsoft-graph-docs#8881; "...: Term '(select=ContentType)' is not valid
// in a $select or $expand expression.", microsoftgraph/microsoft-graph-docs-contrib#4025).
const errExpandFailed = "Parsing OData Select and Expand failed: "

// maxLevels is the deepest chain $levels asks for; max means to the root.
const maxLevels = 1000

// userNavigations are the user relationships Graph can expand and the emulator does not
// model (https://learn.microsoft.com/graph/api/resources/user#relationships).
var userNavigations = []string{"directreports", "memberof", "transitivememberof", "ownedobjects",
	"owneddevices", "registereddevices", "createdobjects", "approleassignments", "extensions",
	"licensedetails", "photo", "photos", "people", "presence", "oauth2permissiongrants"}

// expandQuery is a parsed $expand=manager[($levels=n;$select=...)].
type expandQuery struct {
	levels int      // managers to nest: 1 without $levels
	sel    []string // each manager's properties (id first); nil means the default set
	logged []string // the inner $select as sent, for the request log
}

// expandError is a 400 BadRequest with Graph's parse-error prefix.
func expandError(msg string) *queryError { return badRequest(errExpandFailed + msg) }

// parseExpand reads $expand on a single user (single) or a user collection. Users
// expand one navigation at a time: "The result of parsing $expand contained at least 2
// items, but the maximum allowed is 1." ("for users it is still limited to a single
// expanded navigation", microsoftgraph/microsoft-graph-docs#96).
func parseExpand(r *http.Request, single bool) (*expandQuery, *queryError) {
	raw, ok := option(r.URL.Query(), "expand")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	items, qerr := splitTop(raw, ',')
	if qerr != nil {
		return nil, qerr
	}
	if len(items) > 1 {
		return nil, badRequest("The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.")
	}
	name, opts, qerr := expandItem(items[0])
	if qerr == nil {
		qerr = checkNavigation(name)
	}
	if qerr != nil {
		return nil, qerr
	}
	x := &expandQuery{levels: 1}
	levels, qerr := x.parseOptions(opts)
	switch {
	case qerr != nil:
		return nil, qerr
	case levels && !single:
		return nil, unsupported("$levels in $expand is supported on a single user only, not on a collection of users.")
	case levels && !eventual(r):
		return nil, unsupported("Query option '$levels' is not supported because the required parameters might be missing. " +
			"Try adding ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information")
	}
	st := state(r) // the request log lists the managers' fields with the user's
	st.selects = append(st.selects, x.logged...)
	return x, nil
}

// splitTop splits s at sep outside parentheses.
func splitTop(s string, sep byte) ([]string, *queryError) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return nil, expandError("Found an unbalanced bracket expression.")
			}
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, expandError("Found an unbalanced bracket expression.")
	}
	return append(out, s[start:]), nil
}

// expandItem splits "name(options)" (balanced, from splitTop).
func expandItem(item string) (name, opts string, qerr *queryError) {
	item = strings.TrimSpace(item)
	name, opts, paren := strings.Cut(item, "(")
	name = strings.TrimSpace(name)
	if paren {
		var ok bool
		if opts, ok = strings.CutSuffix(opts, ")"); !ok {
			return "", "", expandError("Term '" + item + "' is not valid in a $select or $expand expression.")
		}
	}
	if name == "" || strings.ContainsAny(name, " ,;=") {
		return "", "", expandError("Term '" + item + "' is not valid in a $select or $expand expression.")
	}
	return name, opts, nil
}

// checkNavigation accepts manager and refuses anything else: a property that is no
// navigation (Graph: "Property 'body' on type 'microsoft.graph.message' is not a
// navigation property or complex property. Only navigation properties can be expanded.",
// Softeria/ms-365-mcp-server#595), a name the user type lacks ("Could not find a
// property named ..."), or a relationship the emulator does not model (refused so that
// a client relying on it fails here instead of passing on an ignored option; this
// message is the emulator's own).
func checkNavigation(name string) *queryError {
	lower := strings.ToLower(name)
	switch {
	case lower == "manager":
		return nil
	case userProps[lower].name != "":
		return expandError("Property '" + name + "' on type 'microsoft.graph.user' is not a navigation property or complex property. " +
			"Only navigation properties can be expanded.")
	case slices.Contains(userNavigations, lower):
		return expandError("Expanding '" + name + "' is not supported by the emulator; only 'manager' is.")
	}
	return expandError("Could not find a property named '" + name + "' on type 'microsoft.graph.user'.")
}

// parseOptions reads manager's options ($levels, $select; "$" optional as at the top
// level) and reports whether $levels was given.
func (x *expandQuery) parseOptions(opts string) (levels bool, qerr *queryError) {
	if strings.TrimSpace(opts) == "" {
		return false, nil
	}
	parts, qerr := splitTop(opts, ';')
	if qerr != nil {
		return false, qerr
	}
	for _, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return false, expandError("Term '" + part + "' is not valid in a $select or $expand expression.")
		}
		switch key := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), "$")); key {
		case "levels":
			if qerr = x.parseLevels(strings.TrimSpace(v)); qerr != nil {
				return false, qerr
			}
			levels = true
		case "select":
			sel, logged, qerr := selectList(v)
			if qerr != nil {
				return false, expandError(qerr.msg)
			}
			x.logged = logged
			if sel != nil && !slices.Contains(sel, "id") {
				sel = append([]string{"id"}, sel...)
			}
			x.sel = sel
		default:
			return false, expandError("Query option '$" + key + "' inside $expand=manager is not supported by the emulator.")
		}
	}
	return levels, nil
}

// parseLevels reads $levels: max or 1..1000. A value that is not a non-negative integer
// gets Microsoft.OData's message (OData/WebApi's $levels tests quote it); Graph's answer
// to 0 or more than 1000 is not public, so that refusal is the emulator's own wording.
func (x *expandQuery) parseLevels(v string) *queryError {
	if strings.EqualFold(v, "max") {
		x.levels = maxLevels
		return nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 0:
		return expandError("Levels option must be a non-negative integer or 'max', it is set to '" + v + "' instead.")
	case n < 1 || n > maxLevels:
		return unsupported("Invalid value '" + v + "' for $levels: it must be 'max' or a number between 1 and 1000.")
	}
	x.levels = n
	return nil
}

// apply appends u's management chain to body as "manager" (nothing when u has none);
// callers hold e.mu.
func (x *expandQuery) apply(body ordered, ts *tenantState, u *User) ordered {
	if chain := x.chain(ts, u, x.levels); chain != nil {
		body = append(body, kv{"manager", chain})
	}
	return body
}

// chain renders up to depth managers above u, each nested in the one below.
func (x *expandQuery) chain(ts *tenantState, u *User, depth int) ordered {
	m := ts.byID[u.ManagerID]
	if m == nil || depth < 1 {
		return nil
	}
	o := projectUser(m, x.sel, true)
	if up := x.chain(ts, m, depth-1); up != nil {
		o = append(o, kv{"manager", up})
	}
	return o
}
