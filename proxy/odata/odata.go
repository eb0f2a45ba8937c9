// Package odata reads Microsoft Graph's OData request URLs: the resource path (ParsePath:
// entity set, user key in every spelling Graph accepts, navigation, $value, $count, casts
// and qualified functions, into a typed Target with one canonical route) and the system
// query options ($select, $search, $filter, $orderby, $top, $count, $skiptoken, $expand)
// into a typed Query, checked against a client app's policy before anything is sent to
// Graph. It knows nothing of HTTP frameworks: the gateway passes it the escaped path, the
// raw query string and the ConsistencyLevel header, and maps a *PathError (400 or 404)
// or an *Error (400) to Graph's error envelope. Direct requests and $batch items go
// through the same code.
//
// See https://learn.microsoft.com/graph/query-parameters and
// https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html.
package odata

import "strings"

// Options is a set of system query options a resource accepts.
type Options uint16

// The system query options graphgate understands.
const (
	OptSelect Options = 1 << iota
	OptSearch
	OptFilter
	OptOrderBy
	OptTop
	OptCount
	OptSkipToken
	OptExpand
	OptSkip
)

// Option sets by kind of resource.
const (
	// None accepts no system query option (e.g. presence).
	None Options = 0
	// Entity accepts $select only: a user's manager, a photo.
	Entity = OptSelect
	// User accepts the options of one user (/me, /users/{id}): $select,
	// $expand=manager (see Expand) and $count, which Microsoft Graph Toolkit's person
	// card sends there along with $expand and which has no effect on one user.
	User = OptSelect | OptExpand | OptCount
	// List accepts every option of a user collection.
	List = OptSelect | OptSearch | OptFilter | OptOrderBy | OptTop | OptCount | OptSkipToken
	// Reports accepts the options of a user's direct reports that graphgate serves:
	// $select, paging by $top and $skiptoken, and $count.
	// See https://learn.microsoft.com/graph/api/user-list-directreports.
	Reports = OptSelect | OptTop | OptCount | OptSkipToken
	// People accepts the options of a user's relevant people that graphgate serves:
	// $select, $search, $filter (on personType), $top and $skip (see ParsePeople).
	// See https://learn.microsoft.com/graph/api/user-list-people.
	People = OptSelect | OptSearch | OptFilter | OptTop | OptSkip
)

// optionNames names each option as Parse keys it: lower case, without "$".
var optionNames = map[string]Options{
	"select": OptSelect, "search": OptSearch, "filter": OptFilter, "orderby": OptOrderBy,
	"top": OptTop, "count": OptCount, "skiptoken": OptSkipToken, "expand": OptExpand, "skip": OptSkip,
}

// allows reports whether o holds the option key (lower case, without "$").
func (o Options) allows(key string) bool {
	opt, ok := optionNames[key]
	return ok && o&opt != 0
}

// isODataOption reports whether key (lower case, without "$") names an OData system
// query option, supported here or not: given without "$" it is still refused where it is
// not allowed, as Graph does, instead of being ignored.
func isODataOption(key string) bool {
	switch key {
	case "select", "search", "filter", "orderby", "top", "count", "skiptoken", "skip", "expand", "format", "apply", "compute", "levels":
		return true
	}
	return false
}

// ConsistencyLevelHeader is the request header that must be "eventual" for $search and
// $count on users (Graph's advanced queries).
// See https://learn.microsoft.com/graph/aad-advanced-queries.
const ConsistencyLevelHeader = "ConsistencyLevel"

// Eventual reports whether a ConsistencyLevel header value asks for eventual
// consistency, case-insensitively as Graph reads it.
func Eventual(consistencyLevel string) bool {
	return strings.EqualFold(consistencyLevel, "eventual")
}

// Graph's error codes for refused query options.
const (
	// CodeBadRequest refuses a malformed, unsupported or forbidden query option.
	CodeBadRequest = "BadRequest"
	// CodeUnsupportedQuery refuses $search without ConsistencyLevel: eventual and a $top
	// outside 1..999, as Graph does.
	CodeUnsupportedQuery = "Request_UnsupportedQuery"
)

// Error is a refused query option, answered with status 400 Bad Request. Code is Graph's
// error code (CodeBadRequest or CodeUnsupportedQuery); Message is meant for the caller
// and holds no literal values or search terms from the query.
type Error struct {
	Code    string
	Message string
}

// Error returns the code and message.
func (e *Error) Error() string { return "odata: " + e.Code + ": " + e.Message }

// badRequest returns a CodeBadRequest error.
func badRequest(msg string) *Error { return &Error{Code: CodeBadRequest, Message: msg} }
