//go:build linux || darwin

package scan_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

// TestTreeSpecialFiles: FIFOs, sockets and devices are never opened (a FIFO would block
// forever): inside a tree they are skipped with a note, as the root they are refused.
func TestTreeSpecialFiles(t *testing.T) {
	s := sample(t)
	data := filepath.Join(t.TempDir(), "data")
	writeFile(t, filepath.Join(data, "a.log"), "user="+upn+"\n")
	fifo := filepath.Join(data, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(data, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct {
		name, root  string
		files       int
		notes, fail string
	}{
		{"in a tree", data, 1, data + "/pipe: skipped: a FIFO\n" + data + "/sock: skipped: a socket", ""},
		{"a FIFO as the root", fifo, 0, "", "pipe: a FIFO, not a regular file or directory"},
		{"a device as the root", os.DevNull, 0, "", "null: a device, not a regular file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var res scan.TreeResult
			var err error
			go func() {
				defer close(done)
				res, err = s.TreeContext(context.Background(), tc.root)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the scan blocked")
			}
			if res.Files != tc.files || strings.Join(res.Notes, "\n") != tc.notes {
				t.Errorf("%d files, notes %q; want %d, %q", res.Files, res.Notes, tc.files, tc.notes)
			}
			if tc.fail == "" && err != nil || tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)) {
				t.Errorf("err = %v, want %q", err, tc.fail)
			}
		})
	}
}
