package odata

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
)

// MaxPeopleSearchLen is the longest People API $search text graphgate accepts, in bytes
// (its own limit: a name or an e-mail address).
const MaxPeopleSearchLen = 256

// PeopleQuery holds the validated options of a people list (GET {user}/people).
// See https://learn.microsoft.com/graph/api/user-list-people and
// https://learn.microsoft.com/graph/people-insights-overview.
type PeopleQuery struct {
	// Select lists the $select person properties in canonical casing, without
	// duplicates, in the order given; nil means every property (Graph's default).
	Select []string
	// Search is the decoded $search text, its surrounding double quotes removed and
	// spaces trimmed ("" for no search).
	Search string
	// Top is the page size: $top, or spec.DefaultPeopleTop.
	Top int
	// Skip is $skip: how many people to pass over.
	Skip int
	// OrganizationUsers reports whether the $filter (if any) keeps people of type
	// Person/OrganizationUser, the only kind graphgate serves; when false the answer
	// is an empty list.
	OrganizationUsers bool

	raw map[string]string
}

// ParsePeople reads the query options of a people list: $select (person properties; an
// unknown one is Graph's 400), $search ("text" or text: a name or e-mail prefix, at most
// MaxPeopleSearchLen bytes, without '"', '\' or control characters), $filter (see
// peopleFilter), $top (≥ 1; above spec.MaxPeopleTop it counts as that) and $skip (≥ 0). Other OData options are a
// 400, and so is any option given twice. Errors are *Error and repeat no search text or
// filter value.
func ParsePeople(rawQuery string) (PeopleQuery, error) {
	raw, err := readOptions(rawQuery, People)
	if err != nil {
		return PeopleQuery{}, err
	}
	q := PeopleQuery{raw: raw, Top: spec.DefaultPeopleTop, OrganizationUsers: true}
	if v, ok := raw["select"]; ok {
		if q.Select, err = parsePersonSelect(v); err != nil {
			return PeopleQuery{}, err
		}
	}
	if v, ok := raw["search"]; ok {
		if q.Search, err = peopleSearchText(v); err != nil {
			return PeopleQuery{}, err
		}
	}
	if v, ok := raw["filter"]; ok && strings.TrimSpace(v) != "" {
		if q.OrganizationUsers, err = peopleFilter(v); err != nil {
			return PeopleQuery{}, err
		}
	}
	if v, ok := raw["top"]; ok {
		n, ok := wholeNumber(v)
		if !ok || n < 1 {
			return PeopleQuery{}, badRequest("Invalid value for the $top query option: want a positive integer.")
		}
		q.Top = min(n, spec.MaxPeopleTop) // the People API answers at most that many
	}
	if v, ok := raw["skip"]; ok {
		n, ok := wholeNumber(v)
		if !ok {
			return PeopleQuery{}, badRequest("Invalid value for the $skip query option: want a non-negative integer.")
		}
		q.Skip = n
	}
	return q, nil
}

// wholeNumber reads a non-negative integer of decimal digits; one too large for an int
// counts as the largest int (a count that large means "all" or "past the end").
func wholeNumber(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	switch {
	case err == nil:
		return n, n >= 0
	case errors.Is(err, strconv.ErrRange) && strings.Trim(v, "0123456789") == "":
		return math.MaxInt, true
	}
	return 0, false
}

// parsePersonSelect parses a $select of person properties.
func parsePersonSelect(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(v, ",") {
		name := strings.TrimSpace(part)
		if name == "" {
			return nil, badRequest("$select has an empty property name.")
		}
		p, ok := spec.PersonProperty(name)
		if !ok {
			return nil, badRequest("Could not find a property named '" + policy.SafeIdent(name) + "' on type 'microsoft.graph.person'.")
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// peopleSearchText reads a People API $search value: one text, optionally in double
// quotes ("tyler lee" needs them for the space), as the People API documents it.
func peopleSearchText(v string) (string, error) {
	s := strings.TrimSpace(v)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	switch {
	case s == "":
		return "", badRequest("Invalid $search: the search text is empty.")
	case len(s) > MaxPeopleSearchLen:
		return "", badRequest(fmt.Sprintf("Invalid $search: the search text is longer than %d bytes.", MaxPeopleSearchLen))
	case strings.ContainsAny(s, "\"\\"):
		return "", badRequest("Invalid $search: a people search is one text, without '\"' or '\\' inside it.")
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", badRequest("Invalid $search: the search text holds a control character.")
	}
	return s, nil
}

// RawSelect returns the raw $select text ("" if absent): with the client app, it
// determines the policy decision, which the gateway memoises under it.
func (q PeopleQuery) RawSelect() string { return q.raw["select"] }

// Encode re-serialises the validated options with $skip and $top set, sorted by name:
// the query of a people list's @odata.nextLink. (Graph's own nextLink for people says
// $skip=0 when the request had no $top, which loops a client that follows it:
// microsoftgraph/msgraph-sdk-javascript#1656; graphgate always writes both.)
func (q PeopleQuery) Encode(skip int) string {
	opts := map[string]string{}
	for k, v := range q.raw {
		opts[k] = v
	}
	opts["skip"], opts["top"] = strconv.Itoa(skip), strconv.Itoa(q.Top)
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("$" + k + "=" + url.QueryEscape(opts[k]))
	}
	return b.String()
}
