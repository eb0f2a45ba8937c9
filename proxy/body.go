package proxy

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxRequestBody bounds request bodies, before and after decompression.
const maxRequestBody = 1 << 20

// requestBody bounds the request body and transparently decompresses a gzip-encoded one:
// the Graph SDKs compress POST bodies such as $batch.
func requestBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body == nil || c.Request.Body == http.NoBody {
			c.Next()
			return
		}
		body := http.MaxBytesReader(c.Writer, c.Request.Body, maxRequestBody)
		switch strings.ToLower(strings.TrimSpace(c.GetHeader("Content-Encoding"))) {
		case "", "identity":
			c.Request.Body = body
		case "gzip":
			zr, err := gzip.NewReader(body)
			if err != nil {
				abortWithError(c, errBadRequest("The request body is not valid gzip."))
				return
			}
			c.Request.Body = struct {
				io.Reader
				io.Closer
			}{&cappedReader{r: zr, left: maxRequestBody}, body}
			c.Request.Header.Del("Content-Encoding")
		default:
			abortWithError(c, &apiError{Status: http.StatusUnsupportedMediaType, Code: "BadRequest",
				Message: "Unsupported Content-Encoding; use gzip or none."})
			return
		}
		c.Next()
	}
}

// errBodyTooLarge is what a decompressed request body reads as once it exceeds
// maxRequestBody: a gzip bomb fails loudly instead of being cut off into a body that
// merely looks malformed.
var errBodyTooLarge = errors.New("proxy: request body too large")

// cappedReader reads at most left bytes of r and fails with errBodyTooLarge if r holds more.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// bodyError maps a failure to read or decode a request body to the client's answer:
// 413 when the body (raw or decompressed) exceeds its limit, else 400 with msg.
func bodyError(err error, msg string) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, errBodyTooLarge) {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "BadRequest",
			Message: "The request body is too large.", cause: err}
	}
	return errBadRequest(msg)
}
