package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// A user is addressed in three spellings (DESIGN.md §8): /users/{id}, /users/{upn} and
// the OData key predicate /users('{id or upn}'), where a quote inside the literal is
// doubled ("Remove the slash (/) after /users and enclose the userPrincipalName in
// parentheses and single quotes", https://learn.microsoft.com/graph/api/user-get, and
// OData's string literal, "SQUOTE-in-string = SQUOTE SQUOTE":
// https://docs.oasis-open.org/odata/odata/v4.01/os/abnf/odata-abnf-construction-rules.txt).
// Any of them may be percent-encoded; a B2B guest's "#" must be (%23). routeUserKey
// parses the users subtree from the escaped path before the mux sees it (the mux
// matches decoded segments and knows no key predicates) and rewrites a key predicate
// to /v1.0/users/{keyPlaceholder}/..., so the same routes, route templates and fault
// rules serve every spelling, direct or in $batch.

// keyPlaceholder stands for a parenthesised key in the rewritten path; handlers read
// the key with userKey. It cannot collide with $count or any key.
const keyPlaceholder = "(key)"

// errCollectionSegment is Graph's answer to /users/$x@y: a segment starting with "$"
// is an OData system segment, not a key ("GraphClient fail to fetch User if UPN start
// with $", microsoftgraph/msgraph-sdk-dotnet#2635 quotes this message; user-get's tip:
// "the GET request URL syntax /users/$x@y.com fails with a 400 Bad Request error code
// ... because this request URL violates the OData URL convention"). The code is not
// quoted anywhere public: BadRequest is the code Graph's front door gives its other URL
// parse errors (e.g. "Resource not found for the segment ...",
// microsoftgraph/msgraph-sdk-javascript#1178).
const errCollectionSegment = "The request URI is not valid. Since the segment 'users' refers to a collection, " +
	"this must be the last segment in the request URI or it must be followed by an function or action that can be " +
	"bound to it otherwise all intermediate segments must refer to a single resource."

// errQuerySyntax is Graph's answer to a malformed key predicate such as /users('abc:
// 400 BadRequest "Bad Request - Error in query syntax." (GET .../v1.0/users/('My-Temp-User,
// jenkinsci/azure-ad-plugin#170; Request_BadRequest with the same message in 2019,
// microsoftgraph/msgraph-sdk-dotnet#512).
const errQuerySyntax = "Bad Request - Error in query syntax."

// routeUserKey checks and normalises the users subtree of r's path; it answers r and
// returns false when Graph refuses the spelling.
func routeUserKey(w http.ResponseWriter, r *http.Request) bool {
	esc := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(esc, "/v1.0/")
	if !ok {
		return true
	}
	seg, tail, hasTail := strings.Cut(rest, "/")
	first, err := url.PathUnescape(seg)
	if err != nil || !strings.HasPrefix(first, "users") {
		return true
	}
	switch pred := strings.TrimPrefix(first, "users"); {
	case pred == "" && hasTail:
		return checkKeySegment(w, r, tail)
	case strings.HasPrefix(pred, "("):
		key, ok := keyPredicate(pred)
		plainTail, terr := url.PathUnescape(tail)
		if !ok || terr != nil {
			graphError(w, r, http.StatusBadRequest, "BadRequest", errQuerySyntax)
			return false
		}
		st := state(r)
		st.keyed, st.userKey, st.path = true, key, esc
		r.URL.Path, r.URL.RawPath = "/v1.0/users/"+keyPlaceholder, ""
		if hasTail {
			r.URL.Path += "/" + plainTail
			r.URL.RawPath = "/v1.0/users/" + url.PathEscape(keyPlaceholder) + "/" + tail
		}
	}
	return true
}

// checkKeySegment checks the key segment of /users/{key}/...: a segment starting with
// "$" (sent as "$" or "%24") is refused unless it is the $count segment.
func checkKeySegment(w http.ResponseWriter, r *http.Request, tail string) bool {
	seg, _, more := strings.Cut(tail, "/")
	key, err := url.PathUnescape(seg)
	switch {
	case err != nil:
		graphError(w, r, http.StatusBadRequest, "BadRequest", errQuerySyntax)
		return false
	case !strings.HasPrefix(key, "$"):
		return true
	case strings.EqualFold(key, "$count") && !more:
		r.URL.Path, r.URL.RawPath = "/v1.0/users/$count", ""
		return true
	}
	graphError(w, r, http.StatusBadRequest, "BadRequest", errCollectionSegment)
	return false
}

// keyPredicate decodes "('literal')" with doubled quotes inside; ok is false for any
// other shape (unquoted, unbalanced, a lone quote inside).
func keyPredicate(s string) (string, bool) {
	inner, ok := strings.CutPrefix(s, "(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	if !ok || !ok2 || len(inner) < 2 || inner[0] != '\'' || inner[len(inner)-1] != '\'' {
		return "", false
	}
	body := inner[1 : len(inner)-1]
	var sb strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\'' {
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false
			}
			i++
		}
		sb.WriteByte(body[i])
	}
	return sb.String(), true
}

// userKey returns the id or userPrincipalName a /users/{key}/... request addresses.
func userKey(r *http.Request) string {
	if st := state(r); st.keyed {
		return st.userKey
	}
	return r.PathValue("id")
}

// requestPath is the path a request was sent with, for nextLinks and skip tokens.
func requestPath(r *http.Request) string {
	if st := state(r); st.path != "" {
		return st.path
	}
	return r.URL.EscapedPath()
}
