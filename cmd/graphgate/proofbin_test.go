package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The privacy proof runs graphgate as operators do: the built binary, as a process of
// its own, so that everything it writes — to its real stdout and stderr, files, Redis
// and PostgreSQL — is seen, whichever code path wrote it.

// moduleRoot is the directory of go.mod: the tests run in cmd/graphgate.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	return root
}

// graphgateBinary builds ./cmd/graphgate of this checkout into the test's temporary
// directory (a few seconds: the test binary's build left every package in the cache).
func graphgateBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildGraphgate(moduleRoot(t), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildGraphgate runs go build in the module root src, with an overlay file when
// overlay is not "" (go help build), and returns the binary's path.
func buildGraphgate(src, outDir, overlay string) (string, error) {
	out := filepath.Join(outDir, "graphgate")
	args := []string{"build", "-o", out}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.Command("go", append(args, "./cmd/graphgate")...)
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{out: string(b), err: err}
	}
	return out, nil
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// edit is one textual change of a source file: Old must occur exactly once.
type edit struct {
	File, Old, New string
}

// buildWithDefect builds graphgate with the edits applied and the extra files added
// (paths relative to the module root), through a build overlay: the checkout is not
// touched, and every package the defect does not change comes from the build cache.
// A missing or ambiguous anchor fails the test, so a defect that no longer applies to
// the code is noticed, not silently skipped.
func buildWithDefect(t *testing.T, edits []edit, extra map[string]string) string {
	t.Helper()
	root, dir := moduleRoot(t), t.TempDir()
	changed := map[string]string{}
	for name, text := range extra {
		changed[name] = text
	}
	for _, e := range edits {
		text, ok := changed[e.File]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, e.File))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		if n := strings.Count(text, e.Old); n != 1 {
			t.Fatalf("planting a defect: %q occurs %d times in %s, want once: update the defect to the code", e.Old, n, e.File)
		}
		changed[e.File] = strings.Replace(text, e.Old, e.New, 1)
	}
	replace := map[string]string{}
	for name, text := range changed {
		replace[filepath.Join(root, name)] = write(t, dir, strings.ReplaceAll(name, "/", "_"), text)
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	bin, err := buildGraphgate(root, dir, write(t, dir, "overlay.json", string(b)))
	if err != nil {
		t.Fatalf("the defect does not build: %v", err)
	}
	return bin
}
