package emulator

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	"github.com/graphgate/graphgate/graph/spec"
)

// handleManager serves GET /v1.0/users/{id}/manager.
func (e *Emulator) handleManager(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	sel, qerr := parseSelect(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := r.PathValue("id")
	e.mu.RLock()
	u := ts.lookup(id)
	var m *User
	var body ordered
	if u != nil && u.ManagerID != "" {
		if m = ts.byID[u.ManagerID]; m != nil {
			body = projectUser(m, sel, true)
		}
	}
	e.mu.RUnlock()
	switch {
	case u == nil:
		notFound(w, r, id)
	case m == nil:
		notFound(w, r, "manager")
	default:
		ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#directoryObjects" + selectSuffix(sel) + "/$entity"}
		writeJSON(w, http.StatusOK, append(ordered{ctx}, body...))
	}
}

// handleDirectReports serves GET /v1.0/users/{id}/directReports.
func (e *Emulator) handleDirectReports(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	sel, qerr := parseSelect(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := r.PathValue("id")
	e.mu.RLock()
	u := ts.lookup(id)
	value := []ordered{}
	if u != nil {
		for _, rid := range ts.reports[u.ID] {
			if rep := ts.byID[rid]; rep != nil {
				value = append(value, projectUser(rep, sel, true))
			}
		}
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	writeJSON(w, http.StatusOK, ordered{
		{"@odata.context", e.url + "/v1.0/$metadata#directoryObjects" + selectSuffix(sel)},
		{"value", value},
	})
}

// handleRevoke serves POST /v1.0/users/{id}/revokeSignInSessions.
func (e *Emulator) handleRevoke(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := r.PathValue("id")
	e.mu.Lock()
	u := ts.lookup(id)
	if u != nil {
		u.SignInSessionsValidFromDateTime = e.now().UTC().Truncate(time.Second)
	}
	e.mu.Unlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	writeJSON(w, http.StatusOK, ordered{
		{"@odata.context", e.url + "/v1.0/$metadata#Edm.Boolean"},
		{"value", true},
	})
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
	ts := e.tenant(tenantID)
	if ts == nil {
		return ErrTenantNotFound
	}
	u := ts.lookup(id)
	if u == nil {
		return ErrUserNotFound
	}
	ts.presence[u.ID] = p
	return nil
}

// presenceJSON renders a presence resource.
func presenceJSON(id string, p Presence) ordered {
	return ordered{{"id", id}, {"availability", p.Availability}, {"activity", p.Activity},
		{"statusMessage", nil}, {"outOfOfficeSettings", ordered{{"message", nil}, {"isOutOfOffice", false}}}}
}

// handlePresence serves GET /v1.0/users/{id}/presence.
func (e *Emulator) handlePresence(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := r.PathValue("id")
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

// handlePresences serves POST /v1.0/communications/getPresencesByUserId.
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
			graphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid user id: ids must be object ids (GUIDs).")
			return
		}
	}
	value := make([]ordered, 0, len(req.IDs))
	e.mu.RLock()
	for _, id := range req.IDs {
		p := Presence{"PresenceUnknown", "PresenceUnknown"}
		if u := ts.byID[id]; u != nil {
			p = ts.presenceOf(u)
		}
		value = append(value, presenceJSON(id, p))
	}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, ordered{{"@odata.context", e.url + "/v1.0/$metadata#Collection(microsoft.graph.presence)"}, {"value", value}})
}
