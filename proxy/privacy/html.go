package privacy

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the page template
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/graphgate/graphgate/proxy/usage"
)

//go:embed privacy.html.tmpl
var pageText string

// css is the page's only style sheet. It is inlined and allowed by its hash in CSP; the
// page has no script at all.
const css = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}` +
	`main{max-width:52rem;margin:0 auto;padding:1.5rem}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}` +
	`section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}` +
	`dt{font-weight:600}dd{margin:0 0 .5rem 0}code{font-size:.9em;background:#f0f0f0;padding:0 .2em;border-radius:3px}` +
	`.summary{font-size:1.1rem}`

// JSONCSP is the Content-Security-Policy to serve with the record as JSON: nothing may
// load, and no page may frame it.
const JSONCSP = "default-src 'none'; frame-ancestors 'none'"

// CSP is the Content-Security-Policy to serve with the page HTML renders: it allows the
// page's inline style sheet, by its hash, and nothing else (no script, no image, no
// form, no framing). It is computed from the style sheet; do not modify it.
var CSP = pageCSP(css)

var page = template.Must(template.New("privacy").Parse(pageText))

// pageCSP returns a policy allowing exactly the style sheet style.
func pageCSP(style string) string {
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// HTML renders the record as a self-contained HTML page, to be served with CSP. Every
// configured text is escaped.
func (n *Notice) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, struct {
		N   *Notice
		CSS template.CSS
	}{n, template.CSS(css)}); err != nil {
		return nil, fmt.Errorf("privacy: render page: %w", err)
	}
	return buf.Bytes(), nil
}

// HumanDuration renders a retention period for people: "95 minutes", "13 months". A
// whole number of days of at least 60 days reads as months when it is within a day of
// a whole number of months of usage.DaysPerMonth days.
func HumanDuration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= 60*day && d%day == 0:
		days := float64(d / day)
		if months := math.Round(days / usage.DaysPerMonth); math.Abs(months*usage.DaysPerMonth-days) <= 1 {
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
