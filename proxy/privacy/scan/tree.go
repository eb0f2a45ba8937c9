package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// TreeResult is what TreeContext found.
type TreeResult struct {
	// Files is how many files were read completely, Bytes how many bytes were read.
	Files int
	Bytes int64
	// Findings are ordered by path, the findings in a name first, then by offset.
	Findings []Finding
	// Notes say what was left out, the values in paths masked: FIFOs, sockets and
	// devices, and how many symbolic links were not followed.
	Notes []string
}

// Tree scans a file, or every regular file under a directory, as TreeContext does.
// It returns how many files it read completely, how many bytes it read, and the
// findings ordered by file and offset.
func (s *Scanner) Tree(root string) (files int, bytes int64, findings []Finding, err error) {
	r, err := s.TreeContext(context.Background(), root)
	return r.Files, r.Bytes, r.Findings, err
}

// TreeContext scans a file, or every regular file under a directory, several at a time,
// and the names of the files and directories under it (the parts of their paths below
// root). A root that is a symbolic link is resolved. Under a directory, symbolic links
// to regular files are followed, other symbolic links are not (a link to a directory may
// make a loop) and FIFOs, sockets and devices are skipped: Notes says so. A root that is
// not a regular file or a directory is refused without being opened. Files or
// directories it could not read are reported in err, joined, after the others were
// scanned. When ctx is done it stops between files and between blocks of a file and
// returns ctx.Err().
func (s *Scanner) TreeContext(ctx context.Context, root string) (TreeResult, error) {
	var res TreeResult
	entries, errs, err := s.walk(ctx, root, &res)
	if err != nil {
		return res, err
	}
	type result struct {
		n   int64
		f   []Finding
		err error
	}
	results := make([]result, len(entries))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(entries)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(entries) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if entries[i].file {
					n, f, err := s.file(ctx, entries[i].path)
					results[i] = result{n, f, err}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for i, r := range results {
		res.Bytes += r.n
		res.Findings = append(append(res.Findings, entries[i].names...), r.f...)
		if r.err != nil {
			errs = append(errs, r.err)
		} else if entries[i].file {
			res.Files++
		}
	}
	return res, errors.Join(errs...)
}

// entry is a file to scan, or a directory with a value in its name.
type entry struct {
	path  string
	file  bool      // its content is to be scanned
	names []Finding // the values in its name
}

// walk lists what to scan under root, in lexical order, noting in res what it leaves
// out; err is set when root cannot be scanned at all.
func (s *Scanner) walk(ctx context.Context, root string, res *TreeResult) (entries []entry, errs []error, err error) {
	fi, err := os.Stat(root)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("scan: %w", err)
	case fi.Mode().IsRegular():
		return []entry{{path: root, file: true}}, nil, nil
	case !fi.IsDir():
		return nil, nil, fmt.Errorf("scan: %s: %s, not a regular file or directory", s.MaskPath(root), FileKind(fi.Mode()))
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	links := 0
	err = filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		shown := root
		if rel, _ := filepath.Rel(real, path); rel != "." {
			shown = filepath.Join(root, rel)
		}
		if err != nil {
			if pe, ok := err.(*fs.PathError); ok {
				err = &fs.PathError{Op: pe.Op, Path: shown, Err: pe.Err}
			}
			errs = append(errs, fmt.Errorf("scan: %w", err))
			return nil
		}
		e := entry{path: shown}
		if path != real {
			e.names = s.name(shown, d.Name())
		}
		switch t := d.Type(); {
		case t.IsRegular():
			e.file = true
		case t.IsDir():
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(path)
			e.file = err == nil && fi.Mode().IsRegular()
			if !e.file {
				links++
			}
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("%s: skipped: %s", s.MaskPath(shown), FileKind(t)))
		}
		if e.file || len(e.names) > 0 {
			entries = append(entries, e)
		}
		return nil
	})
	if links > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: %d symlinks not followed (to directories, to what is not a regular file, or dangling)", s.MaskPath(root), links))
	}
	return entries, errs, err
}

// FileKind names the type of a file that is not a regular file ("a directory", "a
// FIFO", "a socket", "a device" or "a special file"), for messages about what the
// scanner does not open.
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// name returns the findings in the name of the file or directory at path.
func (s *Scanner) name(path, name string) []Finding {
	st := s.newState(path)
	st.block(0, []byte(name))
	f := st.findings()
	for i := range f {
		f[i].InName = true
		if f[i].Form == "plain" {
			f[i].Form = "file name"
		} else {
			f[i].Form = "file name > " + f[i].Form
		}
	}
	return s.masked(f)
}

// MaskPath returns p with every element (the text between separators) that holds a
// value, in any form, masked like the value: its first character is kept, the others
// are replaced by '*'. Findings and notes show their paths masked this way.
func (s *Scanner) MaskPath(p string) string {
	st := s.newState(p)
	st.block(0, []byte(p))
	hidden := make([]bool, len(p))
	found := false
	for _, f := range st.findings() {
		for i := f.Offset; i < min(f.Offset+int64(len(f.Value.Text)), int64(len(p))); i++ {
			hidden[i], found = true, true
		}
	}
	if !found {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		j := i
		for j < len(p) && p[j] != '/' && p[j] != filepath.Separator {
			j++
		}
		if slices.Contains(hidden[i:j], true) {
			b.WriteString(maskText(p[i:j]))
		} else {
			b.WriteString(p[i:j])
		}
		if j < len(p) {
			b.WriteByte(p[j])
		}
		i = j + 1
	}
	return b.String()
}

// maskText keeps the first character of s, if printable, and replaces the others by
// '*'.
func maskText(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if !unicode.IsPrint(r) {
		r = '*'
	}
	return string(r) + strings.Repeat("*", utf8.RuneCountInString(s[size:]))
}
