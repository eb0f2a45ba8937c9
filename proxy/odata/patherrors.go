package odata

import (
	"net/http"
	"regexp"
)

// PathError is a request path graphgate refuses: Status and Code are Graph's answer for
// that kind of path; Message is meant for the caller and holds no key.
type PathError struct {
	Status  int
	Code    string
	Message string
}

// Error returns the code and message.
func (e *PathError) Error() string { return "odata: " + e.Code + ": " + e.Message }

// Graph's answers for paths it cannot resolve.
var (
	// errCollectionKey is Graph's answer to /users/$x: a segment after a collection that
	// starts with "$" is read as a system segment, never as a key; such a UPN must be
	// written /users('$x'). See
	// https://learn.microsoft.com/graph/api/user-get#http-request and
	// https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2635.
	errCollectionKey = &PathError{Status: http.StatusBadRequest, Code: CodeBadRequest,
		Message: "The request URI is not valid. Since the segment 'users' refers to a collection, this must be the last segment in the request URI or it must be followed by an function or action that can be bound to it otherwise all intermediate segments must refer to a single resource."}
	// errKeySyntax answers a key in parentheses that is not one OData string literal.
	errKeySyntax = &PathError{Status: http.StatusBadRequest, Code: CodeBadRequest,
		Message: "Bad Request - Error in query syntax."}
	// ErrNoSuchUser answers a key that is neither an object id nor a userPrincipalName:
	// no user can have it, so Graph answers as for an unknown user (404), and so does
	// graphgate, without asking Graph.
	ErrNoSuchUser = &PathError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: "Resource does not exist or one of its queried reference-property objects are not present."}
)

// ErrNotOffered answers a resource Microsoft Graph has but graphgate does not serve.
var ErrNotOffered = &PathError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
	Message: "This resource is not offered by this gateway."}

// notOffered is ErrNotOffered naming the segment, when it looks like a word.
func notOffered(segment string) *PathError {
	if !segmentWord.MatchString(segment) {
		return ErrNotOffered
	}
	return &PathError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: "The resource '" + segment + "' exists in Microsoft Graph but is not offered by this gateway."}
}

// noSegment is Graph's answer for a segment it does not know: 400 BadRequest, naming the
// segment as Graph does when it looks like a word; a segment that could hold personal
// data (a UPN) is not repeated.
func noSegment(segment string) *PathError {
	msg := "Resource not found for the segment."
	if segmentWord.MatchString(segment) {
		msg = "Resource not found for the segment '" + segment + "'."
	}
	return &PathError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg}
}

// segmentWord is a segment noSegment may repeat.
var segmentWord = regexp.MustCompile(`^[A-Za-z0-9._$()-]{0,64}$`)
