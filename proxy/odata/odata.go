// Package odata reads Microsoft Graph's OData system query options ($select, $search,
// $filter, $orderby, $top, $count, $skiptoken, $expand=manager) into a typed Query, and checks a list
// query against a client app's policy before it is sent to Graph. It knows nothing of
// HTTP frameworks: the gateway passes it the raw query string and the ConsistencyLevel
// header, and maps an *Error to a 400 response in Graph's error envelope. It is used for
// direct requests and $batch items alike.
//
// See https://learn.microsoft.com/graph/query-parameters.
package odata

import "strings"

// Options is a set of system query options a resource accepts.
type Options uint8

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
)

// optionNames names each option as Parse keys it: lower case, without "$".
var optionNames = map[string]Options{
	"select": OptSelect, "search": OptSearch, "filter": OptFilter, "orderby": OptOrderBy,
	"top": OptTop, "count": OptCount, "skiptoken": OptSkipToken, "expand": OptExpand,
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
