package proxy

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
)

// apiError separates what the client sees (Status, Code, Message) from what is logged
// (cause). Messages never hold personal data: no ids, UPNs, names or raw paths.
type apiError struct {
	Status          int
	Code            string // Graph error code, e.g. "Request_ResourceNotFound"
	Message         string
	RetryAfter      time.Duration // sets Retry-After when > 0
	WWWAuthenticate string        // sets WWW-Authenticate when non-empty
	cause           error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Code, e.cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Code)
}

func (e *apiError) Unwrap() error { return e.cause }

// Constructors for the errors the gateway answers with. Codes follow Microsoft Graph so
// that Graph clients react as they would to Graph itself.

func errBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "BadRequest", Message: msg}
}

func errUnsupportedQuery(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: msg}
}

// Shared answers without a cause; apiError values are never modified once made.
var (
	notFound = &apiError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: "Resource does not exist or one of its queried reference-property objects are not present."}
	imageNotFound = &apiError{Status: http.StatusNotFound, Code: "ImageNotFound", Message: "The photo wasn't found."}
)

func errNotFound() *apiError      { return notFound }
func errImageNotFound() *apiError { return imageNotFound }

func errForbidden(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Message: msg}
}

func errNoRoute() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "BadRequest",
		Message: "Resource not found for the segment, or the operation is not offered by this gateway."}
}

func errMethodNotAllowed() *apiError {
	return &apiError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest",
		Message: "The HTTP method is not allowed for this resource."}
}

func errInternal(cause error) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Code: "generalException",
		Message: "An internal error occurred.", cause: cause}
}

// upstreamError maps an error from the graph package (or a gateway-side limit) to what the
// client sees. Graph's throttling becomes 429 with Retry-After; outages become 503.
func upstreamError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var te *graph.ThrottledError
	switch {
	case errors.As(err, &te):
		return &apiError{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
			Message:    "Microsoft Graph is throttling this tenant; retry after the given delay.",
			RetryAfter: max(te.RetryAfter, time.Second), cause: err}
	case errors.Is(err, graph.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: errNotFound().Message, cause: err}
	case errors.Is(err, graph.ErrBadRequest):
		return &apiError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery",
			Message: "Microsoft Graph rejected the query.", cause: err}
	case errors.Is(err, graph.ErrForbidden), errors.Is(err, graph.ErrUnauthorized):
		return &apiError{Status: http.StatusBadGateway, Code: "upstreamAccessDenied",
			Message: "The gateway's access to Microsoft Graph was denied for this tenant.", cause: err}
	default:
		return &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message: "Microsoft Graph is unavailable; retry later.", RetryAfter: 5 * time.Second, cause: err}
	}
}

// errorBody is Graph's error envelope.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// abortWithError writes err in Graph's error envelope and stops the handler chain. Any
// error that is not an *apiError is treated as an internal error: its text is logged by
// the access log, never sent.
func abortWithError(c *gin.Context, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errInternal(err)
	}
	_ = c.Error(ae)
	h := c.Writer.Header()
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	if ae.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", ae.WWWAuthenticate)
	}
	rid := requestID(c)
	c.AbortWithStatusJSON(ae.Status, errorBody{Error: errorDetail{
		Code:    ae.Code,
		Message: ae.Message,
		InnerError: innerError{
			Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       rid,
			ClientRequestID: clientRequestID(c),
		},
	}})
}
