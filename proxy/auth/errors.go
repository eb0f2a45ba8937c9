package auth

import (
	"errors"
	"net/http"
	"strings"
)

// Error codes of RFC 6750 §3.1.
const (
	// CodeInvalidRequest means the request is malformed (400).
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidToken means the token is expired, revoked, malformed or otherwise
	// invalid (401).
	CodeInvalidToken = "invalid_token"
	// CodeInsufficientScope means the token is valid but lacks the privileges the
	// request needs (403).
	CodeInsufficientScope = "insufficient_scope"
)

// Realm is the realm named in every WWW-Authenticate challenge.
const Realm = "graphgate"

// ErrKeysUnavailable is wrapped by the *Error returned when a token cannot be checked
// because its tenant's signing keys could not be fetched (a server-side problem: the
// Error's Status is 503 and it carries no RFC 6750 error code).
var ErrKeysUnavailable = errors.New("auth: signing keys unavailable")

// Error is a token or Authorization-header problem, shaped for an RFC 6750 answer.
// Description is safe to show to the client: it never holds the token or personal data.
type Error struct {
	// Code is an RFC 6750 error code, or "" when no credentials were given (the
	// challenge then carries no error attribute) or the failure is not the client's.
	Code string
	// Description is a short English sentence fragment for error_description.
	Description string
	// Status is the HTTP status to answer with: 401, 400, 403 or 503.
	Status int
	// Scope, when set on an insufficient_scope error, names the scope that is required.
	Scope string
	// Err is the underlying cause, if any (for errors.Is; never shown to the client).
	Err error
}

// Error returns a log-safe summary of the problem.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "unauthenticated"
	}
	return "auth: " + code + ": " + e.Description
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// WWWAuthenticate returns the value of the WWW-Authenticate header for this error, per
// RFC 6750 §3: `Bearer realm="graphgate"` followed, when Code is set, by error,
// error_description and (for insufficient_scope) scope attributes. Attribute values are
// reduced to the characters RFC 6750 allows (printable ASCII without `"` and `\`).
func (e *Error) WWWAuthenticate() string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + Realm + `"`)
	if e.Code == "" {
		return b.String()
	}
	b.WriteString(`, error="` + sanitizeAttr(e.Code) + `"`)
	if e.Description != "" {
		b.WriteString(`, error_description="` + sanitizeAttr(e.Description) + `"`)
	}
	if e.Scope != "" {
		b.WriteString(`, scope="` + sanitizeAttr(e.Scope) + `"`)
	}
	return b.String()
}

// maxAttrLen bounds an attribute value in a challenge.
const maxAttrLen = 256

// sanitizeAttr keeps %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3), replacing `"` with `'`,
// `\` with `/` and anything else with `?`, and truncates long values.
func sanitizeAttr(s string) string {
	if len(s) > maxAttrLen {
		s = s[:maxAttrLen]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}

func invalidToken(desc string) *Error {
	return &Error{Code: CodeInvalidToken, Description: desc, Status: http.StatusUnauthorized}
}

func invalidRequest(desc string) *Error {
	return &Error{Code: CodeInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

func insufficientScope(desc, scope string) *Error {
	return &Error{Code: CodeInsufficientScope, Description: desc, Status: http.StatusForbidden, Scope: scope}
}

// ParseAuthorizationHeader extracts the bearer token from an Authorization header
// value. The scheme is matched case-insensitively.
//
// An empty header, or one using another scheme (e.g. Basic), yields an *Error with an
// empty Code and Status 401: RFC 6750 §3.1 says a request without bearer credentials
// gets a bare challenge. A Bearer header with no token, several tokens or characters
// outside the b64token syntax yields invalid_request (400).
func ParseAuthorizationHeader(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", &Error{Description: "no access token was given", Status: http.StatusUnauthorized}
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", &Error{Description: "the Authorization header does not use the Bearer scheme", Status: http.StatusUnauthorized}
	}
	token := strings.TrimLeft(rest, " \t")
	switch {
	case token == "":
		return "", invalidRequest("the bearer token is empty")
	case isB64Token(token):
	case strings.ContainsAny(token, " \t"):
		return "", invalidRequest("the Authorization header holds more than one value")
	default:
		return "", invalidRequest("the bearer token holds characters a token cannot contain")
	}
	return token, nil
}

// b64tokenChars marks the bytes RFC 6750's b64token allows before its "=" padding.
var b64tokenChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	end := len(strings.TrimRight(s, "="))
	if end == 0 {
		return false
	}
	for i := range end {
		if !b64tokenChars[s[i]] {
			return false
		}
	}
	return true
}
