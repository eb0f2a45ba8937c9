//go:build linux || darwin

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrivacyScanSpecialFiles: a PATH or --values that is a FIFO or a device is bad
// input, refused without being opened (a FIFO would block forever); a FIFO inside a
// scanned directory is skipped with a note.
func TestPrivacyScanSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	values := writeFile(t, filepath.Join(dir, "values.txt"), strings.Join(scanValues, "\n"))
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(data, "ok.log"), "nothing personal\n")
	fifo := filepath.Join(data, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"a FIFO as PATH", []string{"--values", values, fifo}, 2, "pipe: a FIFO, not a regular file or directory"},
		{"a device as PATH", []string{"--values", values, os.DevNull}, 2, "null: a device, not a regular file or directory"},
		{"a FIFO as --values", []string{"--values", fifo, data}, 2, "pipe: a FIFO, not a regular file"},
		{"a device as --values", []string{"--values", os.DevNull, data}, 2, "null: a device, not a regular file"},
		{"a FIFO in a directory", []string{"--values", values, data}, 0, "graphgate: privacy scan: " + fifo + ": skipped: a FIFO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var code int
			var stderr string
			go func() {
				defer close(done)
				code, _, stderr = privacyScan(t, tc.args...)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the scan blocked")
			}
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit code %d, stderr:\n%s\nwant %d, %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}
