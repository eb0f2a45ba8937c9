package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// reqState travels with every request (and every $batch item) through the pipeline; the
// handlers fill in what the request log needs.
type reqState struct {
	requestID, clientRequestID string
	inBatch                    bool
	tenantID, appID            string
	selects                    []string
	// keyed is set when the user was addressed as /users('{key}') (keys.go): userKey
	// holds the decoded key and path the escaped path the client sent.
	keyed         bool
	userKey, path string
}

type stateKey struct{}

// state returns the request's state (a fresh one for requests that have none).
func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

// withState attaches st to r.
func withState(r *http.Request, st *reqState) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}

// odataJSON is the content type of Graph's JSON responses.
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// writeJSON writes v as Graph-style JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, odataJSON, v)
}

// writeJSONType writes v as JSON with the given status and content type.
func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := marshalNoEscape(v)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// graphError writes Graph's error envelope.
func graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	st := state(r)
	writeJSON(w, status, ordered{{"error", ordered{
		{"code", code}, {"message", msg},
		{"innerError", ordered{
			{"date", time.Now().UTC().Format("2006-01-02T15:04:05")},
			{"request-id", st.requestID},
			{"client-request-id", st.clientRequestID},
		}},
	}}})
}

// statusCode maps an HTTP status to the Graph error code the emulator uses for faults.
func statusCode(status int) (string, string) {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest", "Bad request."
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken", "Access token validation failure."
	case http.StatusForbidden:
		return "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
	case http.StatusNotFound:
		return "Request_ResourceNotFound", "Resource not found."
	case http.StatusTooManyRequests:
		return "TooManyRequests", "Too many requests, please try again later."
	case http.StatusInternalServerError:
		return "generalException", "General exception while processing."
	case http.StatusBadGateway:
		return "BadGateway", "Bad gateway."
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable", "The service is temporarily unavailable. Please retry later."
	case http.StatusGatewayTimeout:
		return "GatewayTimeout", "The gateway timed out."
	}
	return "UnknownError", http.StatusText(status)
}

// entraError writes the OAuth error JSON Entra answers on its token endpoint.
func entraError(w http.ResponseWriter, r *http.Request, status int, errCode string, aadsts int, msg string) {
	st := state(r)
	now := time.Now().UTC()
	desc := fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		aadsts, msg, st.requestID, st.clientRequestID, now.Format("2006-01-02 15:04:05Z"))
	w.Header().Set("Cache-Control", "no-store, no-cache")
	body := map[string]any{
		"error": errCode, "error_description": desc, "error_codes": []int{aadsts},
		"timestamp": now.Format("2006-01-02 15:04:05Z"), "trace_id": st.requestID,
		"correlation_id": st.clientRequestID,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	}
	body["error_description"] = strings.TrimSpace(desc)
	writeJSONType(w, status, "application/json; charset=utf-8", body)
}
