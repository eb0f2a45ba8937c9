package scan_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

// The sample values, in the order of sample(); want refers to them by index.
const (
	name  = "Adele Vance"
	upn   = "adele.vance@contoso.example"
	oid   = "4f1c8a2e-9b3d-4c6e-8f70-1a2b3c4d5e6f"
	søren = "Søren Ångström"
	phone = "+1 555 0123"
	empID = "E000042"
	odd   = `O"Neil/HR 😀`
	logon = `CONTOSO\avance`
)

func sample(t testing.TB) *scan.Scanner {
	t.Helper()
	var vs []scan.Value
	for i, v := range []string{name, upn, oid, søren, phone, empID, odd, logon} {
		vs = append(vs, scan.Value{Label: fmt.Sprintf("value %d", i+1), Text: []byte(v)})
	}
	s, err := scan.New(vs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// want is one finding a test expects: the value (1-based, as labelled), its form and
// offset.
type want struct {
	value  int
	form   string
	offset int
}

func (w want) String() string { return fmt.Sprintf("value %d as %s at %d", w.value, w.form, w.offset) }

// check fails unless the findings are exactly the wanted ones.
func check(t *testing.T, got []scan.Finding, wants ...want) {
	t.Helper()
	var g []string
	for _, f := range got {
		g = append(g, fmt.Sprintf("%s as %s at %d", f.Value.Label, f.Form, f.Offset))
	}
	var w []string
	for _, x := range wants {
		w = append(w, x.String())
	}
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func sum256(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// jwt returns an unsigned-looking JWT whose payload is the given JSON, and the offset of
// the payload in it.
func jwt(payload string) (string, int) {
	head := b64url(`{"alg":"RS256","typ":"JWT","kid":"k1"}`) + "."
	return head + b64url(payload) + "." + b64url("signature bytes of the token"), len(head)
}

// b64at returns where the byte at index j of a base64 text's decoded content starts.
func b64at(j int) int { return 4*(j/3) + j%3 }

func TestForms(t *testing.T) {
	s := sample(t)
	payload := `{"aud":"api://graphgate","oid":"` + oid + `","tid":"t"}`
	token, pay := jwt(payload)
	escaped := `{"name":"S\u00f8ren \u00c5ngstr\u00f6m"}`
	tokenEsc, payEsc := jwt(escaped)
	logLine := `{"level":"debug","msg":"auth header \u0022Bearer `
	tests := []struct {
		name  string
		data  string
		wants []want
	}{
		{"plain, any case, inside words", "xADELE VANCEx|adele vanceAdele Vance", []want{{1, "plain", 1}, {1, "plain", 14}, {1, "plain", 25}}},
		{"plain UPN in a route", "GET /v1.0/users/Adele.Vance@Contoso.Example/photo", []want{{2, "plain", 16}}},
		{"plain upper-case object id", "id=" + strings.ToUpper(oid), []want{{3, "plain", 3}}},
		{"plain NFD", "n=" + norm.NFD.String(søren), []want{{4, "plain", 2}}},
		{"plain upper-case non-ASCII", "n=" + strings.ToUpper(søren), []want{{4, "plain", 2}}},
		{"plain phone and id", "tel:+1 555 0123;emp=E000042", []want{{5, "plain", 4}, {6, "plain", 20}}},
		{"percent %20", "q=Adele%20Vance&x", []want{{1, "percent-encoded", 2}}},
		{"percent plus", "q=adele+vance", []want{{1, "percent-encoded", 2}}},
		{"percent first letter", "q=%41dele%20vance", []want{{1, "percent-encoded", 2}}},
		{"percent @ lower hex", "upn=adele.vance%40contoso.example", []want{{2, "percent-encoded", 4}}},
		{"percent UTF-8", "n=" + url.QueryEscape(søren), []want{{4, "percent-encoded", 2}}},
		{"percent phone lower hex", "p=%2b1%20555%200123", []want{{5, "percent-encoded", 2}}},
		{"percent double", "upn=adele.vance%2540contoso.example", []want{{2, "percent-encoded > percent-encoded", 4}}},
		{"JSON \\u00xx", `{"n":"S\u00f8ren \u00c5ngstr\u00f6m"}`, []want{{4, "JSON-escaped", 6}}},
		{"JSON first letter", `"\u0041dele Vance"`, []want{{1, "JSON-escaped", 1}}},
		{"JSON upper hex", `"adele.vance\u0040CONTOSO.example"`, []want{{2, "JSON-escaped", 1}}},
		{"JSON quote, slash, surrogate pair", `"O\"Neil\/HR \ud83d\ude00"`, []want{{7, "JSON-escaped", 1}}},
		{"JSON backslash", `{"logon":"contoso\\AVANCE"}`, []want{{8, "JSON-escaped", 10}}},
		{"HTML named", "<b>S&oslash;ren &Aring;ngstr&ouml;m</b>", []want{{4, "HTML-escaped", 3}}},
		{"HTML numeric", "<td>Adele&#32;Vance</td><td>adele.vance&#x40;contoso.example</td>", []want{{1, "HTML-escaped", 4}, {2, "HTML-escaped", 28}}},
		{"HTML plus", "&#43;1 555 0123", []want{{5, "HTML-escaped", 0}}},
		{"base64", "photo=" + b64(name), []want{{1, "base64", 6}}},
		{"base64 of JSON", "blob " + b64(`{"displayName":"Adele Vance"}`), []want{{1, "base64", 5 + b64at(16)}}},
		{"base64 glued to other text", "abc" + b64(upn), []want{{2, "base64", 3}}},
		{"base64url unpadded", "state=" + b64url(søren) + "&x", []want{{4, "base64url", 6}}},
		{"JWT payload", "Bearer " + token, []want{{3, "base64url", 7 + pay + b64at(strings.Index(payload, oid))}}},
		{"JWT in a JSON-escaped log line", logLine + token + `\u0022"}`, []want{{3, "base64url", len(logLine) + pay + b64at(strings.Index(payload, oid))}}},
		{"JWT payload JSON-escaped", tokenEsc, []want{{4, "base64url > JSON-escaped", payEsc + b64at(strings.Index(escaped, `S\u00f8`))}}},
		{"hex", "id=" + hex.EncodeToString([]byte(empID)), []want{{6, "hex", 3}}},
		{"hex upper, odd alignment", "x" + strings.ToUpper(hex.EncodeToString([]byte(name))), []want{{1, "hex", 1}}},
		{"SHA-256 hex", "h=" + hex.EncodeToString(sum256(upn)), []want{{2, "SHA-256 (hex)", 2}}},
		{"SHA-256 of upper case, base64url", "h=" + base64.RawURLEncoding.EncodeToString(sum256(strings.ToUpper(upn))), []want{{2, "SHA-256 (base64url)", 2}}},
		{"SHA-1 base64", fmt.Sprintf("h=%s", base64.StdEncoding.EncodeToString(sha1Sum(strings.ToLower(name)))), []want{{1, "SHA-1 (base64)", 2}}},
		{"MD5 hex upper", "etag=" + strings.ToUpper(hex.EncodeToString(md5Sum(oid))), []want{{3, "MD5 (hex)", 5}}},
		{"percent inside JSON", `{"url":"/users?$filter=displayName%20eq%20%27Adele%20Vance%27"}`, []want{{1, "percent-encoded", 45}}},
		{"JSON-escaped percent", `{"q":"Adele\u002520Vance"}`, []want{{1, "JSON-escaped > percent-encoded", 6}}},
		{"base64 of escaped JSON", "b=" + b64(`{"n":"S\u00f8ren \u00c5ngstr\u00f6m"}`), []want{{4, "base64 > JSON-escaped", 2 + b64at(6)}}},
		{`\x-escaped (nginx)`, `"GET /s?n=S\xC3\xB8ren \xc3\x85ngstr\xC3\xB6m HTTP/1.1"`, []want{{4, `\x-escaped`, 10}}},
		{`\x-escaped, JSON-escaped`, `{"b":"b'S\\xc3\\xb8ren \\xc3\\x85ngstr\\xc3\\xb6m'"}`, []want{{4, `JSON-escaped > \x-escaped`, 8}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, s.Bytes("t", []byte(tc.data)), tc.wants...)
		})
	}
}

// TestWrappedBase64: base64 wrapped in lines of 76 (MIME, base64(1)) or 64 characters
// (PEM, openssl) is decoded as one text, so a value across a line break is found.
func TestWrappedBase64(t *testing.T) {
	s := sample(t)
	// The UPN across the first line break at 76 or 64.
	blob76 := b64(strings.Repeat("x", 50) + upn + strings.Repeat("y", 60))
	blob64 := b64(strings.Repeat("x", 30) + upn + strings.Repeat("y", 60))
	mime := "Content-Transfer-Encoding: base64\n\n"
	tests := []struct {
		name  string
		data  string
		wants []want
	}{
		{"base64 wrapped at 76 (MIME)", mime + wrap(blob76, 76, "\n"), []want{{2, "base64", len(mime) + wrapAt(b64at(50), 76, "\n")}}},
		{"base64 wrapped at 76, CRLF", mime + wrap(blob76, 76, "\r\n"), []want{{2, "base64", len(mime) + wrapAt(b64at(50), 76, "\r\n")}}},
		{"base64 wrapped at 64 (PEM)", "-----BEGIN X-----\n" + wrap(blob64, 64, "\n") + "-----END X-----\n", []want{{2, "base64", 18 + wrapAt(b64at(30), 64, "\n")}}},
		{"base64 in one line", "b=" + blob76 + "\n", []want{{2, "base64", 2 + b64at(50)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, s.Bytes("t", []byte(tc.data)), tc.wants...)
		})
	}
}

// wrap cuts s into lines of width characters, each ending in eol.
func wrap(s string, width int, eol string) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + eol)
		s = s[width:]
	}
	b.WriteString(s + eol)
	return b.String()
}

// wrapAt returns where the character at index j of a text wrapped by wrap is.
func wrapAt(j, width int, eol string) int { return j + j/width*len(eol) }

func sha1Sum(s string) []byte { h := sha1.Sum([]byte(s)); return h[:] }
func md5Sum(s string) []byte  { h := md5.Sum([]byte(s)); return h[:] }

// TestLookAlikes proves harmless text near the values is not reported.
func TestLookAlikes(t *testing.T) {
	s := sample(t)
	mac := hmac.New(sha256.New, []byte("audit key"))
	mac.Write([]byte(upn))
	keyed := mac.Sum(nil)
	random := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tests := []struct{ name, data string }{
		{"HMAC-SHA256 hex", "actor=" + hex.EncodeToString(keyed)},
		{"HMAC-SHA256 base64", "actor=" + base64.StdEncoding.EncodeToString(keyed)},
		{"route template", `{"route":"GET /v1.0/users/{id}/photo/$value","status":200}`},
		{"another GUID", "id=4f1c8a2e-9b3d-4c6e-8f70-1a2b3c4d5e60"},
		{"domain alone", "tenant contoso.example, mail @contoso.example"},
		{"part of a name", "Adele, Vance, Søren, Ångström, E00004, +1 555 012"},
		{"random 1 MB", string(random)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, s.Bytes("t", []byte(tc.data))) })
	}
}

func TestShortValuesRefused(t *testing.T) {
	tests := []struct {
		name, in string
		err      string
	}{
		{"three letters", "Adele Vance\nLee\n", "line 2"},
		{"trimmed", "  ab \t\n", "line 1"},
		{"two non-ASCII bytes", "\n\nø\n", "line 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scan.ReadValues(strings.NewReader(tc.in))
			if !errors.Is(err, scan.ErrTooShort) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q wrapping ErrTooShort", err, tc.err)
			}
		})
	}
	if _, err := scan.New([]scan.Value{{Label: "x", Text: []byte("abc")}}); !errors.Is(err, scan.ErrTooShort) {
		t.Errorf("New: err = %v, want ErrTooShort", err)
	}
}

// TestValuesNotText: a values file that is not UTF-8 text is refused, naming the line.
func TestValuesNotText(t *testing.T) {
	tests := []struct {
		name, in string
		err      string
	}{
		{"UTF-16 LE", "\xff\xfeA\x00d\x00e\x00l\x00e\x00\n\x00", "UTF-16 byte-order mark"},
		{"UTF-16 BE", "\xfe\xff\x00A\x00d\x00e\x00l\x00e\x00\n", "UTF-16 byte-order mark"},
		{"a NUL byte", "Adele Vance\nE000\x00042\n", "line 2: a NUL byte"},
		{"Latin-1", "Adele Vance\n\nS\xf8ren \xc5ngstr\xf6m\n", "line 3: invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scan.ReadValues(strings.NewReader(tc.in))
			if !errors.Is(err, scan.ErrNotText) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q wrapping ErrNotText", err, tc.err)
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	vs, err := scan.ReadValues(strings.NewReader("\uFEFF  Adele Vance \r\n\n\tE000042\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%q %q %q %q", vs[0].Label, vs[0].Text, vs[1].Label, vs[1].Text)
	if want := `"value 1" "Adele Vance" "value 3" "E000042"`; len(vs) != 2 || got != want {
		t.Errorf("values = %d: %s, want %s", len(vs), got, want)
	}
	f := scan.Finding{Where: "a.log", Offset: 7, Form: "plain", Value: vs[0]}
	if got, want := f.String(), "a.log:7: value 1 (A**********) as plain"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
