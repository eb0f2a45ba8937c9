package proxy

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
)

// odataQuery holds a request's validated OData system query options.
type odataQuery struct {
	Select    []string // nil: Graph's default property set
	Search    string
	Filter    string
	OrderBy   string
	Top       int
	Count     bool
	SkipToken string
	raw       map[string]string // option name (without "$", lower case) -> raw value
}

// Query options by route kind.
var (
	optsEntity = []string{"select"}
	optsList   = []string{"select", "search", "filter", "orderby", "top", "count", "skiptoken"}
	optsNone   = []string{}
)

const maxQueryLength = 4096

// parseQuery reads the OData options of the request, accepting them with or without "$"
// and in any case, as Graph does. Options outside allowed, repeated options and malformed
// values are 400s; nothing is passed upstream unparsed.
func parseQuery(c *gin.Context, allowed []string) (odataQuery, error) {
	q := odataQuery{raw: map[string]string{}}
	if len(c.Request.URL.RawQuery) > maxQueryLength {
		return q, errBadRequest("The query string is too long.")
	}
	values, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return q, errBadRequest("The query string is malformed.")
	}
	for name, vs := range values {
		key := strings.ToLower(strings.TrimPrefix(name, "$"))
		if !contains(allowed, key) {
			if strings.HasPrefix(name, "$") || isODataOption(key) {
				return q, errBadRequest(fmt.Sprintf("Query option '$%s' is not supported on this resource.", key))
			}
			continue // non-OData parameters are ignored, as Graph does
		}
		if _, dup := q.raw[key]; dup || len(vs) != 1 {
			return q, errBadRequest(fmt.Sprintf("Query option '$%s' was specified more than once, it must be specified at most once.", key))
		}
		q.raw[key] = vs[0]
	}
	if v, ok := q.raw["select"]; ok {
		if q.Select, err = policy.ParseSelect(v); err != nil {
			// Graph properties graphgate does not serve are withheld, not refused; only a
			// $select naming one needs the second pass.
			kept, unserved := splitUnserved(v)
			if len(unserved) == 0 {
				return q, errBadRequest(err.Error())
			}
			if q.Select, err = policy.ParseSelect(kept); err != nil {
				return q, errBadRequest(err.Error())
			}
			noteWithheld(c, unserved)
		}
	}
	q.Search, q.Filter, q.OrderBy, q.SkipToken = q.raw["search"], q.raw["filter"], q.raw["orderby"], q.raw["skiptoken"]
	if v, ok := q.raw["top"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return q, errBadRequest("Invalid page size specified: '$top' must be between 1 and 999.")
		}
		q.Top = n
	}
	if v, ok := q.raw["count"]; ok {
		switch strings.ToLower(v) {
		case "true":
			q.Count = true
		case "false":
		default:
			return q, errBadRequest("Invalid value for '$count': expected true or false.")
		}
	}
	return q, nil
}

func isODataOption(key string) bool {
	switch key {
	case "select", "search", "filter", "orderby", "top", "count", "skiptoken", "skip", "expand", "format", "apply", "compute", "levels":
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// encode re-serialises the validated options with skiptoken replaced, for nextLink.
func (q odataQuery) encode(skipToken string) string {
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
