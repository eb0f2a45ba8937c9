package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// queryError is a 400 answer to a bad OData query option.
type queryError struct {
	code, msg string
}

func (q *queryError) Error() string { return q.msg }

func badRequest(msg string) *queryError  { return &queryError{"BadRequest", msg} }
func unsupported(msg string) *queryError { return &queryError{"Request_UnsupportedQuery", msg} }
func unknownProp(name string) *queryError {
	return badRequest("Could not find a property named '" + name + "' on type 'microsoft.graph.user'.")
}

// writeQueryError writes err in Graph's envelope.
func writeQueryError(w http.ResponseWriter, r *http.Request, err *queryError) {
	graphError(w, r, http.StatusBadRequest, err.code, err.msg)
}

// option returns a system query option, accepting "$name" and "name" in any case.
func option(q url.Values, name string) (string, bool) {
	for k, v := range q {
		if strings.EqualFold(strings.TrimPrefix(k, "$"), name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// eventual reports whether the request carries ConsistencyLevel: eventual.
func eventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

// parseSelect parses $select into canonical property names (nil when absent) and
// records the raw list in the request log.
func parseSelect(r *http.Request) ([]string, *queryError) {
	raw, ok := option(r.URL.Query(), "select")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var sel, logged []string
	seen := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, ok := userProps[strings.ToLower(f)]
		if !ok {
			return nil, unknownProp(f)
		}
		logged = append(logged, f)
		if !seen[p.name] {
			seen[p.name] = true
			sel = append(sel, p.name)
		}
	}
	state(r).selects = logged
	return sel, nil
}

// selectSuffix renders "(a,b)" for @odata.context ("" without $select).
func selectSuffix(sel []string) string {
	if sel == nil {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

// tokens splits s into lower-case words as Graph's search index does.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// searchClause is one "property:term" of $search.
type searchClause struct {
	p     prop
	terms []string
}

func (c searchClause) match(u *User) bool {
	words := tokens(c.p.str(u))
	for _, t := range c.terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseSearch parses `"prop:term" OR "prop:term" AND ...` (AND binds tighter) into a
// predicate.
func parseSearch(s string) (func(*User) bool, *queryError) {
	var groups [][]searchClause // OR of ANDs
	cur := []searchClause{}
	rest := strings.TrimSpace(s)
	expectClause := true
	for rest != "" {
		if expectClause {
			if rest[0] != '"' {
				return nil, badRequest("Syntax error: each $search clause must be a quoted \"property:value\" string.")
			}
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, badRequest("Syntax error: unterminated string in $search.")
			}
			clause := rest[1 : end+1]
			rest = strings.TrimSpace(rest[end+2:])
			name, term, ok := strings.Cut(clause, ":")
			if !ok {
				return nil, badRequest("Syntax error: $search clause '" + clause + "' must have the form \"property:value\".")
			}
			p, known := userProps[strings.ToLower(strings.TrimSpace(name))]
			switch {
			case !known:
				return nil, unknownProp(strings.TrimSpace(name))
			case !p.search:
				return nil, unsupported("Unsupported $search property '" + p.name + "'.")
			}
			cur = append(cur, searchClause{p: p, terms: tokens(term)})
			expectClause = false
			continue
		}
		op, after, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(op) {
		case "OR":
			groups, cur = append(groups, cur), []searchClause{}
		case "AND":
		default:
			return nil, badRequest("Syntax error: expected AND or OR in $search, found '" + op + "'.")
		}
		rest, expectClause = strings.TrimSpace(after), true
	}
	if expectClause {
		return nil, badRequest("Syntax error: $search is empty or ends with an operator.")
	}
	groups = append(groups, cur)
	return func(u *User) bool {
		for _, g := range groups {
			ok := true
			for _, c := range g {
				if !c.match(u) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}, nil
}
