// Package dashboard serves the analysts' usage dashboard: a static page (HTML, CSS and
// JavaScript, with Chart.js vendored) embedded in the binary. The page loads without a
// token; its calls to the usage API (/usage/v1/...) carry a bearer token the analyst
// pastes into it, kept in the tab's sessionStorage only. Tokens are never accepted in
// URLs.
//
// Every answer carries a strict Content-Security-Policy: scripts, styles and API calls
// come from the gateway's own origin only, and the page cannot be framed.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is the policy sent with the page and its assets.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// ChartJSVersion is the version of the vendored Chart.js (assets/vendor/chart.umd.min.js).
const ChartJSVersion = "4.6.1"

// Assets returns the embedded files: index.html, app.js, style.css and vendor/.
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always holds assets/
	}
	return sub
}

// Handler serves the page at prefix (e.g. "/usage/") and its files under
// prefix+"assets/". Other paths, and directory listings, are 404.
func Handler(prefix string) http.Handler {
	files := Assets()
	static := http.StripPrefix(prefix+"assets/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		switch {
		case r.URL.Path == prefix || r.URL.Path == prefix+"index.html":
			h.Set("Cache-Control", "no-store")
			serveIndex(w, r, files)
		case strings.HasPrefix(r.URL.Path, prefix+"assets/") && !strings.HasSuffix(r.URL.Path, "/") &&
			r.URL.Path != prefix+"assets/index.html":
			// The assets hold nothing personal; let browsers keep them for a while.
			h.Set("Cache-Control", "public, max-age=3600")
			static.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, files fs.FS) {
	page, err := fs.ReadFile(files, "index.html")
	if err != nil {
		http.Error(w, "dashboard page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page)
	}
}
