package emulator

// Which $filter operators each user property supports, and whether only in advanced
// queries (ConsistencyLevel: eventual and $count=true).
//
// userFilterCaps copies the "User properties" table of the advanced query page, as
// published there in August 2025 (source: includes/filter-directory-objects.md of
// microsoftgraph/microsoft-graph-docs-contrib):
// https://learn.microsoft.com/graph/aad-advanced-queries#support-for-filter-by-properties-of-microsoft-entra-id-directory-objects
// Its columns are eq, startsWith, ge/le and "eq Null"; its legend: "Default+Advanced"
// works by default, "Advanced" requires the advanced query parameters, "Blank cells
// indicate that the query isn't valid for that property" and "Properties that aren't
// listed here don't support $filter at all". The page states the other operators as
// rules, which opLevel applies:
//   - "The in operator is supported by default whenever eq operator is supported by
//     default." (in follows eq; where eq needs advanced parameters, so does in.)
//   - "The endswith operator is supported only with advanced query parameters and only
//     by mail, otherMails, userPrincipalName, and proxyAddresses properties."
//   - "The not and ne negation operators are supported only with advanced query
//     parameters. All properties that support the eq operator also supports the ne or
//     not operators."
//
// Where the user resource page (https://learn.microsoft.com/graph/api/resources/user#properties)
// lists more operators than the table ("Supports $filter (eq, ne, not, ge, le, in,
// startsWith, ...)" for employeeId, displayName, createdDateTime, state,
// preferredLanguage, onPremisesUserPrincipalName, ...), the table is followed: it is the
// one that says default versus advanced, and it gives employeeId no startsWith or
// ge/le, string properties no ge/le, createdDateTime no eq or in, state and
// preferredLanguage no startsWith, and does not list onPremisesUserPrincipalName.
// One exception: the table does not list id, which the user resource page documents
// with "Supports $filter (eq, ne, not, in)"; id eq and id in are kept (by default), as
// refusing every lookup by id would not be Graph's behaviour.
//
// Table rows the emulator does not model: collection lambdas (assignedLicenses/any,
// otherMails/any, proxyAddresses/any, ...; the parser refuses lambdas), nested
// properties (employeeOrgData/costCenter, passwordProfile/..., ...), and properties it
// holds no value for (employeeHireDate, isResourceAccount, onPremisesLastSyncDateTime,
// onPremisesSyncEnabled), which the parser refuses before consulting this table.

// level says whether a $filter operator works on a property.
type level uint8

const (
	// unsupportedOp: the operator is not supported on the property (a blank cell).
	unsupportedOp level = iota
	// byDefault: the operator works without advanced query parameters, and with them
	// ("Default+Advanced").
	byDefault
	// advancedOnly: the operator requires ConsistencyLevel: eventual and $count=true
	// ("Advanced").
	advancedOnly
)

// filterCaps is one row of the table: the levels of eq, startsWith, ge/le (one column
// in the table) and eq null; endsWith is the rule quoted above.
type filterCaps struct {
	eq, startsWith, geLe, eqNull, endsWith level
}

// Short names for the table cells below.
const (
	dflt = byDefault
	adv  = advancedOnly
)

// userFilterCaps lists the user properties the emulator can filter on, one row per
// property of the table (see above). A property missing here is refused with
// Request_UnsupportedQuery, as Graph refuses properties that do not support $filter.
var userFilterCaps = map[string]filterCaps{
	"id":                           {eq: dflt}, // not in the table; see above
	"accountEnabled":               {eq: dflt},
	"ageGroup":                     {eq: dflt},
	"city":                         {eq: dflt, startsWith: dflt, eqNull: adv},
	"companyName":                  {eq: adv, startsWith: adv, eqNull: adv},
	"consentProvidedForMinor":      {eq: dflt},
	"country":                      {eq: dflt, startsWith: dflt, eqNull: adv},
	"createdDateTime":              {geLe: dflt, eqNull: adv},
	"creationType":                 {eq: dflt},
	"department":                   {eq: dflt, startsWith: dflt, eqNull: adv},
	"displayName":                  {eq: dflt, startsWith: dflt, eqNull: adv},
	"employeeId":                   {eq: dflt, eqNull: adv},
	"employeeType":                 {eq: adv},
	"externalUserState":            {eq: dflt},
	"faxNumber":                    {eq: adv, startsWith: adv, eqNull: adv},
	"givenName":                    {eq: dflt, startsWith: dflt, eqNull: adv},
	"jobTitle":                     {eq: dflt, startsWith: dflt, eqNull: adv},
	"mail":                         {eq: dflt, startsWith: dflt, eqNull: adv, endsWith: adv},
	"mailNickname":                 {eq: dflt, startsWith: dflt, eqNull: adv},
	"mobilePhone":                  {eq: adv, startsWith: adv, eqNull: adv},
	"officeLocation":               {eq: adv, startsWith: adv, eqNull: adv},
	"onPremisesDistinguishedName":  {eq: adv, startsWith: adv, eqNull: adv},
	"onPremisesImmutableId":        {eq: dflt},
	"onPremisesSamAccountName":     {eq: adv, startsWith: adv},
	"onPremisesSecurityIdentifier": {eq: dflt, eqNull: adv},
	"passwordPolicies":             {eqNull: adv},
	"postalCode":                   {eq: adv, startsWith: adv, eqNull: adv},
	"preferredLanguage":            {eq: adv, eqNull: adv},
	"state":                        {eq: dflt, eqNull: adv},
	"streetAddress":                {eq: adv, startsWith: adv, eqNull: adv},
	"surname":                      {eq: dflt, startsWith: dflt, eqNull: adv},
	"usageLocation":                {eq: dflt, startsWith: dflt, eqNull: adv},
	"userPrincipalName":            {eq: dflt, startsWith: dflt, endsWith: adv},
	"userType":                     {eq: dflt, eqNull: adv},
}

// opLevel returns how the operator op (eq, ne, not, in, startsWith, endsWith, ge, le,
// null for eq null) is supported on property name.
func opLevel(name, op string) level {
	caps, ok := userFilterCaps[name]
	if !ok {
		return unsupportedOp
	}
	switch op {
	case "eq", "in":
		return caps.eq
	case "ne", "not":
		if caps.eq == unsupportedOp {
			return unsupportedOp
		}
		return advancedOnly
	case "startsWith":
		return caps.startsWith
	case "endsWith":
		return caps.endsWith
	case "ge", "le":
		return caps.geLe
	case "null":
		return caps.eqNull
	}
	return unsupportedOp
}

// allowCmp checks that "pr op literal" may be used in this query; null reports a null
// literal, which has its own column ("eq Null"): ne null is the negation of eq null, so
// it needs the advanced query parameters too, and ge/le never take null.
func (p *filterParser) allowCmp(pr prop, op string, null bool) *queryError {
	if !null {
		return p.allow(pr, op)
	}
	lvl := opLevel(pr.name, "null")
	if lvl == unsupportedOp || (op != "eq" && op != "ne") {
		return unsupportedFilter(pr.name)
	}
	if !p.advanced && (lvl == advancedOnly || op == "ne") {
		return needsAdvanced(op)
	}
	return nil
}

// searchable reports whether $search may name the property: Graph documents "Any
// property that can be used in $filter can also be used inside $search" and "Any field
// of String type can be put in $search":
// https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections
// A property filterable only against null (passwordPolicies) is not searchable.
func searchable(p prop) bool {
	caps, ok := userFilterCaps[p.name]
	return ok && p.str != nil && (caps.eq != unsupportedOp || caps.startsWith != unsupportedOp)
}
