package scan_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestBoundaries plants values across the places where the scanner cuts its input:
// pieces of a long line (1 MiB) and blocks of a file (4 MiB). Each is found once, at
// its offset, whether the data is a slice or a file, one long line or many.
func TestBoundaries(t *testing.T) {
	s := sample(t)
	const mib = 1 << 20
	plants := []struct {
		at   int
		text string
		want want
	}{
		{mib - 5, name, want{1, "plain", mib - 5}},
		{2*mib - 1, b64(phone), want{5, "base64", 2*mib - 1}},
		{4*mib - 3, oid, want{3, "plain", 4*mib - 3}},
		{8*mib - 20, "q=" + strings.ReplaceAll(søren, " ", "+"), want{4, "percent-encoded", 8*mib - 18}},
		{9*mib - 2, " " + empID + " ", want{6, "plain", 9*mib - 1}}, // short: must stand as a word
	}
	for _, newlines := range []bool{false, true} {
		data := bytes.Repeat([]byte("lorem ipsum dolor sit amet, "), 10*mib/28)
		if newlines {
			for i := 99; i < len(data); i += 100 {
				data[i] = '\n'
			}
		}
		var wants []want
		for _, p := range plants {
			copy(data[p.at:], p.text)
			wants = append(wants, p.want)
		}
		path := filepath.Join(t.TempDir(), "big.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("bytes, newlines %t", newlines), func(t *testing.T) {
			check(t, s.Bytes("big.log", data), wants...)
		})
		t.Run(fmt.Sprintf("file, newlines %t", newlines), func(t *testing.T) {
			got, err := s.File(path)
			if err != nil {
				t.Fatal(err)
			}
			check(t, got, wants...)
		})
	}
}

// TestTree scans a directory with one scanner from several goroutines at once.
func TestTree(t *testing.T) {
	s := sample(t)
	dir := t.TempDir()
	offsets := map[string]int64{} // path: where the UPN is
	size := int64(0)
	for i := range 20 {
		data := fmt.Sprintf("line %d\nuser=%s\n", i, upn)
		path := filepath.Join(dir, fmt.Sprint(i%3), fmt.Sprintf("f%02d.log", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		offsets[path], size = int64(strings.Index(data, upn)), size+int64(len(data))
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(filepath.Join(dir, "0", "f00.log"), link); err != nil {
		t.Fatal(err)
	}
	offsets[link], size = offsets[filepath.Join(dir, "0", "f00.log")], size+int64(len("line 0\nuser=\n")+len(upn))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			files, n, got, err := s.Tree(dir)
			if err != nil || files != 21 || n != size || len(got) != 21 {
				t.Errorf("Tree: %d files, %d bytes, %d findings, %v; want 21 files, %d bytes, 21 findings", files, n, len(got), err, size)
				return
			}
			for i, f := range got {
				if off, ok := offsets[f.Where]; !ok || f.Offset != off || f.Form != "plain" || f.Value.Label != "value 2" {
					t.Errorf("finding %d: %v", i, f)
				}
				if i > 0 && got[i-1].Where >= f.Where {
					t.Errorf("findings out of order: %s before %s", got[i-1].Where, f.Where)
				}
			}
		})
	}
	wg.Wait()
	if _, _, _, err := s.Tree(filepath.Join(dir, "missing")); err == nil {
		t.Error("Tree of a missing path: no error")
	}
}
