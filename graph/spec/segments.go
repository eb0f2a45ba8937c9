package spec

import (
	"net/url"
	"strings"
)

// entitySets are Microsoft Graph v1.0's top-level resources (entity sets and singletons),
// lower-cased. See https://learn.microsoft.com/graph/api/overview?view=graph-rest-1.0.
var entitySets = set(
	"admin", "agreementAcceptances", "agreements", "appCatalogs", "applications",
	"applicationTemplates", "auditLogs", "authenticationMethodConfigurations",
	"authenticationMethodsPolicy", "certificateBasedAuthConfiguration", "chats",
	"communications", "compliance", "connections", "contacts", "contracts", "copilot",
	"dataPolicyOperations", "deviceAppManagement", "deviceManagement", "devices",
	"directory", "directoryObjects", "directoryRoles", "directoryRoleTemplates", "domainDnsRecords",
	"domains", "drives", "education", "employeeExperience", "external", "filterOperators",
	"functions", "groupLifecyclePolicies", "groups", "groupSettings", "groupSettingTemplates",
	"identity", "identityGovernance", "identityProtection", "identityProviders",
	"informationProtection", "invitations", "me", "oauth2PermissionGrants", "organization",
	"permissionGrants", "places", "planner", "policies", "print", "privacy", "reports",
	"roleManagement", "schemaExtensions", "scopedRoleMemberships", "search", "security",
	"servicePrincipals", "shares", "sites", "solutions", "storage", "subscribedSkus",
	"subscriptions", "teams", "teamsTemplates", "teamwork", "tenantRelationships", "users",
)

// userNavigations are the relationships, functions and actions of Graph v1.0's user
// resource and users collection, lower-cased. See
// https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0#relationships.
var userNavigations = set(
	"activities", "agreementAcceptances", "appRoleAssignments", "assignLicense", "authentication",
	"calendar", "calendarGroups", "calendars", "calendarView", "changePassword",
	"checkMemberGroups", "checkMemberObjects", "chats", "cloudClipboard", "contactFolders",
	"contacts", "createdObjects", "dataSecurityAndGovernance", "delta", "directReports", "drive",
	"drives", "employeeExperience", "events", "exportPersonalData", "extensions",
	"findMeetingTimes", "followedSites", "getMailTips", "getManagedAppDiagnosticStatuses",
	"getManagedAppPolicies", "getMemberGroups", "getMemberObjects", "inferenceClassification",
	"insights", "joinedTeams", "licenseDetails", "mailboxSettings", "mailFolders",
	"managedAppRegistrations", "managedDevices", "manager", "memberOf", "messages",
	"oauth2PermissionGrants", "onenote", "onlineMeetings", "outlook", "ownedDevices",
	"ownedObjects", "people", "permissionGrants", "photo", "photos", "planner", "presence",
	"registeredDevices", "reminderView", "removeAllDevicesFromManagement",
	"reprocessLicenseAssignment", "restore", "retryServiceProvisioning", "revokeSignInSessions",
	"scopedRoleMemberOf", "sendMail", "settings", "solutions", "sponsors", "teamwork", "todo",
	"transitiveMemberOf", "translateExchangeIds", "wipeManagedAppRegistrationsByDeviceTag",
	// bound to the users collection: https://learn.microsoft.com/graph/api/resources/user#functions
	"getAvailableExtensionProperties", "getByIds", "validateProperties",
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// IsEntitySet reports whether segment names one of Graph v1.0's top-level resources,
// case-insensitively ("users", "Groups", "sites", ...).
func IsEntitySet(segment string) bool { return entitySets[strings.ToLower(segment)] }

// IsUserNavigation reports whether segment names a relationship, function or action of
// Graph's user resource, case-insensitively and with or without the "microsoft.graph."
// namespace ("messages", "memberOf", "microsoft.graph.getMemberGroups", ...).
func IsUserNavigation(segment string) bool {
	s := strings.ToLower(segment)
	s = strings.TrimPrefix(s, "microsoft.graph.")
	if i := strings.IndexByte(s, '('); i >= 0 { // a function call: "reminderView(...)"
		s = s[:i]
	}
	return userNavigations[s]
}

// KeyInParentheses writes a key as OData's key-in-parentheses segment suffix,
// "('key')", with a quote inside doubled and the rest percent-encoded: the spelling
// Graph accepts for every userPrincipalName, including one that starts with "$", which
// it refuses as a plain segment. See https://learn.microsoft.com/graph/api/user-get#http-request.
func KeyInParentheses(key string) string {
	return "('" + url.PathEscape(strings.ReplaceAll(key, "'", "''")) + "')"
}
