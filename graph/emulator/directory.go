package emulator

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"time"
)

// Sentinel errors returned by the Go API; compare them with errors.Is.
var (
	// ErrTenantNotFound reports an unknown tenant id or domain.
	ErrTenantNotFound = errors.New("emulator: tenant not found")
	// ErrUserNotFound reports an unknown user id or userPrincipalName.
	ErrUserNotFound = errors.New("emulator: user not found")
	// ErrConflict reports a user whose id or userPrincipalName already exists.
	ErrConflict = errors.New("emulator: user already exists")
	// ErrInvalid reports an argument the emulator cannot use.
	ErrInvalid = errors.New("emulator: invalid argument")
)

// Directory is the fictitious content of the emulated Entra ID: tenants with their app
// registrations and users. New deep-copies it, so a Directory can be reused.
type Directory struct {
	// Tenants lists the tenants; the first one is the "home" tenant of demos.
	Tenants []*Tenant
}

// Tenant is one Entra tenant with the gateway's app registration and its users.
type Tenant struct {
	// ID is the tenant id (a GUID); Domain its verified domain (e.g. contoso.example).
	ID, Domain string
	// Name is a short display name (e.g. "Contoso").
	Name string
	// GatewayAppID and GatewayClientSecret are the gateway app registration's client id and
	// secret in this tenant. GatewayServicePrincipalID is the oid of its service principal.
	GatewayAppID, GatewayClientSecret, GatewayServicePrincipalID string
	// GatewayGraphRoles are the Graph application permissions granted to the gateway app;
	// nil means User.Read.All, Presence.Read.All, User.RevokeSessions.All and
	// People.Read.All.
	GatewayGraphRoles []string
	// AccessTokenAcceptedVersion is the gateway app registration's manifest setting of
	// that name: 0 (unset, null in the manifest) or 1 gives v1.0 access tokens, as on
	// Entra; 2 gives v2.0 tokens.
	AccessTokenAcceptedVersion int
	// Password is the demo password shared by all users of the tenant.
	Password string
	// Clients are the public client apps allowed to request the gateway's scope.
	Clients []ClientApp
	// Users are the tenant's users in directory order.
	Users []User
}

// ClientApp is a client application registration.
type ClientApp struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// User is the full fixture record of a user: every Graph property graphgate uses, plus
// emulator-only fields (manager, app roles, photo flag).
type User struct {
	ID                              string    `json:"id"`
	DisplayName                     string    `json:"displayName"`
	GivenName                       string    `json:"givenName,omitempty"`
	Surname                         string    `json:"surname,omitempty"`
	JobTitle                        string    `json:"jobTitle,omitempty"`
	Department                      string    `json:"department,omitempty"`
	Mail                            string    `json:"mail,omitempty"`
	UserPrincipalName               string    `json:"userPrincipalName"`
	MobilePhone                     string    `json:"mobilePhone,omitempty"`
	BusinessPhones                  []string  `json:"businessPhones,omitempty"`
	OfficeLocation                  string    `json:"officeLocation,omitempty"`
	PreferredLanguage               string    `json:"preferredLanguage,omitempty"`
	CompanyName                     string    `json:"companyName,omitempty"`
	City                            string    `json:"city,omitempty"`
	Country                         string    `json:"country,omitempty"`
	EmployeeID                      string    `json:"employeeId,omitempty"`
	AccountEnabled                  bool      `json:"accountEnabled"`
	SignInSessionsValidFromDateTime time.Time `json:"signInSessionsValidFromDateTime"`
	CreatedDateTime                 time.Time `json:"createdDateTime"`
	UsageLocation                   string    `json:"usageLocation,omitempty"`
	// UserType is "Member" or "Guest" ("" means Member, Entra's default for users
	// created in the tenant: https://learn.microsoft.com/graph/api/resources/user#properties).
	UserType string `json:"userType,omitempty"`
	// ManagerID is the id of the user's manager ("" for none).
	ManagerID string `json:"managerId,omitempty"`
	// Roles are the gateway app roles assigned to the user (Gateway.Admin, Gateway.Analyst).
	Roles []string `json:"roles,omitempty"`
	// HasPhoto says whether the user has a profile photo.
	HasPhoto bool `json:"hasPhoto"`
}

// clone returns a deep copy of u.
func (u User) clone() User {
	u.BusinessPhones = slices.Clone(u.BusinessPhones)
	u.Roles = slices.Clone(u.Roles)
	return u
}

// DirectoryInfo is the public summary of the directory served at GET /_emulator/directory.
type DirectoryInfo struct {
	Tenants []TenantInfo `json:"tenants"`
}

// TenantInfo is one tenant in DirectoryInfo.
type TenantInfo struct {
	ID                  string       `json:"id"`
	Domain              string       `json:"domain"`
	GatewayAppID        string       `json:"gateway_app_id"`
	GatewayClientSecret string       `json:"gateway_client_secret"`
	Scope               string       `json:"scope"`
	Password            string       `json:"password"`
	Clients             []ClientInfo `json:"clients"`
	Users               []UserInfo   `json:"users"`

	// AccessTokenVersion is the version (1 or 2) of the access tokens Entra issues for
	// the gateway app, per its registration's accessTokenAcceptedVersion.
	AccessTokenVersion int `json:"access_token_version"`
}

// ClientInfo is a client app in TenantInfo.
type ClientInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UserInfo is a user in TenantInfo.
type UserInfo struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	AccountEnabled    bool     `json:"accountEnabled"`
	Roles             []string `json:"roles"`
}

// defaultGraphRoles are the application permissions of the gateway app when none are set:
// reading users, presence and people (GET /users/{id}/people needs People.Read.All), and
// revoking sessions.
var defaultGraphRoles = []string{"User.Read.All", "Presence.Read.All", "User.RevokeSessions.All", "People.Read.All"}

// tenantState is the mutable, indexed state of one tenant; guarded by Emulator.mu.
type tenantState struct {
	Tenant
	users    []*User
	byID     map[string]*User
	byUPN    map[string]*User
	reports  map[string][]string
	presence map[string]Presence
	keys     []*signingKey
	certs    []*x509.Certificate
}

// newTenantState indexes a copy of t.
func newTenantState(t *Tenant) (*tenantState, error) {
	if t.ID == "" || t.Domain == "" || t.GatewayAppID == "" {
		return nil, errors.New("emulator: tenant needs ID, Domain and GatewayAppID")
	}
	ts := &tenantState{
		Tenant:   *t,
		byID:     make(map[string]*User, len(t.Users)),
		byUPN:    make(map[string]*User, len(t.Users)),
		reports:  map[string][]string{},
		presence: map[string]Presence{},
	}
	ts.Users = nil
	ts.Clients = slices.Clone(t.Clients)
	if ts.GatewayGraphRoles == nil {
		ts.GatewayGraphRoles = defaultGraphRoles
	}
	ts.GatewayGraphRoles = slices.Clone(ts.GatewayGraphRoles)
	for _, u := range t.Users {
		if err := ts.add(u.clone()); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// add inserts u after validating it.
func (ts *tenantState) add(u User) error {
	if u.ID == "" || u.UserPrincipalName == "" {
		return ErrInvalid
	}
	key := strings.ToLower(u.UserPrincipalName)
	if ts.byID[u.ID] != nil || ts.byUPN[key] != nil {
		return ErrConflict
	}
	p := &u
	ts.users = append(ts.users, p)
	ts.byID[u.ID] = p
	ts.byUPN[key] = p
	if u.ManagerID != "" {
		ts.reports[u.ManagerID] = append(ts.reports[u.ManagerID], u.ID)
	}
	return nil
}

// lookup finds a user by id or userPrincipalName (case-insensitive).
func (ts *tenantState) lookup(idOrUPN string) *User {
	if u := ts.byID[idOrUPN]; u != nil {
		return u
	}
	if u := ts.byID[strings.ToLower(idOrUPN)]; u != nil {
		return u
	}
	return ts.byUPN[strings.ToLower(idOrUPN)]
}

// scope returns the delegated scope clients request for the gateway API.
func (ts *tenantState) scope() string {
	return "api://" + ts.GatewayAppID + "/access_as_user"
}

// client finds a client app by id.
func (ts *tenantState) client(id string) (ClientApp, bool) {
	for _, c := range ts.Clients {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return ClientApp{}, false
}

// info summarises the tenant for DirectoryInfo.
func (ts *tenantState) info() TenantInfo {
	ti := TenantInfo{
		ID: ts.ID, Domain: ts.Domain, GatewayAppID: ts.GatewayAppID,
		GatewayClientSecret: ts.GatewayClientSecret, Scope: ts.scope(), Password: ts.Password,
		Clients: make([]ClientInfo, 0, len(ts.Clients)),
		Users:   make([]UserInfo, 0, len(ts.users)),
	}
	ti.AccessTokenVersion = ts.tokenVersion()
	for _, c := range ts.Clients {
		ti.Clients = append(ti.Clients, ClientInfo(c))
	}
	for _, u := range ts.users {
		roles := slices.Clone(u.Roles)
		if roles == nil {
			roles = []string{}
		}
		ti.Users = append(ti.Users, UserInfo{ID: u.ID, UserPrincipalName: u.UserPrincipalName,
			AccountEnabled: u.AccountEnabled, Roles: roles})
	}
	return ti
}

// tenant resolves a tenant id or domain; callers hold e.mu.
func (e *Emulator) tenant(idOrDomain string) *tenantState {
	for _, ts := range e.tenants {
		if strings.EqualFold(ts.ID, idOrDomain) || strings.EqualFold(ts.Domain, idOrDomain) {
			return ts
		}
	}
	return nil
}

// Directory returns the same data as GET /_emulator/directory.
func (e *Emulator) Directory() DirectoryInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	di := DirectoryInfo{Tenants: make([]TenantInfo, 0, len(e.tenants))}
	for _, ts := range e.tenants {
		di.Tenants = append(di.Tenants, ts.info())
	}
	return di
}

// User returns the full fixture record of a user found by id or userPrincipalName.
func (e *Emulator) User(tenantID, idOrUPN string) (User, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, u, err := e.userOf(tenantID, idOrUPN)
	if err != nil {
		return User{}, false
	}
	return u.clone(), true
}

// AddUser adds a user to a tenant. A missing ID gets a deterministic GUID, a missing
// DisplayName the userPrincipalName, a zero CreatedDateTime the current time. It returns
// the stored record.
func (e *Emulator) AddUser(tenantID string, u User) (User, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.tenant(tenantID)
	if ts == nil {
		return User{}, ErrTenantNotFound
	}
	if u.UserPrincipalName == "" || strings.ContainsAny(u.UserPrincipalName, "/?#") {
		return User{}, ErrInvalid
	}
	if u.ID == "" {
		u.ID = guid(ts.ID, "user", strings.ToLower(u.UserPrincipalName))
	}
	if u.DisplayName == "" {
		u.DisplayName = u.UserPrincipalName
	}
	if u.CreatedDateTime.IsZero() {
		u.CreatedDateTime = e.now().UTC().Truncate(time.Second)
	}
	if u.SignInSessionsValidFromDateTime.IsZero() {
		u.SignInSessionsValidFromDateTime = u.CreatedDateTime
	}
	if u.ManagerID != "" && ts.byID[u.ManagerID] == nil {
		return User{}, ErrUserNotFound
	}
	if err := ts.add(u.clone()); err != nil {
		return User{}, err
	}
	e.recordChange(ts, u.ID, nil)
	return u.clone(), nil
}

// SetAccountEnabled enables or disables a user's account.
func (e *Emulator) SetAccountEnabled(tenantID, id string, enabled bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts, u, err := e.userOf(tenantID, id)
	if err != nil {
		return err
	}
	if u.AccountEnabled != enabled {
		e.recordChange(ts, u.ID, u)
	}
	u.AccountEnabled = enabled
	return nil
}

// userOf finds a tenant and one of its users by id or userPrincipalName for the Go API;
// callers hold e.mu.
func (e *Emulator) userOf(tenantID, idOrUPN string) (*tenantState, *User, error) {
	ts := e.tenant(tenantID)
	if ts == nil {
		return nil, nil, ErrTenantNotFound
	}
	u := ts.lookup(idOrUPN)
	if u == nil {
		return nil, nil, ErrUserNotFound
	}
	return ts, u, nil
}
