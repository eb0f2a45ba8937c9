package spec

import "strings"

// The People API (GET /users/{id}/people): a user's relevant people as Graph's person
// resource. See https://learn.microsoft.com/graph/api/user-list-people and
// https://learn.microsoft.com/graph/people-insights-overview.

// personProperties are the properties of Graph v1.0's person resource, in the order of
// its documentation (https://learn.microsoft.com/graph/api/resources/person).
var personProperties = [...]string{
	"id", "displayName", "givenName", "surname", "birthday", "personNotes", "isFavorite",
	"jobTitle", "companyName", "yomiCompany", "department", "officeLocation", "profession",
	"userPrincipalName", "imAddress", "scoredEmailAddresses", "phones", "postalAddresses",
	"websites", "personType",
}

// PersonProperties returns the properties of Graph's person resource in documentation
// order, in a fresh slice the caller may modify.
func PersonProperties() []string {
	out := make([]string, len(personProperties))
	copy(out, personProperties[:])
	return out
}

// PersonProperty returns the canonical spelling of a person property named in any case,
// and false if the person resource has no such property.
func PersonProperty(name string) (string, bool) {
	for _, p := range personProperties {
		if strings.EqualFold(name, p) {
			return p, true
		}
	}
	return "", false
}

// PeopleQuerySourcesHeader is the request header that widens the People API's answers
// from the mailbox's people to the directory's: "Mailbox,Directory" ("By default,
// Microsoft Graph serves mailbox-only results ... To retrieve organizational wide
// directory results, specify a HTTP header",
// https://learn.microsoft.com/graph/people-insights-overview#types-of-results-included).
// Microsoft Graph Toolkit's people picker sends it.
const PeopleQuerySourcesHeader = "X-PeopleQuery-QuerySources"

// Person classes and subclasses (personType.class, personType.subclass). Only
// OrganizationUser people are users of the directory; the others are contacts and
// people met in mail, which no directory policy covers.
// See https://learn.microsoft.com/graph/search-concept-person#person-types.
const (
	PersonClassPerson            = "Person"
	PersonClassGroup             = "Group"
	PersonOrganizationUser       = "OrganizationUser"
	PersonOrganizationContact    = "OrganizationContact"
	PersonPersonalContact        = "PersonalContact"
	PersonImplicitContact        = "ImplicitContact"
	PersonUnifiedGroup           = "UnifiedGroup"
	PersonPublicDistributionList = "PublicDistributionList"
)

// peopleSelect is what graphgate asks the People API for: a person's id (for a
// directory user, their object id) and type. Everything else it shows of a person comes
// from the user's own directory record.
var peopleSelect = [...]string{"id", "personType"}

// PeopleSelect returns the $select of graphgate's People API reads, in a fresh slice.
func PeopleSelect() []string { return append([]string(nil), peopleSelect[:]...) }

// Phone types (phone.type, the phoneType enumeration's members) of the numbers a person
// shows from a user's businessPhones and mobilePhone.
// See https://learn.microsoft.com/graph/api/resources/phone.
const (
	PhoneTypeBusiness = "business"
	PhoneTypeMobile   = "mobile"
)

// DefaultPeopleTop is the People API's page size without $top ("By default, each
// response returns 10 records", https://learn.microsoft.com/graph/people-insights-overview).
const DefaultPeopleTop = 10

// MaxPeopleTop is the largest $top the People API answers in full (its documentation
// asks for "the 1,000 people most relevant").
const MaxPeopleTop = 1000
