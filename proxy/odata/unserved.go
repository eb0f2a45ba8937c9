package odata

import (
	"strings"

	"github.com/graphgate/graphgate/policy"
)

// unservedUserProps are Microsoft Graph v1.0 user properties that graphgate never serves
// (policy.KnownFields are the ones it does), keyed by lower-cased name. Clients such as
// Microsoft Graph Toolkit put some of them in $select (mgt-person asks for userType);
// Graph accepts them, so the gateway withholds them instead of answering 400. Other
// unknown names stay a 400, as in Graph.
// See https://learn.microsoft.com/graph/api/resources/user#properties.
var unservedUserProps = func() map[string]string {
	m := map[string]string{}
	for _, f := range []string{
		"aboutMe", "ageGroup", "assignedLicenses", "assignedPlans", "birthday",
		"consentProvidedForMinor", "creationType", "customSecurityAttributes",
		"deletedDateTime", "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData",
		"employeeType", "externalUserState", "externalUserStateChangeDateTime", "faxNumber",
		"hireDate", "identities", "imAddresses", "interests", "isResourceAccount",
		"lastPasswordChangeDateTime", "legalAgeGroupClassification", "licenseAssignmentStates",
		"mailboxSettings", "mailNickname", "mySite", "onPremisesDistinguishedName",
		"onPremisesDomainName", "onPremisesExtensionAttributes", "onPremisesImmutableId",
		"onPremisesLastSyncDateTime", "onPremisesProvisioningErrors",
		"onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
		"onPremisesUserPrincipalName", "otherMails", "passwordPolicies", "passwordProfile",
		"pastProjects", "postalCode", "preferredDataLocation", "preferredName",
		"provisionedPlans", "proxyAddresses", "responsibilities", "schools",
		"securityIdentifier", "serviceProvisioningErrors", "showInAddressList",
		"signInActivity", "skills", "state", "streetAddress", "userType",
	} {
		m[strings.ToLower(f)] = f
	}
	return m
}()

// splitUnserved removes from a $select value the Graph user properties graphgate never
// serves and returns the rest, to be parsed as usual, and the removed names in canonical
// casing, each once, in the order given. A value asking only for such properties keeps
// "id", as Graph always returns it. A value with an empty name is returned unchanged,
// for the parser to refuse.
func splitUnserved(raw string) (string, []string) {
	parts := strings.Split(raw, ",")
	kept := parts[:0:0]
	var unserved []string
	removed := 0
	for _, p := range parts {
		name := strings.TrimSpace(p)
		if name == "" {
			return raw, nil
		}
		if f, ok := unservedUserProps[strings.ToLower(name)]; ok {
			if _, known := policy.CanonicalField(name); !known {
				removed++
				if !contains(unserved, f) {
					unserved = append(unserved, f)
				}
				continue
			}
		}
		kept = append(kept, p)
	}
	if removed > 0 && len(kept) == 0 {
		kept = append(kept, "id")
	}
	return strings.Join(kept, ","), unserved
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
