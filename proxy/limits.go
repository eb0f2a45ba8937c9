package proxy

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Request size limits. Bodies are bounded by requestBody (maxRequestBody); the listener
// bounds the header block (cmd/graphgate sets http.Server.MaxHeaderBytes). These limits
// hold wherever the handler is mounted.
const (
	// maxRequestURI bounds the request target (path and query). Graph itself refuses URLs
	// much longer than 2 KiB; 8 KiB leaves room for long $filter "in" lists.
	maxRequestURI = 8 << 10
	// maxHeaderValue bounds any one request header value (an Entra access token is a few KiB).
	maxHeaderValue = 16 << 10
	// maxHeaderCount bounds the number of request header values.
	maxHeaderCount = 100
)

// requestLimits refuses requests whose target or headers exceed the limits above,
// before anything parses them, in Graph's error envelope.
func requestLimits() gin.HandlerFunc {
	return func(c *gin.Context) {
		if len(c.Request.RequestURI) > maxRequestURI || len(c.Request.URL.RawQuery) > maxRequestURI {
			abortWithError(c, &apiError{Status: http.StatusRequestURITooLong, Code: "BadRequest",
				Message: "The request URL is too long."})
			return
		}
		n := 0
		for _, vs := range c.Request.Header {
			for _, v := range vs {
				n++
				if len(v) > maxHeaderValue || n > maxHeaderCount {
					abortWithError(c, &apiError{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "BadRequest",
						Message: "The request headers are too large."})
					return
				}
			}
		}
		c.Next()
	}
}
