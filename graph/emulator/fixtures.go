package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Fictitious name lists: every combination is invented; domains end in .example and phone
// numbers lie in the reserved +1 555 01xx range. Some names carry accents, so that
// non-ASCII personal data goes through every path (and the privacy proof looks for it).
var (
	givenNames = []string{"Adele", "Alex", "Bianca", "Caleb", "Dana", "Elio", "Farah", "Gideon",
		"Hana", "Ivo", "Jonah", "Kaia", "Lior", "Mira", "Nico", "Odette", "Pavel", "Quinn",
		"Rhea", "Søren", "Tamsin", "Uma", "Viggo", "Wren", "Xenia", "Yusuf", "Zoë", "Anouk",
		"Bram", "Cosima", "Dorian", "Elva", "Fenna", "Gus", "Hollis", "Inès", "Jasper", "Kofi",
		"Linnea", "Mateo", "Nadia", "Orson", "Petra", "Rafe", "Saskia", "Teodor", "Ulla",
		"Vesna", "Wilder", "Yara", "Zeno", "Amara", "Bastian", "Clio", "Desmond", "Esmé",
		"Flint", "Greta", "Hugo", "Ilse", "Juno", "Kasimir", "Leona", "Magnus", "Nell"}
	surnames = []string{"Vance", "Wilber", "Quillfeather", "Brightwater", "Ashdown", "Morrow",
		"Fenwick", "Larkspur", "Thornbury", "Calloway", "Ravensdale", "Whitlock", "Okonkwo",
		"Núñez", "Ångström", "Müller", "Haverford", "Delacroix-Byrne", "Stonebridge",
		"Nakamura-Lowe", "Ellsworth", "Kestrel", "Vantongeren", "Silverman", "Ardent", "Bellweather",
		"Coldwell", "Duskmoor", "Evergreen", "Foxglove", "Glenrothes", "Hallowell", "Ironwood"}
	departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Human Resources",
		"Operations", "Legal", "Research"}
	jobTitles = []string{"Engineer", "Account Executive", "Marketing Specialist", "Accountant",
		"HR Partner", "Operations Analyst", "Counsel", "Researcher"}
)

// tenantSpec describes one tenant to generate.
type tenantSpec struct {
	name, domain, company, city, country, usage, lang string
	users                                             int
}

// guid derives a deterministic version-4-shaped GUID from the parts.
func guid(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DefaultDirectory returns the demo directory: contoso (60 generated users with a CEO,
// department managers and reports, photos for about two thirds, 3 deactivated accounts,
// 2 admins, 3 analysts, then the 6 edge-case users of contosoEdgeUsers) and fabrikam
// (15 users). Each tenant has its own gateway app registration;
// the client apps chat-web, mobile and intranet-directory share their ids across tenants,
// as multi-tenant apps do. Contoso's gateway registration leaves accessTokenAcceptedVersion
// unset (v1.0 tokens, Entra's default); fabrikam's sets it to 2 (v2.0 tokens).
func DefaultDirectory() *Directory {
	return generate(7, []tenantSpec{
		{"contoso", "contoso.example", "Contoso", "Seattle", "United States", "US", "en-US", 60},
		{"fabrikam", "fabrikam.example", "Fabrikam", "Berlin", "Germany", "DE", "de-DE", 15},
	}, true)
}

// GenerateDirectory builds a large deterministic directory for benchmarks: tenants tenants
// (contoso, fabrikam, then tenant3.example, ...) with usersPerTenant users each, with the
// same shape as DefaultDirectory (hierarchy, photos, deactivated users, admins, analysts,
// and contoso's edge-case users after its generated ones).
func GenerateDirectory(seed int64, tenants, usersPerTenant int) *Directory {
	specs := make([]tenantSpec, 0, tenants)
	for i := range tenants {
		s := tenantSpec{fmt.Sprintf("tenant%d", i+1), fmt.Sprintf("tenant%d.example", i+1),
			fmt.Sprintf("Tenant %d", i+1), "Springfield", "United States", "US", "en-US", usersPerTenant}
		switch i {
		case 0:
			s.name, s.domain, s.company = "contoso", "contoso.example", "Contoso"
		case 1:
			s.name, s.domain, s.company = "fabrikam", "fabrikam.example", "Fabrikam"
		}
		specs = append(specs, s)
	}
	return generate(seed, specs, false)
}

// generate builds the directory for specs; short UPNs use the given name alone when unique.
func generate(seed int64, specs []tenantSpec, shortUPN bool) *Directory {
	d := &Directory{}
	for _, s := range specs {
		tid := guid("tenant", s.name)
		t := &Tenant{
			ID: tid, Domain: s.domain, Name: s.company,
			GatewayAppID:              guid("gateway-app", s.name),
			GatewayClientSecret:       "gw~" + guid("gateway-secret", s.name)[:23],
			GatewayServicePrincipalID: guid("gateway-sp", s.name),
			Password:                  "Demo-Passw0rd!",
		}
		if s.name == "fabrikam" {
			t.AccessTokenAcceptedVersion = 2
		}
		for _, name := range []string{"chat-web", "mobile", "intranet-directory"} {
			t.Clients = append(t.Clients, ClientApp{ID: guid("client-app", name), Name: name})
		}
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(len(d.Tenants))))
		t.Users = generateUsers(rng, s, tid, shortUPN)
		if s.name == "contoso" {
			t.Users = append(t.Users, contosoEdgeUsers(tid, s, t.Users)...)
		}
		d.Tenants = append(d.Tenants, t)
	}
	return d
}

// generateUsers builds n users: index 0 is the CEO, the next managers lead departments,
// the rest report to a manager.
func generateUsers(rng *rand.Rand, s tenantSpec, tid string, shortUPN bool) []User {
	n := s.users
	managers := min(len(departments), max(1, n/8))
	if n > 1000 {
		managers = n / 20
	}
	seen := make(map[string]int, n)
	users := make([]User, 0, n)
	base := time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC)
	for i := range n {
		gn := givenNames[i%len(givenNames)]
		if i >= len(givenNames) {
			gn = givenNames[rng.IntN(len(givenNames))]
		}
		sn := surnames[(i*7+rng.IntN(len(surnames)))%len(surnames)]
		local := upnLocal(gn)
		if !shortUPN || seen[local] > 0 {
			local = upnLocal(gn + "." + strings.ReplaceAll(sn, "-", ""))
		}
		if k := seen[local]; k > 0 {
			seen[local]++
			local = fmt.Sprintf("%s%d", local, k+1)
		} else {
			seen[local] = 1
		}
		upn := local + "@" + s.domain
		u := User{
			ID: guid(tid, "user", fmt.Sprint(i)), GivenName: gn, Surname: sn,
			DisplayName: gn + " " + sn, UserPrincipalName: upn, Mail: upn,
			BusinessPhones:    []string{fmt.Sprintf("+1 555 01%02d", i%100)},
			OfficeLocation:    fmt.Sprintf("%d/%d", 10+i%5, 1000+i%400),
			PreferredLanguage: s.lang, CompanyName: s.company, City: s.city, Country: s.country,
			UsageLocation: s.usage, EmployeeID: fmt.Sprintf("E%06d", i+1), AccountEnabled: true,
			CreatedDateTime: base.Add(time.Duration(i%2000) * 26 * time.Hour),
			HasPhoto:        i%3 != 2,
		}
		u.SignInSessionsValidFromDateTime = u.CreatedDateTime
		if i%4 != 3 {
			u.MobilePhone = fmt.Sprintf("+1 555 01%02d", (i*37+11)%100)
		}
		assignRole(&u, i, n, managers, users)
		users = append(users, u)
	}
	return users
}

// assignRole sets department, title, manager, app roles and deactivation for user i.
func assignRole(u *User, i, n, managers int, users []User) {
	switch {
	case i == 0:
		u.Department, u.JobTitle = "Executive", "Chief Executive Officer"
	case i <= managers:
		u.Department = departments[(i-1)%len(departments)]
		u.JobTitle = "Head of " + u.Department
		u.ManagerID = users[0].ID
		if managers > len(departments) && i > len(departments) {
			lead := users[1+(i-1)%len(departments)]
			u.JobTitle, u.ManagerID = "Team Lead, "+u.Department, lead.ID
		}
	default:
		m := users[1+(i-1-managers)%managers]
		u.Department, u.ManagerID = m.Department, m.ID
		u.JobTitle = jobTitles[max(0, indexOf(departments, u.Department))]
		if i%5 == 0 {
			u.JobTitle = "Senior " + u.JobTitle
		}
	}
	if n >= 10 {
		switch {
		case i == 2 || i == 11:
			u.Roles = []string{"Gateway.Admin"}
		case i == 4 || i == 13 || i == 21:
			u.Roles = []string{"Gateway.Analyst"}
		case i > managers && (i%17 == 0 || i == n-1):
			u.AccountEnabled = false
		}
	}
}

// upnFold spells the accented letters of the fixture names in ASCII: a UPN's local part
// may hold only ASCII letters, digits and a few symbols ("Characters allowed in a
// userPrincipalName", Entra ID password policies and account restrictions).
var upnFold = strings.NewReplacer("ø", "o", "ö", "o", "å", "a", "ë", "e", "è", "e", "é", "e",
	"ú", "u", "ü", "u", "ñ", "n")

// upnLocal is the lower-case ASCII local part of a UPN built from a name.
func upnLocal(name string) string { return upnFold.Replace(strings.ToLower(name)) }

// indexOf returns the position of s in list or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// Edge-case userPrincipalNames of contoso (contosoEdgeUsers). They exercise every key
// spelling clients send (DESIGN.md §8):
//   - a B2B guest, whose UPN is "{mail with @ as _}#EXT#@{tenant domain}" and must be sent
//     with "#" as %23 ("To query a B2B user using the userPrincipalName, encode the hash
//     (#) character", https://learn.microsoft.com/graph/api/user-get);
//   - a UPN starting with "$", valid in synced directories ("Prepare for directory
//     synchronization", https://learn.microsoft.com/microsoft-365/enterprise/prepare-for-directory-synchronization)
//     and refused by Graph as a path segment (/users/$x@y; microsoftgraph/msgraph-sdk-dotnet#2635);
//   - "'" (doubled inside /users('...')), "+" (a space if decoded as a query), "&" with
//     a literal "%41" (an "A" if decoded twice), and a literal "%2B" alone (a "+" if
//     decoded twice), so that each character has a user of its own.
const (
	// GuestUPN is the B2B guest Gwen Marlowe (userType Guest, mail gwen@partner.example).
	GuestUPN = "gwen_partner.example#EXT#@contoso.example"
	// DollarUPN is the reception desk account, whose UPN starts with "$".
	DollarUPN = "$reception@contoso.example"
	// ApostropheUPN is Kai O'Neill, whose manager is a deactivated user.
	ApostropheUPN = "o'neill.kai@contoso.example"
	// PlusUPN is Mara Ellery, whose UPN holds a "+".
	PlusUPN = "mara+events@contoso.example"
	// AmpPercentUPN is the R&D lab account, whose UPN holds "&" and a literal "%41".
	AmpPercentUPN = "r&d%41lab@contoso.example"
	// PercentUPN is Uma Castellan, whose UPN holds a literal "%2B" (a "+" if decoded twice).
	PercentUPN = "uma%2Bops@contoso.example"
)

// contosoEdgeUsers returns the edge-case users appended after contoso's generated users
// (so the generated ids and order stay as they were). Ids derive from the UPN as
// AddUser derives them. The guest and two others report to the first department head;
// Kai O'Neill reports to the first deactivated user that has a manager, so his
// management chain holds a deactivated manager (Graph returns it like any other).
func contosoEdgeUsers(tid string, s tenantSpec, generated []User) []User {
	head, disabled := "", ""
	if len(generated) > 1 {
		head = generated[1].ID
	}
	for _, u := range generated {
		if !u.AccountEnabled && u.ManagerID != "" {
			disabled = u.ID
			break
		}
	}
	if disabled == "" {
		disabled = head
	}
	type edge struct {
		upn, given, surname, display, mail, userType, job, dept, manager string
		photo                                                            bool
	}
	edges := []edge{
		{GuestUPN, "Gwen", "Marlowe", "Gwen Marlowe (Partner)", "gwen@partner.example", "Guest", "Partner Consultant", "", head, false},
		{DollarUPN, "", "", "Reception Desk", DollarUPN, "", "Reception", "Operations", head, false},
		{ApostropheUPN, "Kai", "O'Neill", "Kai O'Neill", ApostropheUPN, "", "Engineer", "Engineering", disabled, true},
		{PlusUPN, "Mara", "Ellery", "Mara Ellery", PlusUPN, "", "Event Coordinator", "Marketing", head, true},
		{AmpPercentUPN, "", "", "R&D Lab", AmpPercentUPN, "", "Shared Lab Account", "Research", head, true},
		{PercentUPN, "Uma", "Castellan", "Uma Castellan", PercentUPN, "", "Operations Analyst", "Operations", head, false},
	}
	base := time.Date(2024, 5, 6, 9, 0, 0, 0, time.UTC)
	users := make([]User, 0, len(edges))
	for i, x := range edges {
		u := User{ID: guid(tid, "user", strings.ToLower(x.upn)), UserPrincipalName: x.upn, Mail: x.mail,
			GivenName: x.given, Surname: x.surname, DisplayName: x.display, UserType: x.userType,
			JobTitle: x.job, Department: x.dept, ManagerID: x.manager, AccountEnabled: true,
			PreferredLanguage: s.lang, City: s.city, Country: s.country, UsageLocation: s.usage,
			CreatedDateTime: base.Add(time.Duration(i) * 24 * time.Hour), HasPhoto: x.photo}
		if x.userType == "" {
			u.CompanyName = s.company
		}
		u.SignInSessionsValidFromDateTime = u.CreatedDateTime
		users = append(users, u)
	}
	return users
}
