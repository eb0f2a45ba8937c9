package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
)

// Graph application permissions that allow each kind of operation.
var (
	permRead     = []string{"User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permPresence = []string{"Presence.Read.All", "Presence.ReadWrite.All"}
	permRevoke   = []string{"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	// permPeople: "List people" with application permissions needs People.Read.All
	// (https://learn.microsoft.com/graph/api/user-list-people#permissions).
	permPeople = []string{"People.Read.All"}
)

// routes lists the whole HTTP surface; the patterns double as the request log's route
// templates. Every spelling of a user key reaches the {id} routes (keys.go).
func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	// Entra ID: v2.0 and v1.0 discovery and key sets (discovery.go), the token endpoint.
	m.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.handleDiscovery)
	m.HandleFunc("GET /{tenant}/discovery/v2.0/keys", e.handleKeys)
	m.HandleFunc("GET /{tenant}/.well-known/openid-configuration", e.handleDiscoveryV1)
	m.HandleFunc("GET /{tenant}/discovery/keys", e.handleKeysV1)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.handleToken)
	m.HandleFunc("POST /{tenant}/oauth2/token", e.handleTokenV1)
	m.HandleFunc("GET /common/UserRealm/{username}", e.handleUserRealm)
	m.HandleFunc("GET /common/userrealm/{username}", e.handleUserRealm)
	// Microsoft Graph v1.0.
	m.HandleFunc("GET /v1.0/users", e.graph(permRead, true, e.handleListUsers))
	m.HandleFunc("GET /v1.0/users/$count", e.graph(permRead, true, e.handleCount))
	m.HandleFunc("GET /v1.0/users/{id}", e.graph(permRead, true, e.handleGetUser))
	m.HandleFunc("GET /v1.0/users/{id}/manager", e.graph(permRead, true, e.handleManager))
	m.HandleFunc("GET /v1.0/users/{id}/directReports", e.graph(permRead, true, e.handleDirectReports))
	m.HandleFunc("GET /v1.0/users/{id}/directReports/$count", e.graph(permRead, true, e.handleReportsCount))
	m.HandleFunc("GET /v1.0/users/{id}/photo", e.graph(permRead, true, e.handlePhotoMeta))
	m.HandleFunc("GET /v1.0/users/{id}/photo/$value", e.graph(permRead, true, e.handlePhotoValue))
	m.HandleFunc("GET /v1.0/users/{id}/photos", e.graph(permRead, true, e.handlePhotoList))
	m.HandleFunc("GET /v1.0/users/{id}/photos/{size}", e.graph(permRead, true, e.handlePhotoMeta))
	m.HandleFunc("GET /v1.0/users/{id}/photos/{size}/$value", e.graph(permRead, true, e.handlePhotoValue))
	m.HandleFunc("GET /v1.0/users/{id}/presence", e.graph(permPresence, true, e.handlePresence))
	m.HandleFunc("GET /v1.0/users/{id}/people", e.graph(permPeople, true, e.handlePeople))
	m.HandleFunc("POST /v1.0/communications/getPresencesByUserId", e.graph(permPresence, true, e.handlePresences))
	m.HandleFunc("POST /v1.0/users/{id}/revokeSignInSessions", e.graph(permRevoke, true, e.handleRevoke))
	m.HandleFunc("POST /v1.0/$batch", e.graph(nil, false, e.handleBatch))
	m.HandleFunc("/", handleUnknown)
	return m
}

// handleUnknown answers paths the emulator does not serve the way Graph does.
func handleUnknown(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) > 1 && (segs[0] == "v1.0" || segs[0] == "beta") {
		graphError(w, r, http.StatusBadRequest, "BadRequest",
			"Resource not found for the segment '"+segs[len(segs)-1]+"'.")
		return
	}
	graphError(w, r, http.StatusNotFound, "NotFound", "The requested resource does not exist on the emulator.")
}

// decodeBody replaces a gzip-encoded request body by its plain form; a body labelled gzip
// that is not gzip is an error, as on Graph.
func decodeBody(r *http.Request) error {
	if r.Body == nil || !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return nil
	}
	raw, err := readAllLimited(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	plain, err := readAllLimited(zr)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(plain))
	r.ContentLength = int64(len(plain))
	r.Header.Del("Content-Encoding")
	return nil
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
