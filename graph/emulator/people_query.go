package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/graphgate/graphgate/graph/spec"
)

// Query options of GET /v1.0/users/{id}/people (see people.go for what Graph documents).

// peopleQuery is a parsed query on /users/{id}/people.
type peopleQuery struct {
	sel       []string // canonical person properties; nil means all
	top       int
	hasTop    bool // $top was sent (it decides the nextLink's $skip)
	skip      int
	search    *peopleSearch // nil without $search
	directory bool          // X-PeopleQuery-QuerySources names Directory
	match     personPred    // nil without $filter
	order     int           // $orderby=displayName: 1 ascending, -1 descending, 0 none
}

// notSupported answers a query option the People API does not take. The shape is the
// one Graph gives for $skip on /users (microsoftgraph/microsoft-graph-docs#9279); it is
// assumed, not quoted, for these options on people.
func notSupported(name string) *queryError {
	return badRequest("'$" + name + "' is not supported by the service.")
}

// errPeopleOrderBy answers an $orderby other than displayName. Graph's wording is not
// documented: the message is the emulator's, the code Graph's generic BadRequest.
func errPeopleOrderBy(v string) *queryError {
	return badRequest("Sorting not supported for '" + v + "': the people API sorts by displayName only.")
}

// parsePeopleQuery validates the query options of /users/{id}/people.
func parsePeopleQuery(r *http.Request) (*peopleQuery, *queryError) {
	q := r.URL.Query()
	for _, name := range []string{"count", "expand", "skiptoken"} {
		if _, ok := option(q, name); ok {
			return nil, notSupported(name)
		}
	}
	pq := &peopleQuery{top: spec.DefaultPeopleTop}
	var qerr *queryError
	if pq.sel, qerr = parsePeopleSelect(r); qerr != nil {
		return nil, qerr
	}
	if qerr = pq.parsePaging(q); qerr != nil {
		return nil, qerr
	}
	if v, ok := option(q, "search"); ok {
		if pq.search, qerr = parsePeopleSearch(v); qerr != nil {
			return nil, qerr
		}
		pq.directory = wantsDirectory(r)
	}
	if v, ok := option(q, "filter"); ok && strings.TrimSpace(v) != "" {
		if pq.match, qerr = parsePeopleFilter(v); qerr != nil {
			return nil, qerr
		}
	}
	if v, ok := option(q, "orderby"); ok && strings.TrimSpace(v) != "" {
		if qerr = pq.parseOrderBy(v); qerr != nil {
			return nil, qerr
		}
	}
	return pq, nil
}

// parsePaging reads $top (a positive integer; above spec.MaxPeopleTop the page holds
// MaxPeopleTop) and $skip (a non-negative integer). A non-integer or negative value gets
// Microsoft.OData's message, as parseTop gives it; the answer to $top=0 is the
// emulator's wording.
func (pq *peopleQuery) parsePaging(q url.Values) *queryError {
	if v, ok := option(q, "top"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil || n < 0:
			return badRequest("Invalid value '" + v + "' for $top query option found. The $top query option requires a non-negative integer value.")
		case n == 0:
			return badRequest("Invalid value '" + v + "' for $top query option found. The people API requires a page size of at least 1.")
		}
		pq.top, pq.hasTop = min(n, spec.MaxPeopleTop), true
	}
	if v, ok := option(q, "skip"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return badRequest("Invalid value '" + v + "' for $skip query option found. The $skip query option requires a non-negative integer value.")
		}
		pq.skip = n
	}
	return nil
}

// parsePeopleSelect parses $select into canonical person properties (nil when absent)
// and records the list as sent in the request log.
func parsePeopleSelect(r *http.Request) ([]string, *queryError) {
	raw, ok := option(r.URL.Query(), "select")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var sel, logged []string
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, ok := spec.PersonProperty(f)
		if !ok {
			return nil, unknownPersonProp(f, "person")
		}
		logged = append(logged, f)
		if !slices.Contains(sel, name) {
			sel = append(sel, name)
		}
	}
	state(r).selects = logged
	return sel, nil
}

// parseOrderBy reads "displayName [asc|desc]".
func (pq *peopleQuery) parseOrderBy(v string) *queryError {
	words := strings.Fields(v)
	if len(words) > 2 || strings.Contains(v, ",") {
		return errPeopleOrderBy(v)
	}
	name, ok := spec.PersonProperty(words[0])
	switch {
	case !ok:
		return unknownPersonProp(words[0], "person")
	case name != "displayName":
		return errPeopleOrderBy(v)
	}
	pq.order = 1
	if len(words) == 2 {
		switch strings.ToLower(words[1]) {
		case "asc":
		case "desc":
			pq.order = -1
		default:
			return badRequest("Syntax error at position " + strconv.Itoa(strings.Index(v, words[1])) + " in '" + v + "'.")
		}
	}
	return nil
}

// wantsDirectory reports whether X-PeopleQuery-QuerySources (a comma-separated list, any
// case) names Directory.
func wantsDirectory(r *http.Request) bool {
	for _, v := range r.Header.Values(spec.PeopleQuerySourcesHeader) {
		for _, s := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(s), "Directory") {
				return true
			}
		}
	}
	return false
}
