package scan_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

func noise(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[n/2] = 0
	return b
}

// TestBinary plants values between random bytes: printable runs are scanned with every
// form, raw bytes for long values and raw digests.
func TestBinary(t *testing.T) {
	s := sample(t)
	r := rand.New(rand.NewPCG(3, 4))
	h := md5Sum(strings.ToUpper(name))
	tests := []struct {
		name    string
		payload string
		want    want // offset within the payload
	}{
		{"UPN", upn, want{2, "plain", 0}},
		{"short id", "E000042", want{6, "plain", 0}},
		{"non-ASCII name", søren, want{4, "plain", 0}},
		{"SHA-256 of the object id", string(sum256(oid)), want{3, "SHA-256 (raw)", 0}},
		{"MD5 of the upper-cased name", string(h[:]), want{1, "MD5 (raw)", 0}},
		{"base64 phone", b64(phone), want{5, "base64", 0}},
		{"hex object id", hex.EncodeToString([]byte(oid)), want{3, "hex", 0}},
		{"JSON-escaped name", `{"n":"S\u00f8ren \u00c5ngstr\u00f6m"}`, want{4, "JSON-escaped", 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := append(noise(r, 1000), tc.payload...)
			data = append(data, noise(r, 1000)...)
			w := tc.want
			w.offset += 1000
			check(t, s.Bytes("bin", data), w)
		})
	}
}

// TestBinaryValue looks for values that are not text, such as a chunk of a photo, in
// binary data and text.
func TestBinaryValue(t *testing.T) {
	chunk := noise(rand.New(rand.NewPCG(5, 6)), 64)
	s, err := scan.New([]scan.Value{{Label: "photo of user 1", Text: chunk}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	raw := append(append(noise(r, 100), chunk...), noise(r, 100)...)
	json := []byte(`{"photo":"` + base64.StdEncoding.EncodeToString(chunk) + `"}`)
	ctl, err := scan.New([]scan.Value{{Label: "value 1", Text: []byte("tab\x01ctl")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    *scan.Scanner
		data []byte
		want string
	}{
		{s, raw, "bin:100: photo of user 1 (64 bytes) as raw"},
		{s, json, "bin:10: photo of user 1 (64 bytes) as base64"},
		{ctl, []byte("a text line: tab\x01ctl\n"), "bin:13: value 1 (7 bytes) as raw"},
	} {
		if got := tc.s.Bytes("bin", tc.data); len(got) != 1 || got[0].String() != tc.want {
			t.Errorf("findings %v, want %s", got, tc.want)
		}
	}
}

// writeSQLite writes the values into a SQLite database in WAL mode, kept open until the
// test ends: a live row and a deleted one in the database file, a row in the WAL only.
func writeSQLite(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=secure_delete(off)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, upn TEXT, note TEXT)`)
	for i := range 200 {
		exec(`INSERT INTO people (name, upn, note) VALUES (?, ?, ?)`, fmt.Sprintf("Filler %d", i), fmt.Sprintf("f%d@fabrikam.example", i), strings.Repeat("n", i))
	}
	exec(`INSERT INTO people (id, name, upn) VALUES (1000, ?, ?)`, name, upn)
	exec(`INSERT INTO people (id, name, upn) VALUES (1001, ?, ?)`, søren, "soren@fabrikam.example")
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	exec(`DELETE FROM people WHERE id = 1001`)
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	exec(`INSERT INTO people (id, name, upn) VALUES (1002, ?, ?)`, empID, oid)
}

// TestSQLite finds the values in a real SQLite database: in a table, in a deleted row's
// page and in the WAL.
func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	writeSQLite(t, filepath.Join(dir, "usage.db"))
	files, n, got, err := sample(t).Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if files != 3 || n == 0 {
		t.Errorf("scanned %d files, %d bytes; want usage.db, -wal and -shm", files, n)
	}
	// Every copy of every value is found: the live rows, the deleted row and the page
	// images in the WAL.
	var wants []string
	for _, file := range []string{"usage.db", "usage.db-wal", "usage.db-shm"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{name, upn, oid, søren, phone, empID} {
			for _, off := range occurrences(data, v) {
				wants = append(wants, fmt.Sprintf("%s:%d: %s as plain", file, off, v))
			}
		}
	}
	for _, w := range []string{"usage.db:.*: " + søren, "usage.db-wal:.*: " + empID, "usage.db-wal:.*: " + oid} {
		if !slices.ContainsFunc(wants, regexp.MustCompile(w).MatchString) {
			t.Fatalf("no %q in the database: the test proves nothing", w)
		}
	}
	var gots []string
	for _, f := range got {
		gots = append(gots, fmt.Sprintf("%s:%d: %s as %s", filepath.Base(f.Where), f.Offset, f.Value.Text, f.Form))
	}
	sort.Strings(wants)
	sort.Strings(gots)
	if strings.Join(gots, "\n") != strings.Join(wants, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(gots, "\n  "), strings.Join(wants, "\n  "))
	}
}

func occurrences(data []byte, v string) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(v))
		if i < 0 {
			return out
		}
		out = append(out, off+i)
		off += i + 1
	}
}
