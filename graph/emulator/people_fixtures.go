package emulator

import (
	"fmt"
	"hash/fnv"

	"github.com/graphgate/graphgate/graph/spec"
)

// The People API's data: each user's relevant people, ranked ("People are ordered by
// relevance", https://learn.microsoft.com/graph/people-insights-overview), derived from
// the directory without randomness. A user's list mixes organisation users with the
// outside people Graph also returns (DESIGN.md §8): personal contacts, people met in
// mail (implicit contacts) and contacts of the global address list. Rank by rank:
//
//  1. the manager;
//  2. a personal contact;
//  3. the first colleague (direct reports in directory order, then peers, the other
//     reports of the manager, in directory order);
//  4. an implicit contact (someone met in mail, at an outside address);
//  5. an organisation contact (a contact of the global address list);
//  6. the first correspondent: an organisation user with no org-chart relation to the
//     owner (neither manager, report nor peer), someone the owner mails privately;
//  7. the second colleague;
//  8. the second correspondent;
//  9. the third colleague;
//  10. a second personal contact;
//  11. the remaining colleagues.
//
// Missing entries (no manager, fewer colleagues) close up, so every user has three
// contacts within the first six ranks (Microsoft Graph Toolkit asks $top=6) and all four
// within the first ten. Deactivated users appear like any other: the People index lags
// the directory, so a gateway must drop them itself. In DefaultDirectory's contoso, Kai
// O'Neill's first entry is his deactivated manager (generated user 17, Quinn Ravensdale);
// that user is also the first colleague (rank 3) of user 10, a peer under the Marketing
// head, and the second colleague (rank 7) of the Marketing head (user 3).

// Person is one entry of a user's relevant people (Graph's person resource, reduced to
// what the emulator varies). Organisation users carry the directory's values; contacts
// have an empty UserPrincipalName, no department or office and an address outside the
// tenant's domains.
type Person struct {
	// ID is the user's object id for an organisation user, a GUID of the contact else.
	ID string
	// DisplayName, GivenName and Surname name the person.
	DisplayName, GivenName, Surname string
	// JobTitle, Department, CompanyName and OfficeLocation are "" when unknown (null in JSON).
	JobTitle, Department, CompanyName, OfficeLocation string
	// UserPrincipalName is "" for contacts.
	UserPrincipalName string
	// Emails are the person's addresses (scoredEmailAddresses), most relevant first.
	Emails []string
	// Phones are the person's phone numbers.
	Phones []Phone
	// Class and Subclass are personType.class and personType.subclass (spec.PersonClass*,
	// spec.Person* constants).
	Class, Subclass string
	// RelevanceScore is the relevance of the person to the owner of the list: strictly
	// decreasing with rank (scoredEmailAddresses[].relevanceScore on the wire).
	RelevanceScore float64
}

// Phone is one of a person's phone numbers. Type is the phoneType member name, e.g.
// "business" or "mobile" (https://learn.microsoft.com/graph/api/resources/phone).
type Phone struct {
	Type, Number string
}

// relevance is the score of rank (0-based): strictly decreasing over the first
// spec.MaxPeopleTop ranks, the most one page can hold, then 1.
func relevance(rank int) float64 {
	return float64(max(spec.MaxPeopleTop-rank, 1))
}

// userPerson renders a directory user as an OrganizationUser person.
func userPerson(u *User) Person {
	p := Person{ID: u.ID, DisplayName: u.DisplayName, GivenName: u.GivenName, Surname: u.Surname,
		JobTitle: u.JobTitle, Department: u.Department, CompanyName: u.CompanyName,
		OfficeLocation: u.OfficeLocation, UserPrincipalName: u.UserPrincipalName,
		Class: spec.PersonClassPerson, Subclass: spec.PersonOrganizationUser}
	if u.Mail != "" {
		p.Emails = []string{u.Mail}
	}
	for _, n := range u.BusinessPhones {
		p.Phones = append(p.Phones, Phone{"business", n})
	}
	if u.MobilePhone != "" {
		p.Phones = append(p.Phones, Phone{"mobile", u.MobilePhone})
	}
	return p
}

// relevantOf returns u's relevant people in rank order with their scores; callers hold
// e.mu.
func (ts *tenantState) relevantOf(u *User) []Person {
	related := map[string]bool{u.ID: true}
	var mgr *User
	if u.ManagerID != "" {
		mgr = ts.byID[u.ManagerID]
	}
	colleagues := ts.reportsOf(u)
	if mgr != nil {
		related[mgr.ID] = true
		for _, peer := range ts.reportsOf(mgr) {
			if peer.ID != u.ID {
				colleagues = append(colleagues, peer)
			}
		}
	}
	for _, c := range colleagues {
		related[c.ID] = true
	}
	corr := ts.correspondents(u, related)
	contacts := ts.contactsFor(u)
	var out []Person
	addUser := func(list []*User, i int) {
		if i < len(list) {
			out = append(out, userPerson(list[i]))
		}
	}
	if mgr != nil {
		out = append(out, userPerson(mgr))
	}
	out = append(out, contacts[0])
	addUser(colleagues, 0)
	out = append(out, contacts[2], contacts[3])
	addUser(corr, 0)
	addUser(colleagues, 1)
	addUser(corr, 1)
	addUser(colleagues, 2)
	out = append(out, contacts[1])
	for i := 3; i < len(colleagues); i++ {
		addUser(colleagues, i)
	}
	for i := range out {
		out[i].RelevanceScore = relevance(i)
	}
	return out
}

// correspondents returns two users unrelated to u in the org chart (not in related),
// found by walking the directory from a position derived from u's id; fewer when the
// tenant has fewer (in fabrikam's small directory everyone is related to the department
// head).
func (ts *tenantState) correspondents(u *User, related map[string]bool) []*User {
	n := len(ts.users)
	if n == 0 {
		return nil
	}
	start := int(hash32(u.ID) % uint32(n))
	var out []*User
	for i := 0; i < n && len(out) < 2; i++ {
		if c := ts.users[(start+i)%n]; !related[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// hash32 is FNV-1a of s.
func hash32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// contactTemplate is an invented outside person.
type contactTemplate struct {
	given, surname, company, job string
}

// contactPool holds invented outside people; each tenant takes len(contactKinds) of them
// from a position derived from its id, so tenants differ. Implicit contacts (people
// known only from mail) carry a name and an address alone.
var contactPool = []contactTemplate{
	{"Bjørn", "Halvorsen", "Halvorsen Joinery", "Carpenter"},
	{"Clémence", "Aubry", "Aubry Conseil", "Consultant"},
	{"Marisol", "Quintero", "Quintero Studio", "Architect"},
	{"Tobiah", "Wrenfield", "Wrenfield & Daughters", "Owner"},
	{"Ysolde", "Carrow", "Carrow Print Works", "Printer"},
	{"Anselm", "Kettering", "Harborlight Supply", "Account Manager"},
	{"Perpetua", "Oakes", "Quarry Lane Partners", "Project Lead"},
	{"Dagny", "Sørlie", "Nordlys Freight", "Broker"},
	{"Lucan", "Ferrow", "Ferrow Analytics", "Data Consultant"},
	{"Ottilie", "Brandvold", "Fernhollow Logistics", "Dispatcher"},
}

// The kinds of a tenant's contacts by position: three personal contacts, two implicit
// contacts, two organisation contacts.
var contactKinds = []struct{ subclass, domain, phone string }{
	{spec.PersonPersonalContact, "outside.example", "mobile"},
	{spec.PersonPersonalContact, "outside.example", "mobile"},
	{spec.PersonPersonalContact, "outside.example", "mobile"},
	{spec.PersonImplicitContact, "correspondence.example", ""},
	{spec.PersonImplicitContact, "correspondence.example", ""},
	{spec.PersonOrganizationContact, "supplier.example", "business"},
	{spec.PersonOrganizationContact, "supplier.example", "business"},
}

// contacts returns the tenant's contact fixtures in contactKinds order, without scores.
func (ts *tenantState) contacts() []Person {
	off := int(hash32(ts.ID) % uint32(len(contactPool)))
	out := make([]Person, 0, len(contactKinds))
	for i, k := range contactKinds {
		t := contactPool[(off+i)%len(contactPool)]
		p := Person{ID: guid(ts.ID, "person-contact", fmt.Sprint(i)),
			DisplayName: t.given + " " + t.surname, GivenName: t.given, Surname: t.surname,
			Emails: []string{upnLocal(t.given) + "." + upnLocal(t.surname) + "@" + k.domain},
			Class:  spec.PersonClassPerson, Subclass: k.subclass}
		if k.subclass != spec.PersonImplicitContact {
			p.CompanyName, p.JobTitle = t.company, t.job
		}
		if k.phone != "" {
			// Ofcom's numbers for drama (020 7946 0000–0999), so that no contact shares a
			// number with a user (users have +1 555 01xx).
			p.Phones = []Phone{{k.phone, fmt.Sprintf("+44 20 7946 0%03d", 160+i+10*int(hash32(ts.ID)%50))}}
		}
		out = append(out, p)
	}
	return out
}

// contactsFor picks u's four contacts from the tenant's: two distinct personal
// contacts, an implicit contact and an organisation contact.
func (ts *tenantState) contactsFor(u *User) [4]Person {
	all := ts.contacts()
	h := int(hash32(u.ID) % 12)
	return [4]Person{all[h%3], all[(h+1)%3], all[3+h%2], all[5+(h/2)%2]}
}

// People returns the relevant people of a user found by id or userPrincipalName, in rank
// order, as GET /v1.0/users/{id}/people lists them without $search: organisation users
// (deactivated ones included) and contacts. A guest has none (the API answers 404
// MailboxNotEnabledForRESTAPI; see handlePeople).
func (e *Emulator) People(tenantID, idOrUPN string) ([]Person, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts, u, err := e.userOf(tenantID, idOrUPN)
	if err != nil || u.UserType == "Guest" {
		return nil, err
	}
	return ts.relevantOf(u), nil
}

// Contacts returns the contact fixtures of a tenant (id or domain): the outside people
// (personal, implicit and organisation contacts) that appear in its users' people lists
// and that a gateway must never show. It returns nil for an unknown tenant.
func (e *Emulator) Contacts(tenantID string) []Person {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts := e.tenant(tenantID)
	if ts == nil {
		return nil
	}
	return ts.contacts()
}
