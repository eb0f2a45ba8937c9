package emulator

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	"github.com/graphgate/graphgate/graph/spec"
)

// RevokeAnswer is how POST /users/{id}/revokeSignInSessions answers a success. Graph
// documents that the API "should return a 204 No content response for successful
// revocations … However, due to a service issue, this API returns a 200 OK and a
// Boolean parameter that is always true. Until this is fixed, you can treat any 2xx
// return code as success for this API"
// (https://learn.microsoft.com/en-us/graph/known-issues#revoke-sign-in-sessions-returns-wrong-http-code).
// The emulator answers both, so clients must accept either.
type RevokeAnswer int

const (
	// RevokeByTenant (the default) alternates by tenant in directory order: the first
	// tenant answers 200 {"value": true} (Graph today), the second 204 (Graph once
	// fixed), the third 200, and so on.
	RevokeByTenant RevokeAnswer = iota
	// RevokeOKTrue answers 200 with {"@odata.context": …, "value": true}.
	RevokeOKTrue
	// RevokeNoContent answers 204 No Content without a body.
	RevokeNoContent
)

// SetRevokeAnswer selects how revokeSignInSessions answers a success; ResetFaults
// restores RevokeByTenant.
func (e *Emulator) SetRevokeAnswer(a RevokeAnswer) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.revoke = a
}

// revokeAnswer resolves the answer for a tenant; callers hold e.mu.
func (e *Emulator) revokeAnswer(ts *tenantState) RevokeAnswer {
	e.faults.mu.Lock()
	a := e.faults.revoke
	e.faults.mu.Unlock()
	if a != RevokeByTenant {
		return a
	}
	for i, t := range e.tenants {
		if t == ts && i%2 == 1 {
			return RevokeNoContent
		}
	}
	return RevokeOKTrue
}

// handleRevoke serves POST /v1.0/users/{id}/revokeSignInSessions (by id or
// userPrincipalName: https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions).
func (e *Emulator) handleRevoke(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := userKey(r)
	e.mu.Lock()
	u := ts.lookup(id)
	if u != nil {
		e.recordChange(ts, u.ID, u)
		u.SignInSessionsValidFromDateTime = e.now().UTC().Truncate(time.Second)
	}
	answer := e.revokeAnswer(ts)
	e.mu.Unlock()
	switch {
	case u == nil:
		notFound(w, r, id)
	case answer == RevokeNoContent:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, ordered{
			{"@odata.context", e.url + "/v1.0/$metadata#Edm.Boolean"},
			{"value", true},
		})
	}
}

// Presence is a user's availability and activity as Graph reports them.
type Presence struct {
	Availability string `json:"availability"`
	Activity     string `json:"activity"`
}

// presences are the deterministic presences users get by default.
var presences = []Presence{
	{"Available", "Available"}, {"Busy", "InACall"}, {"Busy", "InAMeeting"}, {"Away", "Away"},
	{"BeRightBack", "BeRightBack"}, {"DoNotDisturb", "Presenting"}, {"Offline", "OffWork"},
	{"Available", "Available"},
}

// presenceOf returns a user's presence (override, else derived from the id); callers hold e.mu.
func (ts *tenantState) presenceOf(u *User) Presence {
	if p, ok := ts.presence[u.ID]; ok {
		return p
	}
	if !u.AccountEnabled {
		return Presence{"Offline", "Offline"}
	}
	h := fnv.New32a()
	h.Write([]byte(u.ID))
	return presences[h.Sum32()%uint32(len(presences))]
}

// SetPresence overrides a user's presence.
func (e *Emulator) SetPresence(tenantID, id string, p Presence) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts, u, err := e.userOf(tenantID, id)
	if err != nil {
		return err
	}
	ts.presence[u.ID] = p
	return nil
}

// presenceJSON renders a presence resource.
func presenceJSON(id string, p Presence) ordered {
	return ordered{{"id", id}, {"availability", p.Availability}, {"activity", p.Activity},
		{"statusMessage", nil}, {"outOfOfficeSettings", ordered{{"message", nil}, {"isOutOfOffice", false}}}}
}

// errPresenceID is the message of the 400 answering a presence read by anything but an
// object id. Graph serves presence by object id only: "GET /users/{id}/presence"
// (https://learn.microsoft.com/en-us/graph/api/presence-get) and "ids: The user object
// IDs" (https://learn.microsoft.com/en-us/graph/api/cloudcommunications-getpresencesbyuserid);
// a userPrincipalName is refused (microsoftgraph/msgraph-sdk-dotnet#1942: "presence must
// have id and doesn't work with UserPrincipalName"). Graph's exact wording is not
// documented; the code is Graph's generic BadRequest.
const errPresenceID = "Invalid user id: presence is read by user object id (GUID), not by userPrincipalName."

// handlePresence serves GET /v1.0/users/{id}/presence.
func (e *Emulator) handlePresence(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := userKey(r)
	if !spec.IsObjectID(id) {
		graphError(w, r, http.StatusBadRequest, "BadRequest", errPresenceID)
		return
	}
	e.mu.RLock()
	u := ts.lookup(id)
	var p Presence
	if u != nil {
		p = ts.presenceOf(u)
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#users('" + u.ID + "')/presence/$entity"}
	writeJSON(w, http.StatusOK, append(ordered{ctx}, presenceJSON(u.ID, p)...))
}

// handlePresences serves POST /v1.0/communications/getPresencesByUserId: at most
// spec.MaxPresenceIDs object ids ("Maximum of 650 user IDs are supported per API
// request", https://learn.microsoft.com/en-us/graph/api/cloudcommunications-getpresencesbyuserid).
func (e *Emulator) handlePresences(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	var req struct {
		IDs []string `json:"ids"`
	}
	raw, err := readAllLimited(r.Body)
	if err != nil || json.Unmarshal(raw, &req) != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "The request body is not valid JSON.")
		return
	}
	switch {
	case len(req.IDs) == 0:
		graphError(w, r, http.StatusBadRequest, "BadRequest", "The 'ids' parameter is required and must not be empty.")
		return
	case len(req.IDs) > spec.MaxPresenceIDs:
		graphError(w, r, http.StatusBadRequest, "BadRequest", "The number of ids exceeds the maximum of "+strconv.Itoa(spec.MaxPresenceIDs)+".")
		return
	}
	for _, id := range req.IDs {
		if !spec.IsObjectID(id) {
			graphError(w, r, http.StatusBadRequest, "BadRequest", errPresenceID)
			return
		}
	}
	value := make([]ordered, 0, len(req.IDs))
	e.mu.RLock()
	for _, id := range req.IDs {
		p := Presence{"PresenceUnknown", "PresenceUnknown"}
		if u := ts.lookup(id); u != nil {
			p = ts.presenceOf(u)
		}
		value = append(value, presenceJSON(id, p))
	}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, ordered{{"@odata.context", e.url + "/v1.0/$metadata#Collection(microsoft.graph.presence)"}, {"value", value}})
}
