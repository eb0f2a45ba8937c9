// Package policy decides, per client app, which operations it may use and which user
// properties it may see, and validates OData query options so that a caller can never
// reference a property it may not see. It is pure: it parses the bytes it is given and
// does no other I/O.
//
// # Policy file
//
// A policy is a YAML document listing client apps by their Entra application (client)
// id:
//
//	# graphgate policy: which client app may see what.
//	clients:
//	  - app_id: 11111111-2222-3333-4444-555555555555
//	    name: chat-web
//	    purpose: Show colleagues' names, photos and presence in chat.
//	    operations: [me.read, users.read, users.list, photo.read, presence.read]
//	    fields:
//	      self: [displayName, mail, jobTitle, officeLocation]
//	      others: [displayName, jobTitle]
//
// Keys of each client:
//
//   - app_id (required): the app's client id, a GUID, matched case-insensitively; each
//     app id appears once.
//   - name (required): a short unique name (letters, digits, '.', '_', '-') used in
//     reasons, logs and usage metrics.
//   - purpose (required): why the app sees what it sees, shown on transparency pages.
//   - operations (required, may be empty): any of me.read, users.read, users.list,
//     photo.read, manager.read, directReports.read, presence.read, people.read. Anything
//     not listed is denied.
//   - fields (optional): self lists the properties the app may see of the signed-in
//     user's own profile, others the properties of everyone else. A missing list grants
//     nothing but id, which is always visible.
//
// Field names are Microsoft Graph user properties in their exact casing: id,
// displayName, givenName, surname, jobTitle, department, mail, userPrincipalName,
// mobilePhone, businessPhones, officeLocation, preferredLanguage, companyName, city,
// country, employeeId, createdDateTime, usageLocation. The internal properties
// accountEnabled and signInSessionsValidFromDateTime may not be granted; accountEnabled
// is shown, as true, to every app that selects it, since the gateway serves enabled
// accounts only.
//
// Unknown keys, unknown operations or fields, repeated entries, duplicate app ids or
// names and YAML aliases are errors. Parse reports every problem at once, each with
// its line and column.
//
// # Decisions
//
// An unknown app id has no Client and is denied everything. Client.Decide returns the
// fields to show: the requested properties ($select, or Graph's default set) that the
// app may see, plus id; the others are withheld, which is not an error. Operations on
// lists (users.list, search, org-chart lists) concern other users.
//
// # Query options
//
// ParseSelect, Client.CheckSearch, Client.CheckFilter and Client.CheckOrderBy accept a
// small grammar each (see search.go, filter.go and orderby.go), refuse everything else
// with an error matching ErrInvalidQuery, and return a normalized re-serialization: the
// gateway never forwards a query option it has not parsed. CheckSearch drops an OR
// operand on a property the app may not see (which only narrows the result) and
// reports it; any other reference to a hidden property is refused.
package policy
