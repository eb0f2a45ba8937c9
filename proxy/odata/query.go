package odata

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/graphgate/graphgate/policy"
)

// Limits on query options.
const (
	// MaxQueryLength is the longest raw query string Parse accepts, in bytes.
	MaxQueryLength = 4096
	// MaxTop is the largest $top Graph accepts on users.
	MaxTop = 999
)

// Query holds a request's validated OData system query options.
type Query struct {
	// Select lists the $select properties in canonical casing, without duplicates, in
	// the order given; nil means Graph's default property set.
	Select []string
	// Search, Filter and OrderBy are the raw option values, checked by ForList.
	Search, Filter, OrderBy string
	// Top is the page size, 1..MaxTop, or 0 if not given.
	Top int
	// Count reports whether the caller asked for @odata.count.
	Count bool
	// SkipToken is the raw $skiptoken, Graph's opaque paging token.
	SkipToken string
	// Unserved lists the Graph user properties graphgate never serves that $select
	// named, once each in canonical casing: they are withheld, not refused.
	Unserved []string
	// Expand is the validated $expand=manager(...), or nil.
	Expand *Expand

	raw map[string]string // option name (lower case, without "$") -> raw value
}

// RawSelect returns the raw $select text ("" if absent): with the client app and the
// operation, it determines the policy decision, which the gateway memoises under it.
func (q Query) RawSelect() string { return q.raw["select"] }

// Parse reads the system query options of rawQuery (a URL's encoded query, without "?"),
// accepting them with or without "$" and in any case, as Graph does. Parameters that are
// not OData options are ignored. It returns an *Error (CodeBadRequest) for a query
// longer than MaxQueryLength or malformed, an option outside allowed, an option given
// twice, an unknown $select property, an $expand other than manager (see Expand), a $top
// outside 1..MaxTop or a $count other than true or false. $search, $filter and $orderby are checked later, by ForList. When
// $select parsed but $top or $count did not, the returned Query still holds Unserved,
// so the answer can say which properties were withheld, as for any other 400.
func Parse(rawQuery string, allowed Options) (Query, error) {
	raw, err := readOptions(rawQuery, allowed)
	if err != nil {
		return Query{}, err
	}
	q := Query{raw: raw, Search: raw["search"], Filter: raw["filter"], OrderBy: raw["orderby"], SkipToken: raw["skiptoken"]}
	if v, ok := raw["select"]; ok {
		if q.Select, q.Unserved, err = parseSelect(v); err != nil {
			return Query{}, err
		}
	}
	if v, ok := raw["expand"]; ok {
		if q.Expand, err = parseExpand(v); err != nil {
			return Query{Unserved: q.Unserved}, err
		}
	}
	if v, ok := raw["top"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Query{Unserved: q.Unserved}, badRequest("Invalid value for the $top query option found. The $top query option requires a non-negative integer value.")
		}
		if n < 1 || n > MaxTop {
			// Graph's answer for a page size out of range on directory collections (the
			// emulator's parseTop cites it).
			return Query{Unserved: q.Unserved}, &Error{Code: CodeUnsupportedQuery,
				Message: "Invalid page size specified: '" + strconv.Itoa(n) + "'. Must be between 1 and 999 inclusive."}
		}
		q.Top = n
	}
	if v, ok := raw["count"]; ok {
		switch strings.ToLower(v) {
		case "true":
			q.Count = true
		case "false":
		default:
			return Query{Unserved: q.Unserved}, badRequest("Invalid value for '$count': expected true or false.")
		}
	}
	return q, nil
}

// readOptions returns the allowed options of rawQuery by key (lower case, without "$").
// Parameters are read in sorted order, so that a query with several faults always gets
// the same error.
func readOptions(rawQuery string, allowed Options) (map[string]string, error) {
	if len(rawQuery) > MaxQueryLength {
		return nil, badRequest("The query string is too long.")
	}
	values, err := parseValues(rawQuery)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	raw := map[string]string{}
	for _, name := range names {
		key := strings.ToLower(strings.TrimPrefix(name, "$"))
		if !allowed.allows(key) {
			if strings.HasPrefix(name, "$") || isODataOption(key) {
				return nil, badRequest(fmt.Sprintf("Query option '$%s' is not supported on this resource.", key))
			}
			continue // non-OData parameters are ignored, as Graph does
		}
		if _, dup := raw[key]; dup || len(values[name]) != 1 {
			return nil, badRequest(fmt.Sprintf("Query option '$%s' was specified more than once, it must be specified at most once.", key))
		}
		raw[key] = values[name][0]
	}
	return raw, nil
}

// errMalformedQuery refuses a query string that is not one.
var errMalformedQuery = badRequest("The query string is malformed.")

// parseValues splits a query string into its parameters as url.ParseQuery does, except
// that a ';' may stand inside parentheses, where OData separates the options of an
// expanded navigation ("$expand=manager($levels=max;$select=id)"): Microsoft Graph
// Toolkit sends that unescaped. A ';' elsewhere, which url.ParseQuery refuses as an old
// parameter separator, stays malformed.
func parseValues(rawQuery string) (url.Values, error) {
	values := url.Values{}
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		depth := 0
		for _, c := range []byte(part) {
			switch {
			case c == '(':
				depth++
			case c == ')' && depth > 0:
				depth--
			case c == ';' && depth == 0:
				return nil, errMalformedQuery
			}
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, errMalformedQuery
		}
		values[key] = append(values[key], val)
	}
	return values, nil
}

// parseSelect parses a $select value into the properties graphgate serves and those it
// never serves (withheld); any other unknown property is an error.
func parseSelect(v string) ([]string, []string, error) {
	sel, err := policy.ParseSelect(v)
	if err == nil {
		return sel, nil, nil
	}
	// Graph properties graphgate does not serve are withheld, not refused; only a
	// $select naming one needs the second pass.
	kept, unserved := splitUnserved(v)
	if len(unserved) == 0 {
		return nil, nil, badRequest(err.Error())
	}
	if sel, err = policy.ParseSelect(kept); err != nil {
		return nil, nil, badRequest(err.Error())
	}
	return sel, unserved, nil
}

// Encode re-serialises the validated options, sorted by name and each with "$", with
// $skiptoken set to skipToken (left out if empty): the query of an @odata.nextLink.
// Parameters that are not OData options are not kept.
func (q Query) Encode(skipToken string) string {
	keys := make([]string, 0, len(q.raw))
	for k := range q.raw {
		if k != "skiptoken" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString("$" + k + "=" + url.QueryEscape(q.raw[k]))
	}
	if skipToken != "" {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString("$skiptoken=" + url.QueryEscape(skipToken))
	}
	return b.String()
}
