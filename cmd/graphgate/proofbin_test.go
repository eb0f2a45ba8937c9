package main

import (
	"io/fs"
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
	bin, err := buildGraphgate(moduleRoot(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildGraphgate runs go build in src (a module root) and returns the binary's path.
func buildGraphgate(src, outDir string) (string, error) {
	out := filepath.Join(outDir, "graphgate")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/graphgate")
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

// copyModule copies the module's source tree (without .git and node_modules) to dst, so
// that a defect can be planted in the copy.
func copyModule(t *testing.T, dst string) {
	t.Helper()
	src := moduleRoot(t)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the module: %v", err)
	}
}

// edit is one textual change of a source file: Old must occur exactly once.
type edit struct {
	File, Old, New string
}

// apply changes the file under root; a missing or ambiguous anchor fails the test, so a
// defect that no longer applies to the code is noticed, not silently skipped.
func (e edit) apply(t *testing.T, root string) {
	t.Helper()
	path := filepath.Join(root, e.File)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), e.Old); n != 1 {
		t.Fatalf("planting a defect: %q occurs %d times in %s, want once: update the defect to the code", e.Old, n, e.File)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), e.Old, e.New, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
