package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// mgtDir is where testdata/mgt lives: package.json and package-lock.json (which pin
// Microsoft Graph Toolkit and esbuild), page.js (the page's script) and index.html.
const mgtDir = "testdata/mgt"

// mgt is Microsoft Graph Toolkit and esbuild, with the page's script.
var mgt = &npmPackages{src: mgtDir, prefix: "graphgate-mgt-"}

// bundleMGT installs the locked toolkit (npm ci into a temp directory keyed by the
// lockfile, reused across runs), bundles page.js with esbuild into one ES module there,
// and returns the bundle. It skips (or fails, see skipOrFail) without Node.js or npm.
func bundleMGT(t *testing.T) []byte {
	t.Helper()
	dir := mgt.install(t, "Graph Toolkit", "page.js")
	out := filepath.Join(t.TempDir(), "mgt.js")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("node_modules", "esbuild", "bin", "esbuild"), "page.js",
		"--bundle", "--format=esm", "--target=es2022", "--minify", "--ignore-annotations", "--log-level=warning", "--outfile="+out)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seenRequest is one request the gateway answered, as the browser made it.
type seenRequest struct {
	Method, Path string
	// URI is the request URI as sent: escaped path and raw query.
	URI    string
	Status int
	Items  []seenItem // the items of a $batch, in answer order
}

// seenItem is one answered item of a $batch.
type seenItem struct {
	URL, Code string
	Status    int
}

// recorder wraps the gateway's handler and keeps every request's path and status, and
// for a $batch each item's URL, status and error code.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	seen []seenRequest
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	isBatch := req.Method == http.MethodPost && strings.HasSuffix(strings.ToLower(req.URL.Path), "/$batch")
	var urls map[string]string
	if isBatch {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			Requests []struct{ ID, URL string } `json:"requests"`
		}
		_ = json.Unmarshal(body, &in)
		urls = map[string]string{}
		for _, it := range in.Requests {
			urls[it.ID] = it.URL
		}
	}
	// Read the URL before the gateway routes the request (its router may rewrite it).
	s := seenRequest{Method: req.Method, Path: req.URL.Path, URI: req.URL.RequestURI()}
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK, keep: isBatch}
	r.next.ServeHTTP(cw, req)
	s.Status = cw.status
	if isBatch {
		var out struct {
			Responses []struct {
				ID     string `json:"id"`
				Status int    `json:"status"`
				Body   struct {
					Error struct{ Code string } `json:"error"`
				} `json:"body"`
			} `json:"responses"`
		}
		_ = json.Unmarshal(cw.body.Bytes(), &out)
		for _, it := range out.Responses {
			s.Items = append(s.Items, seenItem{URL: urls[it.ID], Status: it.Status, Code: it.Body.Error.Code})
		}
	}
	r.mu.Lock()
	r.seen = append(r.seen, s)
	r.mu.Unlock()
}

// reset forgets the requests seen so far.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
}

func (r *recorder) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seenRequest(nil), r.seen...)
}

// captureWriter records the status and, when keep is set, the body.
type captureWriter struct {
	http.ResponseWriter
	status int
	keep   bool
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.keep {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming responses through the wrapper.
func (w *captureWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// photoShown reports whether the colleague's card shows a loaded image.
const photoShown = `(function () {
	var el = document.getElementById('colleague');
	var img = el && el.shadowRoot && el.shadowRoot.querySelector('img');
	return !!(img && img.complete && img.naturalWidth > 0);
})()`

// photosAnswered reports whether the gateway has answered the toolkit's photo requests
// (batch items): the colleague's photo, and 404 ImageNotFound for the caller's.
func photosAnswered(seen []seenRequest, colleagueID string) bool {
	var colleague, me bool
	for _, s := range seen {
		for _, it := range s.Items {
			u := strings.ToLower(it.URL)
			colleague = colleague || it.Status == http.StatusOK && strings.HasPrefix(u, "/users/"+colleagueID+"/photo/$value")
			me = me || it.Status == http.StatusNotFound && strings.HasPrefix(u, "/me/photo")
		}
	}
	return colleague && me
}
