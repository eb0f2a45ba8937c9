package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// ordered is a JSON object that keeps member order, as Graph's responses do.
type ordered []kv

// MarshalJSON writes the members in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshalNoEscape(m.k)
		if err != nil {
			return nil, err
		}
		v, err := marshalNoEscape(m.v)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalNoEscape encodes v as JSON without HTML escaping (Graph writes '&' verbatim).
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// prop describes one property of microsoft.graph.user. Which query options may use it
// is in filter_props.go.
type prop struct {
	name string
	get  func(u *User) any
	str  func(u *User) string    // nil for non-string properties
	when func(u *User) time.Time // non-nil for DateTimeOffset properties
}

// nullable returns nil for "" (Graph's null) and s otherwise.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stringProp builds a string property.
func stringProp(name string, f func(u *User) string) prop {
	return prop{name: name, get: func(u *User) any { return nullable(f(u)) }, str: f}
}

// timeProp builds a DateTimeOffset property.
func timeProp(name string, f func(u *User) time.Time) prop {
	return prop{name: name, get: func(u *User) any { return graphTime(f(u)) }, when: f}
}

// noValue is the value of string properties the emulator stores no data for (null).
func noValue(*User) string { return "" }

// graphTime formats a timestamp as Graph does (UTC, second precision, Z).
func graphTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// constProp builds a property the emulator stores no data for.
func constProp(name string, v any) prop {
	return prop{name: name, get: func(*User) any { return v }}
}

// userProps is the catalog of known user properties, keyed by lower-case name.
var userProps = func() map[string]prop {
	list := []prop{
		stringProp("id", func(u *User) string { return u.ID }),
		stringProp("displayName", func(u *User) string { return u.DisplayName }),
		stringProp("givenName", func(u *User) string { return u.GivenName }),
		stringProp("surname", func(u *User) string { return u.Surname }),
		stringProp("jobTitle", func(u *User) string { return u.JobTitle }),
		stringProp("department", func(u *User) string { return u.Department }),
		stringProp("mail", func(u *User) string { return u.Mail }),
		stringProp("userPrincipalName", func(u *User) string { return u.UserPrincipalName }),
		stringProp("mobilePhone", func(u *User) string { return u.MobilePhone }),
		stringProp("officeLocation", func(u *User) string { return u.OfficeLocation }),
		stringProp("preferredLanguage", func(u *User) string { return u.PreferredLanguage }),
		stringProp("companyName", func(u *User) string { return u.CompanyName }),
		stringProp("city", func(u *User) string { return u.City }),
		stringProp("country", func(u *User) string { return u.Country }),
		stringProp("employeeId", func(u *User) string { return u.EmployeeID }),
		stringProp("usageLocation", func(u *User) string { return u.UsageLocation }),
		stringProp("mailNickname", func(u *User) string {
			local, _, _ := strings.Cut(u.UserPrincipalName, "@")
			return local
		}),
		stringProp("userType", func(u *User) string {
			if u.UserType == "" {
				return "Member"
			}
			return u.UserType
		}),
		{name: "businessPhones", get: func(u *User) any {
			if u.BusinessPhones == nil {
				return []string{}
			}
			return u.BusinessPhones
		}},
		{name: "accountEnabled", get: func(u *User) any { return u.AccountEnabled }},
		{name: "signInSessionsValidFromDateTime", get: func(u *User) any { return graphTime(u.SignInSessionsValidFromDateTime) }},
		timeProp("createdDateTime", func(u *User) time.Time { return u.CreatedDateTime }),
		{name: "lastPasswordChangeDateTime", get: func(u *User) any { return graphTime(u.CreatedDateTime) }},
		{name: "proxyAddresses", get: func(u *User) any {
			if u.Mail == "" {
				return []string{}
			}
			return []string{"SMTP:" + u.Mail}
		}},
	}
	for _, n := range []string{"otherMails", "imAddresses", "identities", "assignedLicenses", "assignedPlans", "provisionedPlans"} {
		list = append(list, constProp(n, []string{}))
	}
	for _, n := range []string{"ageGroup", "consentProvidedForMinor", "creationType", "employeeType",
		"externalUserState", "faxNumber", "legalAgeGroupClassification", "onPremisesDistinguishedName",
		"onPremisesDomainName", "onPremisesImmutableId", "onPremisesSamAccountName",
		"onPremisesSecurityIdentifier", "onPremisesUserPrincipalName", "passwordPolicies", "postalCode",
		"preferredDataLocation", "securityIdentifier", "state", "streetAddress"} {
		list = append(list, stringProp(n, noValue))
	}
	for _, n := range []string{"deletedDateTime", "employeeHireDate", "employeeLeaveDateTime",
		"isResourceAccount", "onPremisesLastSyncDateTime", "onPremisesSyncEnabled", "showInAddressList"} {
		list = append(list, constProp(n, nil))
	}
	m := make(map[string]prop, len(list))
	for _, p := range list {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// defaultSelect is Graph's default property set for users (in Graph's output order).
var defaultSelect = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

// projectUser renders u with the selected properties (nil => the default set).
func projectUser(u *User, sel []string, odataType bool) ordered {
	if sel == nil {
		sel = defaultSelect
	}
	o := make(ordered, 0, len(sel)+1)
	if odataType {
		o = append(o, kv{"@odata.type", "#microsoft.graph.user"})
	}
	for _, name := range sel {
		p := userProps[strings.ToLower(name)]
		o = append(o, kv{p.name, p.get(u)})
	}
	return o
}
