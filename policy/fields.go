package policy

import (
	"sort"
	"strings"
)

// Operation names one kind of read a client app may perform through the gateway.
type Operation string

// The operations a policy can grant. Their string values are the names used in the
// policy file.
const (
	// OpMeRead is GET /me: the caller's own profile.
	OpMeRead Operation = "me.read"
	// OpUsersRead is GET /users/{id|userPrincipalName}.
	OpUsersRead Operation = "users.read"
	// OpUsersList is GET /users with $search, $filter, $orderby, $top and $count.
	OpUsersList Operation = "users.list"
	// OpPhotoRead covers every photo endpoint, for the caller's own photo and others'.
	OpPhotoRead Operation = "photo.read"
	// OpManagerRead is GET /users/{id}/manager (and /me/manager).
	OpManagerRead Operation = "manager.read"
	// OpDirectReportsRead is GET /users/{id}/directReports (and /me/directReports).
	OpDirectReportsRead Operation = "directReports.read"
	// OpPresenceRead covers /presence and POST /communications/getPresencesByUserId.
	OpPresenceRead Operation = "presence.read"
	// OpPeopleRead is GET /me/people and /users/{id}/people: the people most relevant to
	// a user (Graph's People API), each shown with the fields the app may see of others
	// (see DecidePerson).
	OpPeopleRead Operation = "people.read"
)

// Operations lists every operation a policy can grant, in a stable order.
func Operations() []Operation {
	return []Operation{OpMeRead, OpUsersRead, OpUsersList, OpPhotoRead, OpManagerRead, OpDirectReportsRead,
		OpPresenceRead, OpPeopleRead}
}

// ParseOperation returns the operation with the given policy-file name.
func ParseOperation(s string) (Operation, bool) {
	for _, op := range Operations() {
		if string(op) == s {
			return op, true
		}
	}
	return "", false
}

// KnownFields lists the Microsoft Graph user properties graphgate supports, in canonical
// casing. A policy may only name these, and $select may only ask for these.
var KnownFields = []string{
	"id", "displayName", "givenName", "surname", "jobTitle", "department", "mail",
	"userPrincipalName", "mobilePhone", "businessPhones", "officeLocation",
	"preferredLanguage", "companyName", "city", "country", "employeeId", "accountEnabled",
	"signInSessionsValidFromDateTime", "createdDateTime", "usageLocation",
}

// DefaultFields is Graph's default user property set, returned when a request has no
// $select.
var DefaultFields = []string{
	"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
	"officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}

// InternalFields are the properties the gateway always fetches from Graph for its own
// decisions: the key, and the two properties behind deactivation and forced logout.
var InternalFields = []string{"id", "accountEnabled", "signInSessionsValidFromDateTime"}

// internalOnly are internal fields that no policy may grant to a client app.
var internalOnly = map[string]bool{"accountEnabled": true, "signInSessionsValidFromDateTime": true}

// constantFields are properties with the same value for every user the gateway serves:
// they tell a client nothing, so every client app sees them when it selects them. Every
// account graphgate serves is enabled (deactivated accounts are 404 on read and absent
// from lists), so accountEnabled is true; Microsoft Graph Toolkit's person card selects
// it on directReports and drops every report without it.
var constantFields = map[string]any{"accountEnabled": true}

// ConstantValue returns the value a response shows for a property in constantFields
// (accountEnabled: true), and false for any other property.
func ConstantValue(field string) (any, bool) {
	v, ok := constantFields[field]
	return v, ok
}

// fieldType is the OData type of a supported user property.
type fieldType int

const (
	typeString fieldType = iota
	typeBool
	typeCollection
	typeDateTime
)

var fieldTypes = map[string]fieldType{
	"businessPhones":                  typeCollection,
	"accountEnabled":                  typeBool,
	"signInSessionsValidFromDateTime": typeDateTime,
	"createdDateTime":                 typeDateTime,
}

// typeOf returns the OData type of a canonical property name.
func typeOf(field string) fieldType {
	return fieldTypes[field] // zero value: string
}

// canonical maps lower-cased property names to their canonical casing.
var canonical = func() map[string]string {
	m := make(map[string]string, len(KnownFields))
	for _, f := range KnownFields {
		m[strings.ToLower(f)] = f
	}
	return m
}()

// CanonicalField returns the canonical casing of a supported property name, matched
// case-insensitively as Graph does.
func CanonicalField(name string) (string, bool) {
	f, ok := canonical[strings.ToLower(name)]
	return f, ok
}

// ParseSelect parses a $select value: a comma-separated list of property names, matched
// case-insensitively and returned in canonical casing, without duplicates and in the
// order given. An empty value gives nil (Graph's default set). An unknown property is an
// error with Graph's own message.
func ParseSelect(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(raw, ",") {
		name := strings.TrimSpace(part)
		if name == "" {
			return nil, &QueryError{Msg: "$select has an empty property name."}
		}
		f, ok := CanonicalField(name)
		if !ok {
			return nil, unknownProperty(name)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// unknownProperty is Graph's error for a property the user type does not have. The
// name is echoed only when it looks like an identifier, and shortened.
func unknownProperty(name string) error {
	return &QueryError{Msg: "Could not find a property named '" + SafeIdent(name) + "' on type 'microsoft.graph.user'."}
}

// SafeIdent returns name if it is a short identifier (a property's shape), and a
// placeholder otherwise, so that error messages never carry arbitrary caller input.
func SafeIdent(name string) string {
	if len(name) == 0 || len(name) > 64 {
		return "(invalid name)"
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return "(invalid name)"
		}
	}
	return name
}

// sortedSet returns the keys of set, sorted.
func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
