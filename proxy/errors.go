package proxy

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
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

// Shared answers without a cause; apiError values are never modified once made.
var (
	errNotFound = &apiError{Status: odata.ErrNoSuchUser.Status, Code: odata.ErrNoSuchUser.Code,
		Message: odata.ErrNoSuchUser.Message} // Graph's answer for an unknown user, one text
	errImageNotFound = &apiError{Status: http.StatusNotFound, Code: "ImageNotFound", Message: "The photo wasn't found."}
	errNoRoute       = &apiError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: "No such resource on this gateway."} // outside Graph's paths (see odata.ParsePath)
	errMethodNotAllowed = &apiError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest",
		Message: "The HTTP method is not allowed for this resource."}
	errBusy = &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
		Message:    "The gateway is at its concurrency limit toward Microsoft Graph; retry shortly.",
		RetryAfter: time.Second}
)

func errForbidden(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Message: msg}
}

func errInternal(cause error) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Code: "generalException",
		Message: "An internal error occurred.", cause: cause}
}

// apiErrorOf maps any error to what the client sees: the directory's domain errors
// (Graph's throttling becomes 429 with Retry-After, outages 503), query-option errors
// (400) and the gateway's own *apiError. Anything else is an internal error whose text
// is logged, never sent. It is the one mapping from domain errors to Graph's envelope.
func apiErrorOf(err error) *apiError {
	var ae *apiError
	var te *directory.ThrottledError
	var oe *odata.Error
	var pe *odata.PathError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &oe):
		return &apiError{Status: http.StatusBadRequest, Code: oe.Code, Message: oe.Message, cause: err}
	case errors.As(err, &pe):
		return &apiError{Status: pe.Status, Code: pe.Code, Message: pe.Message, cause: err}
	case errors.As(err, &te):
		return &apiError{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
			Message:    "Microsoft Graph is throttling this tenant; retry after the given delay.",
			RetryAfter: max(te.RetryAfter, time.Second), cause: err}
	case errors.Is(err, directory.ErrNotFound):
		return errNotFound
	case errors.Is(err, directory.ErrNoPhoto):
		return errImageNotFound
	case errors.Is(err, directory.ErrBusy):
		return errBusy
	case errors.Is(err, directory.ErrInvalid):
		return &apiError{Status: http.StatusBadRequest, Code: "BadRequest",
			Message: "The request is not valid: an identifier or option cannot be sent to Microsoft Graph as given.", cause: err}
	case errors.Is(err, directory.ErrRejected):
		return &apiError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery",
			Message: "Microsoft Graph rejected the query.", cause: err}
	case errors.Is(err, directory.ErrDenied):
		return &apiError{Status: http.StatusBadGateway, Code: "upstreamAccessDenied",
			Message: "The gateway's access to Microsoft Graph was denied for this tenant.", cause: err}
	case errors.Is(err, directory.ErrUnavailable):
		return &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message: "Microsoft Graph is unavailable; retry later.", RetryAfter: 5 * time.Second, cause: err}
	default:
		return errInternal(err)
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

// envelope is Graph's error envelope for the request's scope, dated now.
func envelope(sc *scope, code, msg string) errorBody {
	return errorBody{Error: errorDetail{Code: code, Message: msg, InnerError: innerError{
		Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
		RequestID:       sc.requestID,
		ClientRequestID: sc.clientRequestID,
	}}}
}

// abortWithError writes err in Graph's error envelope (see apiErrorOf) and stops the
// handler chain.
func abortWithError(c *gin.Context, err error) {
	ae := apiErrorOf(err)
	_ = c.Error(ae)
	h := c.Writer.Header()
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	if ae.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", ae.WWWAuthenticate)
	}
	c.AbortWithStatusJSON(ae.Status, envelope(scopeOf(c), ae.Code, ae.Message))
}
