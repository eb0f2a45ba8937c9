package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// The control API (JSON, no authentication: the emulator is a local test tool):
//
//	GET    /_emulator/directory                  DirectoryInfo
//	GET    /_emulator/ca.pem                     the CA certificate
//	GET    /_emulator/requests                   the request log; DELETE empties it
//	GET    /_emulator/count?route=T              {"count": n} (HTTP requests, not batch items)
//	PUT    /_emulator/faults                     {"route","latency_ms","error_rate","status","omit_retry_after"}
//	DELETE /_emulator/faults                     reset faults, throttling, outage and the revoke answer
//	PUT    /_emulator/throttle                   {"budget","window_ms","retry_after_seconds","omit_retry_after"}
//	PUT    /_emulator/revoke                     {"answer": "tenant"|"200"|"204"} (see RevokeAnswer)
//	PUT    /_emulator/outage                     {"on": true|false}
//	POST   /_emulator/users                      {"tenant": "...", "user": User} => 201 User
//	GET    /_emulator/users/{tenant}/{id}        the full User record
//	PATCH  /_emulator/users/{tenant}/{id}        {"accountEnabled": bool}
//	PUT    /_emulator/presence/{tenant}/{id}     {"availability","activity"}
//	POST   /_emulator/keys/{tenant}/rotate       {"kid": new kid}
//	POST   /_emulator/keys/{tenant}/retire       retire all but the newest key
//	POST   /_emulator/token                      {"tenant","client_id","user","roles","audience","ttl_seconds","version","profile"}
//	PUT    /_emulator/replication                {"delay_ms": n} (see SetReplicationDelay)

// controlRoutes lists the control API.
func (e *Emulator) controlRoutes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /_emulator/directory", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONType(w, http.StatusOK, "application/json", e.Directory())
	})
	m.HandleFunc("GET /_emulator/ca.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(e.CACertPEM())
	})
	m.HandleFunc("GET /_emulator/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONType(w, http.StatusOK, "application/json", map[string]any{"requests": e.Requests()})
	})
	m.HandleFunc("DELETE /_emulator/requests", func(w http.ResponseWriter, _ *http.Request) {
		e.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /_emulator/count", func(w http.ResponseWriter, r *http.Request) {
		writeJSONType(w, http.StatusOK, "application/json", map[string]int{"count": e.Count(r.URL.Query().Get("route"))})
	})
	m.HandleFunc("PUT /_emulator/faults", e.ctlFault)
	m.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, _ *http.Request) {
		e.ResetFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("PUT /_emulator/throttle", e.ctlThrottle)
	m.HandleFunc("PUT /_emulator/outage", e.ctlOutage)
	m.HandleFunc("PUT /_emulator/revoke", e.ctlRevoke)
	m.HandleFunc("POST /_emulator/users", e.ctlAddUser)
	m.HandleFunc("GET /_emulator/users/{tenant}/{id}", e.ctlGetUser)
	m.HandleFunc("PATCH /_emulator/users/{tenant}/{id}", e.ctlPatchUser)
	m.HandleFunc("PUT /_emulator/presence/{tenant}/{id}", e.ctlPresence)
	m.HandleFunc("POST /_emulator/keys/{tenant}/rotate", e.ctlRotate)
	m.HandleFunc("POST /_emulator/keys/{tenant}/retire", e.ctlRetire)
	m.HandleFunc("POST /_emulator/token", e.ctlToken)
	m.HandleFunc("PUT /_emulator/replication", e.ctlReplication)
	return m
}

// ctlError writes {"error": msg} with a status derived from err.
func ctlError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrTenantNotFound), errors.Is(err, ErrUserNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	}
	writeJSONType(w, status, "application/json", map[string]string{"error": err.Error()})
}

// decode reads a JSON request body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		ctlError(w, errors.New("emulator: invalid JSON body"))
		return false
	}
	return true
}

func (e *Emulator) ctlFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Route          string  `json:"route"`
		LatencyMS      float64 `json:"latency_ms"`
		ErrorRate      float64 `json:"error_rate"`
		Status         int     `json:"status"`
		OmitRetryAfter bool    `json:"omit_retry_after"`
	}
	if decode(w, r, &req) {
		e.SetFault(req.Route, Fault{Latency: time.Duration(req.LatencyMS * float64(time.Millisecond)),
			ErrorRate: req.ErrorRate, Status: req.Status, OmitRetryAfter: req.OmitRetryAfter})
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Emulator) ctlThrottle(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Budget            int     `json:"budget"`
		WindowMS          float64 `json:"window_ms"`
		RetryAfterSeconds float64 `json:"retry_after_seconds"`
		OmitRetryAfter    int     `json:"omit_retry_after"`
	}
	if decode(w, r, &req) {
		e.SetThrottle(Throttle{Budget: req.Budget, Window: time.Duration(req.WindowMS * float64(time.Millisecond)),
			RetryAfter: time.Duration(req.RetryAfterSeconds * float64(time.Second)), OmitRetryAfter: req.OmitRetryAfter})
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Emulator) ctlRevoke(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Answer string `json:"answer"`
	}
	if !decode(w, r, &req) {
		return
	}
	answers := map[string]RevokeAnswer{"tenant": RevokeByTenant, "": RevokeByTenant, "200": RevokeOKTrue, "204": RevokeNoContent}
	a, ok := answers[req.Answer]
	if !ok {
		ctlError(w, errors.New(`emulator: answer must be "tenant", "200" or "204"`))
		return
	}
	e.SetRevokeAnswer(a)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlOutage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		On bool `json:"on"`
	}
	if decode(w, r, &req) {
		e.SetOutage(req.On)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Emulator) ctlAddUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tenant string `json:"tenant"`
		User   User   `json:"user"`
	}
	if !decode(w, r, &req) {
		return
	}
	u, err := e.AddUser(req.Tenant, req.User)
	if err != nil {
		ctlError(w, err)
		return
	}
	writeJSONType(w, http.StatusCreated, "application/json", u)
}

func (e *Emulator) ctlGetUser(w http.ResponseWriter, r *http.Request) {
	u, ok := e.User(r.PathValue("tenant"), r.PathValue("id"))
	if !ok {
		ctlError(w, ErrUserNotFound)
		return
	}
	writeJSONType(w, http.StatusOK, "application/json", u)
}

func (e *Emulator) ctlPatchUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccountEnabled *bool `json:"accountEnabled"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.AccountEnabled != nil {
		if err := e.SetAccountEnabled(r.PathValue("tenant"), r.PathValue("id"), *req.AccountEnabled); err != nil {
			ctlError(w, err)
			return
		}
	}
	e.ctlGetUser(w, r)
}

func (e *Emulator) ctlPresence(w http.ResponseWriter, r *http.Request) {
	var p Presence
	if !decode(w, r, &p) {
		return
	}
	if err := e.SetPresence(r.PathValue("tenant"), r.PathValue("id"), p); err != nil {
		ctlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlRotate(w http.ResponseWriter, r *http.Request) {
	kid, err := e.RotateSigningKey(r.PathValue("tenant"))
	if err != nil {
		ctlError(w, err)
		return
	}
	writeJSONType(w, http.StatusOK, "application/json", map[string]string{"kid": kid})
}

func (e *Emulator) ctlRetire(w http.ResponseWriter, r *http.Request) {
	if err := e.RetireOldSigningKeys(r.PathValue("tenant")); err != nil {
		ctlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tenant     string   `json:"tenant"`
		ClientID   string   `json:"client_id"`
		User       string   `json:"user"`
		Roles      []string `json:"roles"`
		Audience   string   `json:"audience"`
		TTLSeconds float64  `json:"ttl_seconds"`
		Version    int      `json:"version"`
		Profile    bool     `json:"profile"`
	}
	if !decode(w, r, &req) {
		return
	}
	tok, err := e.MintToken(TokenRequest{TenantID: req.Tenant, ClientID: req.ClientID, UserID: req.User,
		Roles: req.Roles, Audience: req.Audience, TTL: time.Duration(req.TTLSeconds * float64(time.Second)),
		Version: req.Version, Profile: req.Profile})
	if err != nil {
		ctlError(w, err)
		return
	}
	writeJSONType(w, http.StatusOK, "application/json", map[string]string{"access_token": tok})
}
