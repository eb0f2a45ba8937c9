package scan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestTreeLinks: a root that is a symbolic link to a directory is scanned, its files
// shown under the link's name; inside a tree, links to files are followed, links to
// directories (here a loop) and dangling links are not, and a note says how many.
func TestTreeLinks(t *testing.T) {
	s := sample(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(data, "a.log"), "user="+upn+"\n")
	symlink(t, data, filepath.Join(dir, "link"))
	symlink(t, data, filepath.Join(data, "loop"))
	symlink(t, filepath.Join(dir, "missing"), filepath.Join(data, "dangling"))
	symlink(t, filepath.Join(data, "a.log"), filepath.Join(data, "b.log"))
	tests := []struct {
		name, root string
		where      []string // the files of the findings
		note       string
	}{
		{"a directory", data, []string{data + "/a.log", data + "/b.log"}, data + ": 2 symlinks not followed"},
		{"a link to a directory", dir + "/link", []string{dir + "/link/a.log", dir + "/link/b.log"}, dir + "/link: 2 symlinks not followed"},
		{"a link to a file", data + "/b.log", []string{data + "/b.log"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.TreeContext(context.Background(), tc.root)
			if err != nil || res.Files != len(tc.where) {
				t.Fatalf("%d files, %v; want %d files", res.Files, err, len(tc.where))
			}
			var where []string
			for _, f := range res.Findings {
				where = append(where, f.Where)
			}
			if strings.Join(where, " ") != strings.Join(tc.where, " ") {
				t.Errorf("findings in %v, want %v", where, tc.where)
			}
			if notes := strings.Join(res.Notes, "\n"); tc.note != "" && !strings.HasPrefix(notes, tc.note) || tc.note == "" && notes != "" {
				t.Errorf("notes %q, want %q", notes, tc.note)
			}
		})
	}
}

// TestNames: the names of files and directories under a scanned directory are scanned
// too, and the values in a finding's path are masked when it is printed.
func TestNames(t *testing.T) {
	s := sample(t)
	dir := t.TempDir()
	tests := []struct {
		name, path, data string
		want             []string // the findings, as printed, below dir
	}{
		{"a directory named by a value", "users/" + oid + "/state", "emp=" + empID + "\n", []string{
			"/users/4***********************************: value 3 (4***********************************) as file name",
			"/users/4***********************************/state:4: value 6 (E******) as plain"}},
		{"a file named by an encoded value", "photos/adele.vance%40contoso.example.jpg", "jpeg", []string{
			"/photos/a" + stars("adele.vance%40contoso.example.jpg") + ": value 2 (a**************************) as file name > percent-encoded"}},
		{"a name without a value", "logs/gateway.log", "nothing personal\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			writeFile(t, filepath.Join(root, tc.path), tc.data)
			_, _, got, err := s.Tree(root)
			if err != nil {
				t.Fatal(err)
			}
			var g []string
			for _, f := range got {
				g = append(g, strings.TrimPrefix(f.String(), root))
			}
			if strings.Join(g, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// stars masks all but the first byte of an ASCII string.
func stars(s string) string { return strings.Repeat("*", len(s)-1) }

func TestMaskPath(t *testing.T) {
	s := sample(t)
	tests := []struct{ path, want string }{
		{"/var/lib/graphgate/users/" + oid + "/state", "/var/lib/graphgate/users/4***********************************/state"},
		{"/var/log/graphgate/gateway.log", "/var/log/graphgate/gateway.log"},
		{"exports/Adele%20Vance-2024.csv", "exports/A" + stars("Adele%20Vance-2024.csv")},
		{"scan: open /x/" + strings.ToUpper(upn) + "/a.log: permission denied", "scan: open /x/A**************************/a.log: permission denied"},
	}
	for _, tc := range tests {
		if got := s.MaskPath(tc.path); got != tc.want {
			t.Errorf("MaskPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestCancelled: a scan whose context is done stops and says so.
func TestCancelled(t *testing.T) {
	s := sample(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.log"), name+"\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		scan func() ([]scan.Finding, error)
	}{
		{"TreeContext", func() ([]scan.Finding, error) {
			r, err := s.TreeContext(ctx, dir)
			return r.Findings, err
		}},
		{"FileContext", func() ([]scan.Finding, error) { return s.FileContext(ctx, filepath.Join(dir, "a.log")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if f, err := tc.scan(); !errors.Is(err, context.Canceled) || len(f) != 0 {
				t.Errorf("%v, %v; want no findings and context.Canceled", f, err)
			}
		})
	}
}
