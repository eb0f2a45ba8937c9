package proxy

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the privacy page template
	"encoding/base64"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
)

//go:embed privacyassets/privacy.html.tmpl
var privacyPageText string

// privacyCSS is the page's only style sheet. It is inlined and allowed by its hash in the
// Content-Security-Policy; the page has no script at all.
const privacyCSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}` +
	`main{max-width:52rem;margin:0 auto;padding:1.5rem}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}` +
	`section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}` +
	`dt{font-weight:600}dd{margin:0 0 .5rem 0}code{font-size:.9em;background:#f0f0f0;padding:0 .2em;border-radius:3px}` +
	`.summary{font-size:1.1rem}`

var (
	privacyPage = template.Must(template.New("privacy").Parse(privacyPageText))
	// privacyCSP allows the inline style sheet by hash and nothing else.
	privacyCSP = func() string {
		sum := sha256.Sum256([]byte(privacyCSS))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	}()
)

// handlePrivacy serves the record of processing: JSON by default and for
// Accept: application/json, a readable HTML page for browsers (or ?format=html).
func (s *Server) handlePrivacy() gin.HandlerFunc {
	return func(c *gin.Context) {
		format := c.Query("format")
		if format == "" {
			format = "json"
			if c.NegotiateFormat(binding.MIMEJSON, binding.MIMEHTML) == binding.MIMEHTML {
				format = "html"
			}
		}
		c.Header("Vary", "Accept")
		switch format {
		case "json":
			c.Header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			c.JSON(http.StatusOK, s.notice)
		case "html":
			var buf bytes.Buffer
			if err := privacyPage.Execute(&buf, struct {
				N   *privacyNotice
				CSS template.CSS
			}{s.notice, template.CSS(privacyCSS)}); err != nil {
				abortWithError(c, errInternal(err))
				return
			}
			c.Header("Content-Security-Policy", privacyCSP)
			c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
		default:
			abortWithError(c, errBadRequest("Unsupported format; use json or html."))
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// humanDuration renders a retention period for people: "95 minutes", "13 months".
func humanDuration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= 60*day && d%day == 0:
		days := float64(d / day)
		if months := math.Round(days / 30.44); math.Abs(months*30.44-days) <= 1 {
			return plural(int(months), "month")
		}
		return plural(int(days), "day")
	case d >= day && d%day == 0:
		return plural(int(d/day), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	default:
		return plural(int(d/time.Second), "second")
	}
}

func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}
