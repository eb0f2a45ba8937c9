package proxy

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"

	"github.com/graphgate/graphgate/proxy/privacy"
)

// handlePrivacy serves the record of processing (proxy/privacy): JSON by default and for
// Accept: application/json, a readable HTML page for browsers (or ?format=html).
func handlePrivacy(notice *privacy.Notice) gin.HandlerFunc {
	return func(c *gin.Context) {
		format := c.Query("format")
		if format == "" {
			format = "json"
			if c.NegotiateFormat(binding.MIMEJSON, binding.MIMEHTML) == binding.MIMEHTML {
				format = "html"
			}
		}
		c.Writer.Header().Add("Vary", "Accept") // added to the CORS middleware's Vary: Origin
		switch format {
		case "json":
			c.Header("Content-Security-Policy", privacy.JSONCSP)
			c.JSON(http.StatusOK, notice)
		case "html":
			page, err := notice.HTML()
			if err != nil {
				abortWithError(c, errInternal(err))
				return
			}
			c.Header("Content-Security-Policy", privacy.CSP)
			c.Data(http.StatusOK, "text/html; charset=utf-8", page)
		default:
			abortWithError(c, errBadRequest("Unsupported format; use json or html."))
		}
	}
}
