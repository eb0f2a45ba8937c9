package emulator

// Which $filter operators each user property supports, and whether only in advanced
// queries (ConsistencyLevel: eventual and $count=true).
//
// Graph documents the operators per property in the user resource's property table
// ("Supports $filter (eq, ne, not, ge, le, in, startsWith, and eq on null values)"):
// https://learn.microsoft.com/graph/api/resources/user#properties
// and which of them need advanced query parameters, with these general rules, in
// https://learn.microsoft.com/graph/aad-advanced-queries#support-for-filter-by-properties-of-microsoft-entra-id-directory-objects:
//   - "The not and ne negation operators are supported only with advanced query
//     parameters. All properties that support the eq operator also support the ne or
//     not operators."
//   - "The in operator is supported by default whenever eq operator is supported by
//     default."
//   - "The endsWith operator is supported only with advanced query parameters by mail,
//     otherMails, userPrincipalName, and proxyAddresses properties."
//   - eq on null values is marked "advanced" for every user property that allows it.
//   - "Properties that are not listed here do not support $filter at all."
// Collection properties (businessPhones, proxyAddresses, ...) are filtered with lambda
// operators (any), which the emulator does not implement: they are refused.

// level says whether a $filter operator works on a property.
type level uint8

const (
	// unsupportedOp: the operator is not supported on the property.
	unsupportedOp level = iota
	// byDefault: the operator works without advanced query parameters.
	byDefault
	// advancedOnly: the operator requires ConsistencyLevel: eventual and $count=true.
	advancedOnly
)

// filterCaps are the $filter operators one user property supports; ne and not follow
// eq (see above).
type filterCaps struct {
	eq, in, startsWith, ge, le, endsWith, null level
}

// Common capability sets of the user property table.
var (
	// stringCaps: "eq, ne, not, ge, le, in, startsWith, and eq on null values", the
	// comparisons by default (e.g. displayName, givenName, city).
	stringCaps = filterCaps{eq: byDefault, in: byDefault, startsWith: byDefault, ge: byDefault, le: byDefault, null: advancedOnly}
	// advancedStringCaps: the same operators, all advanced only (e.g. mobilePhone,
	// officeLocation, preferredLanguage, companyName).
	advancedStringCaps = filterCaps{eq: advancedOnly, in: advancedOnly, startsWith: advancedOnly, ge: advancedOnly, le: advancedOnly, null: advancedOnly}
	// enumCaps: "eq, ne, not, in" (e.g. ageGroup, creationType).
	enumCaps = filterCaps{eq: byDefault, in: byDefault}
)

// userFilterCaps lists the user properties the emulator can filter on. A property
// missing here is refused with Request_UnsupportedQuery, as Graph refuses properties
// that do not support $filter.
var userFilterCaps = map[string]filterCaps{
	"id":                           {eq: byDefault, in: byDefault},
	"accountEnabled":               {eq: byDefault, in: byDefault},
	"createdDateTime":              {eq: byDefault, in: advancedOnly, ge: byDefault, le: byDefault},
	"displayName":                  stringCaps,
	"givenName":                    stringCaps,
	"surname":                      stringCaps,
	"jobTitle":                     stringCaps,
	"department":                   stringCaps,
	"mailNickname":                 stringCaps,
	"city":                         stringCaps,
	"country":                      stringCaps,
	"state":                        stringCaps,
	"usageLocation":                stringCaps,
	"faxNumber":                    stringCaps,
	"employeeId":                   stringCaps,
	"mail":                         {eq: byDefault, in: byDefault, startsWith: byDefault, ge: byDefault, le: byDefault, endsWith: advancedOnly, null: advancedOnly},
	"userPrincipalName":            {eq: byDefault, in: byDefault, startsWith: byDefault, ge: byDefault, le: byDefault, endsWith: advancedOnly},
	"mobilePhone":                  advancedStringCaps,
	"officeLocation":               advancedStringCaps,
	"preferredLanguage":            advancedStringCaps,
	"companyName":                  advancedStringCaps,
	"postalCode":                   advancedStringCaps,
	"streetAddress":                advancedStringCaps,
	"employeeType":                 {eq: advancedOnly, in: advancedOnly, startsWith: advancedOnly, ge: advancedOnly, le: advancedOnly},
	"userType":                     {eq: byDefault, in: byDefault, null: advancedOnly},
	"ageGroup":                     enumCaps,
	"consentProvidedForMinor":      enumCaps,
	"creationType":                 enumCaps,
	"externalUserState":            enumCaps,
	"onPremisesSecurityIdentifier": {eq: byDefault, in: byDefault, null: advancedOnly},
	"onPremisesUserPrincipalName":  {eq: byDefault, in: byDefault, startsWith: byDefault, ge: byDefault, le: byDefault},
	"onPremisesSamAccountName":     {eq: advancedOnly, in: advancedOnly, startsWith: advancedOnly, ge: advancedOnly, le: advancedOnly},
	"onPremisesImmutableId":        {eq: advancedOnly, in: advancedOnly, ge: advancedOnly, le: advancedOnly},
}

// opLevel returns how the operator op (eq, ne, not, in, startsWith, endsWith, ge, le,
// null) is supported on property name.
func opLevel(name, op string) level {
	caps, ok := userFilterCaps[name]
	if !ok {
		return unsupportedOp
	}
	switch op {
	case "eq":
		return caps.eq
	case "ne", "not":
		if caps.eq == unsupportedOp {
			return unsupportedOp
		}
		return advancedOnly
	case "in":
		return caps.in
	case "startsWith":
		return caps.startsWith
	case "endsWith":
		return caps.endsWith
	case "ge":
		return caps.ge
	case "le":
		return caps.le
	case "null":
		return caps.null
	}
	return unsupportedOp
}

// searchable reports whether $search may name the property: Graph documents "Any
// property that can be used in $filter can also be used inside $search" and "Any field
// of String type can be put in $search":
// https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections
func searchable(p prop) bool {
	_, ok := userFilterCaps[p.name]
	return ok && p.str != nil
}
