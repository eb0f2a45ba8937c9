package odata

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/graphgate/graphgate/graph/spec"
)

// Resource is the kind of resource a request URL addresses.
type Resource uint8

// The resources graphgate serves. Each has one canonical route (see Target.Route).
const (
	ResUser               Resource = iota + 1 // /me, /users/{key}
	ResUsers                                  // /users
	ResUsersCount                             // /users/$count
	ResManager                                // {user}/manager
	ResDirectReports                          // {user}/directReports
	ResDirectReportsCount                     // {user}/directReports/$count
	ResPhoto                                  // {user}/photo, {user}/photos/{size}
	ResPhotoValue                             // {user}/photo/$value, {user}/photos/{size}/$value
	ResPresence                               // {user}/presence
	ResGetPresences                           // /communications/getPresencesByUserId
	ResBatch                                  // /$batch
	ResPeople                                 // {user}/people
)

// Target is a request URL's resource path read the way Microsoft Graph reads it (OData URL
// conventions): segments compare case-insensitively, keys come as a segment or in
// parentheses, percent-encoded or not, and functions may be fully qualified.
type Target struct {
	// Version is "v1.0" or "beta".
	Version string
	// Resource is what the path addresses.
	Resource Resource
	// Me reports a /me path: the subject is the caller.
	Me bool
	// UserKey is the decoded key of /users/{key} or /users('{key}'): an object id or a
	// userPrincipalName ("" for /me and collections).
	UserKey string
	// PhotoSize is the decoded {size} of /photos/{size} ("" for /photo).
	PhotoSize string

	noSuchUser bool // UserKey is neither an object id nor a UPN
}

// Route is the target's canonical route: its path in Graph's notation with the key
// written as a placeholder ("/v1.0/users/{id}/photos/{size}/$value", "/beta/me/presence").
// It never holds a key, so it is also the route template that logs and metrics show.
func (t Target) Route() string {
	return routes[routeKey{t.Version, t.Resource, t.Me, t.PhotoSize != ""}]
}

// routeKey is what a target's route depends on.
type routeKey struct {
	version  string
	resource Resource
	me, size bool
}

// routes holds every canonical route, built once: Route is on every request's path.
var routes = func() map[routeKey]string {
	m := map[routeKey]string{}
	for _, v := range []string{"v1.0", "beta"} {
		m[routeKey{v, ResUsers, false, false}] = "/" + v + "/users"
		m[routeKey{v, ResUsersCount, false, false}] = "/" + v + "/users/$count"
		m[routeKey{v, ResGetPresences, false, false}] = "/" + v + "/communications/getPresencesByUserId"
		m[routeKey{v, ResBatch, false, false}] = "/" + v + "/$batch"
		for res, nav := range navRoutes {
			for _, me := range []bool{false, true} {
				subject := "/" + v + "/users/{id}"
				if me {
					subject = "/" + v + "/me"
				}
				m[routeKey{v, res, me, false}] = subject + nav
				if res == ResPhoto || res == ResPhotoValue {
					m[routeKey{v, res, me, true}] = subject + strings.Replace(nav, "/photo", "/photos/{size}", 1)
				}
			}
		}
	}
	return m
}()

// navRoutes are the route suffixes of the resources under a user.
var navRoutes = map[Resource]string{
	ResUser:               "",
	ResManager:            "/manager",
	ResDirectReports:      "/directReports",
	ResDirectReportsCount: "/directReports/$count",
	ResPhoto:              "/photo",
	ResPhotoValue:         "/photo/$value",
	ResPresence:           "/presence",
	ResPeople:             "/people",
}

// isVersion reports whether seg names one of Graph's API versions, "v1.0" or "beta", in
// any casing.
func isVersion(seg string) bool {
	return strings.EqualFold(seg, "v1.0") || strings.EqualFold(seg, "beta")
}

// IsGraphPath reports whether a request path (escaped or not) is one of Graph's: under
// /v1.0 or /beta, in any casing. Such paths are read by ParsePath.
func IsGraphPath(path string) bool {
	p := strings.TrimPrefix(path, "/")
	v, _, _ := strings.Cut(p, "/")
	return strings.HasPrefix(path, "/") && isVersion(v)
}

// ParsePath reads a Graph request path (escapedPath is the URL's escaped path, e.g. from
// url.URL.EscapedPath, starting with "/v1.0/" or "/beta/") into a Target. It returns a
// *PathError, carrying Graph's status and code, for a path that addresses nothing Graph
// has, a resource graphgate does not serve, a malformed key, or a key no user can have.
func ParsePath(escapedPath string) (Target, error) {
	segs, err := segments(escapedPath)
	if err != nil {
		return Target{}, err
	}
	var t Target
	if !isVersion(segs[0]) {
		return Target{}, noSegment(segs[0])
	}
	t.Version = strings.ToLower(segs[0])
	if len(segs) == 1 {
		return Target{}, notOffered(t.Version) // the service document
	}
	rest, err := t.root(segs[1:])
	if err != nil {
		return Target{}, err
	}
	if t.Resource != 0 {
		if len(rest) > 0 {
			return Target{}, noSegment(rest[0])
		}
		return t, nil
	}
	if err := t.navigation(rest); err != nil {
		return Target{}, err
	}
	if t.noSuchUser {
		return Target{}, ErrNoSuchUser
	}
	return t, nil
}

// segments splits an escaped path into decoded segments; a trailing "/" is ignored.
func segments(escapedPath string) ([]string, error) {
	p := strings.TrimSuffix(strings.TrimPrefix(escapedPath, "/"), "/")
	raw := strings.Split(p, "/")
	out := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, errKeySyntax
		}
		out[i] = d
	}
	return out, nil
}

// root reads the path's first resource segment (and the user key after /users) and
// returns the segments after it. For a collection, function or $batch it sets
// t.Resource; for a single user it leaves it zero for navigation to set.
func (t *Target) root(segs []string) ([]string, error) {
	head := segs[0]
	lower := strings.ToLower(head)
	switch {
	case lower == "me":
		t.Me = true
		return segs[1:], nil
	case lower == "$batch":
		t.Resource = ResBatch
		return segs[1:], nil
	case lower == "communications":
		if len(segs) > 1 && isName(segs[1], "getPresencesByUserId") {
			t.Resource = ResGetPresences
			return segs[2:], nil
		}
		return nil, notOffered(head)
	case lower == "users":
		if len(segs) == 1 {
			t.Resource = ResUsers
			return nil, nil
		}
		return t.userSegment(segs[1], segs[2:])
	case strings.HasPrefix(lower, "users("):
		key, err := parenKey(head[len("users"):])
		if err != nil {
			return nil, err
		}
		return segs[1:], t.setKey(key)
	case spec.IsEntitySet(head) || lower == "$metadata":
		return nil, notOffered(head)
	}
	return nil, noSegment(head)
}

// userSegment reads the segment after /users: $count, a function or a key.
func (t *Target) userSegment(seg string, rest []string) ([]string, error) {
	switch {
	case strings.EqualFold(seg, "$count"):
		t.Resource = ResUsersCount
		return rest, nil
	case strings.HasPrefix(seg, "$"):
		return nil, errCollectionKey
	case !IsUserKey(seg) && (spec.IsUserNavigation(seg) || strings.Contains(seg, "(")):
		return nil, notOffered(seg) // delta(), getByIds, ... bound to the collection
	}
	return rest, t.setKey(seg)
}

// setKey records a user key. A key no user can have is ErrNoSuchUser, but only once the
// rest of the path has parsed: an unknown segment after it is answered first, as Graph
// resolves the path before looking the key up.
func (t *Target) setKey(key string) error {
	t.UserKey, t.noSuchUser = key, !IsUserKey(key)
	return nil
}

// navigation reads what follows a user: nothing (the user), a navigation property, a
// photo size, $value, $count and type casts.
func (t *Target) navigation(segs []string) error {
	if len(segs) == 0 {
		t.Resource = ResUser
		return nil
	}
	segs = skipCast(segs)
	if len(segs) == 0 {
		t.Resource = ResUser
		return nil
	}
	nav, rest := segs[0], segs[1:]
	lower := strings.ToLower(nav)
	switch {
	case lower == "manager":
		t.Resource = ResManager
		rest = skipCast(rest)
		if len(rest) > 0 && strings.EqualFold(rest[0], "$ref") {
			return notOffered(rest[0])
		}
	case lower == "directreports":
		t.Resource = ResDirectReports
		rest = skipCast(rest)
		if len(rest) > 0 && strings.EqualFold(rest[0], "$count") {
			t.Resource, rest = ResDirectReportsCount, rest[1:]
		} else if len(rest) > 0 && (strings.EqualFold(rest[0], "$ref") || spec.IsObjectID(rest[0])) {
			return ErrNotOffered // $ref, or one report by id
		}
	case lower == "presence":
		t.Resource = ResPresence
	case lower == "people" && t.Version == "v1.0":
		t.Resource = ResPeople
		if len(rest) > 0 && rest[0] != "" {
			return ErrNotOffered // one person by id, or $count
		}
	case lower == "photo":
		t.Resource = ResPhoto
	case lower == "photos" && len(rest) > 0 && rest[0] != "":
		t.Resource, t.PhotoSize, rest = ResPhoto, rest[0], rest[1:]
	case strings.HasPrefix(lower, "photos("):
		size, err := parenKey(nav[len("photos"):])
		if err != nil {
			return err
		}
		t.Resource, t.PhotoSize = ResPhoto, size
	case lower == "people":
		return &PathError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: "This gateway serves the resource 'people' under /v1.0 only."}
	case spec.IsUserNavigation(nav):
		return notOffered(nav)
	case t.Version == "beta":
		// beta's user has many more navigations (profile, ...) than v1.0's list: not
		// offered, without claiming which exist.
		return ErrNotOffered
	default:
		return noSegment(nav)
	}
	if t.Resource == ResPhoto && len(rest) > 0 && strings.EqualFold(rest[0], "$value") {
		t.Resource, rest = ResPhotoValue, rest[1:]
	}
	if len(rest) > 0 {
		return noSegment(rest[0])
	}
	return nil
}

// skipCast drops a type cast to user ("microsoft.graph.user"; OData casts are always
// qualified), which selects what a user or these navigations hold anyway.
func skipCast(segs []string) []string {
	if len(segs) > 0 && strings.EqualFold(segs[0], "microsoft.graph.user") {
		return segs[1:]
	}
	return segs
}

// isName reports whether seg is name, bare or qualified with Graph's namespace
// ("microsoft.graph.name"), case-insensitively.
func isName(seg, name string) bool {
	return strings.EqualFold(seg, name) || strings.EqualFold(seg, "microsoft.graph."+name)
}

// parenKey reads a key in parentheses, "('literal')", where a quote inside the literal
// is doubled (OData's string literal for Edm.String keys).
func parenKey(s string) (string, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return "", errKeySyntax
	}
	inner := s[1 : len(s)-1]
	if len(inner) < 2 || inner[0] != '\'' || inner[len(inner)-1] != '\'' {
		return "", errKeySyntax
	}
	lit := inner[1 : len(inner)-1]
	if strings.Count(lit, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(lit, "''", ""), "'") {
		return "", errKeySyntax
	}
	return strings.ReplaceAll(lit, "''", "'"), nil
}

// IsUserKey reports whether key can address a user: an object id (GUID) or a
// userPrincipalName: 1 to 113 characters Entra allows in a UPN's local part (a guest's
// "#EXT#" and a leading "$" included), "@", and a domain of 1 to 140 letters, digits,
// dots and hyphens.
// See https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname.
func IsUserKey(key string) bool {
	if spec.IsObjectID(key) {
		return true
	}
	local, domain, ok := strings.Cut(key, "@")
	if !ok || len(local) < 1 || len(local) > 113 || len(domain) < 1 || len(domain) > 140 {
		return false
	}
	for i := range len(local) {
		if !isAlnum(local[i]) && !strings.ContainsRune("._%+'#!$&*=?^{}|~-", rune(local[i])) {
			return false
		}
	}
	for i := range len(domain) {
		if !isAlnum(domain[i]) && domain[i] != '.' && domain[i] != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ErrInvalidKey answers a key of graphgate's own APIs (the admin API) that is neither an
// object id nor a userPrincipalName.
var ErrInvalidKey = &PathError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
	Message: "Invalid object identifier: expected an object id (GUID) or a userPrincipalName."}

// ParseUserKey checks a user key as graphgate's own APIs (the admin API) take it: a
// decoded path segment holding an object id or any userPrincipalName, a leading "$"
// included (these APIs are not OData: no key needs parentheses). It returns
// ErrInvalidKey for anything else.
func ParseUserKey(seg string) (string, error) {
	if !IsUserKey(seg) {
		return "", ErrInvalidKey
	}
	return seg, nil
}
