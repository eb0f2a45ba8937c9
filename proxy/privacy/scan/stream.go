package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

const (
	// blockSize is how much of a file is scanned at once; consecutive blocks overlap by
	// Scanner.overlap bytes, so a value across a block boundary is found in the second.
	blockSize = 4 << 20
	// pieceSize is the longest unit: longer lines and printable runs are cut into pieces
	// overlapping the same way.
	pieceSize = 1 << 20
	// minRun is the shortest run of text in binary data scanned as text.
	minRun = 4
)

// Bytes scans data, text or binary (detected block by block), and reports findings
// with Where = where, in offset order.
func (s *Scanner) Bytes(where string, data []byte) []Finding {
	st := s.newState(where)
	for p := 0; ; p += blockSize {
		e := min(p+blockSize+s.overlap, len(data))
		st.block(int64(p), data[p:e])
		if e == len(data) {
			break
		}
	}
	return st.findings()
}

// File scans one file.
func (s *Scanner) File(path string) ([]Finding, error) {
	_, f, err := s.file(path)
	return f, err
}

func (s *Scanner) file(path string) (int64, []Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, fmt.Errorf("scan: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	st := s.newState(path)
	n, err := st.read(f, size)
	if err != nil {
		err = fmt.Errorf("scan: read %s: %w", path, err)
	}
	return n, st.findings(), err
}

// Tree scans a file, or every regular file under a directory (following symbolic links
// to files, not to directories), several at a time. It returns how many files it read
// completely, how many bytes it read, and the findings ordered by file and offset.
// Files or directories it could not read are reported in err, joined, after the others
// were scanned.
func (s *Scanner) Tree(root string) (files int, bytes int64, findings []Finding, err error) {
	paths, errs := walk(root)
	type result struct {
		n   int64
		f   []Finding
		err error
	}
	results := make([]result, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				n, f, err := s.file(paths[i])
				results[i] = result{n, f, err}
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		bytes += r.n
		findings = append(findings, r.f...)
		if r.err != nil {
			errs = append(errs, r.err)
		} else {
			files++
		}
	}
	return files, bytes, findings, errors.Join(errs...)
}

// walk lists the files to scan under root, in lexical order.
func walk(root string) ([]string, []error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, []error{fmt.Errorf("scan: %w", err)}
	}
	if !fi.IsDir() {
		return []string{root}, nil
	}
	var paths []string
	var errs []error
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("scan: %w", err))
		case d.Type().IsRegular():
			paths = append(paths, path)
		case d.Type()&fs.ModeSymlink != 0:
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				paths = append(paths, path)
			}
		}
		return nil
	})
	return paths, errs
}

// state is one scan of one file or byte slice.
type state struct {
	s     *Scanner
	where string
	base  int64 // offset in the file of the unit being scanned
	seen  map[foundKey]int
	hits  []hit
	// bytes, ints and chgs are the arenas of the views of the unit being scanned.
	bytes      []byte
	ints, chgs []int32
	low        []byte // scratch for lower-cased data
	lowPos     []int32
	esc        []byte // scratch for a decoded escape
	// stack holds the view being scanned at each depth.
	stack [maxDepth + 1]view
	// inRun says the unit is a run of text in binary data: there, values shorter than
	// WordLen count anywhere, since the cells of a record (SQLite) lie side by side
	// without separators.
	inRun bool
}

type foundKey struct {
	value int32
	off   int64
}

type hit struct {
	off   int64
	value int32
	depth uint8
	form  string
}

func (s *Scanner) newState(where string) *state {
	return &state{s: s, where: where, seen: map[foundKey]int{}}
}

// read scans r block by block; size is what r is expected to hold (a file's size).
func (st *state) read(r io.Reader, size int64) (int64, error) {
	ov, full := st.s.overlap, blockSize+st.s.overlap
	buf := make([]byte, min(int64(full), max(size, 0)+1))
	var base, total int64
	have, scanned := 0, 0 // bytes in buf; of them, scanned with the previous block
	for {
		n, err := io.ReadFull(r, buf[have:])
		total, have = total+int64(n), have+n
		if err == nil && len(buf) < full { // r holds more than expected
			buf = append(buf, make([]byte, full-len(buf))...)
			continue
		}
		if have > scanned {
			st.block(base, buf[:have])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		copy(buf, buf[have-ov:have])
		base += int64(have - ov)
		have, scanned = ov, ov
	}
}

// block scans a block as lines of text, or as binary data.
func (st *state) block(base int64, b []byte) {
	if textLike(b) {
		st.inRun = false
		for len(b) > 0 {
			n := bytes.IndexByte(b, '\n')
			if n < 0 {
				n = len(b) - 1
			}
			st.unit(base, b[:n+1])
			base, b = base+int64(n+1), b[n+1:]
		}
		return
	}
	st.binary(base, b)
}

// binary scans raw bytes for exact needles and long text needles, and every run of
// text as a unit.
func (st *state) binary(base int64, b []byte) {
	st.base = base
	raw := view{data: b, all: true}
	st.s.exact.each(b, len(b), func(n *needle, at int) { st.report(&raw, n, at) })
	st.low = asciiLower(st.low[:0], b)
	st.s.long.each(st.low, len(st.low), func(n *needle, at int) { st.report(&raw, n, at) })
	st.inRun = true
	for i := 0; i < len(b); {
		j := textEnd(b, i)
		if j-i >= minRun {
			st.unit(base+int64(i), b[i:j])
		}
		i = max(j, i+1)
	}
}

// unit scans a line or a run of text, cut into pieces when it is long.
func (st *state) unit(base int64, d []byte) {
	if len(d) < st.s.minLen {
		return
	}
	for p := 0; ; p += pieceSize {
		e := min(p+pieceSize+st.s.overlap, len(d))
		st.base = base + int64(p)
		st.bytes, st.ints, st.chgs = st.bytes[:0], st.ints[:0], st.chgs[:0]
		st.stack[0] = view{data: d[p:e], all: true}
		st.process(&st.stack[0])
		if e == len(d) {
			return
		}
	}
}

// report records needle n found in v at position at, keeping for each value and offset
// the form with the fewest decodings.
func (st *state) report(v *view, n *needle, at int) {
	key := foundKey{value: n.value, off: st.base + int64(v.at(at))}
	if i, ok := st.seen[key]; ok {
		if h := &st.hits[i]; v.chain.n < h.depth {
			h.depth, h.form = v.chain.n, v.chain.form(n.kind)
		}
		return
	}
	st.seen[key] = len(st.hits)
	st.hits = append(st.hits, hit{off: key.off, value: n.value, depth: v.chain.n, form: v.chain.form(n.kind)})
}

// findings returns the hits in offset order.
func (st *state) findings() []Finding {
	sort.Slice(st.hits, func(i, j int) bool {
		a, b := st.hits[i], st.hits[j]
		if a.off != b.off {
			return a.off < b.off
		}
		if a.value != b.value {
			return a.value < b.value
		}
		return a.form < b.form
	})
	out := make([]Finding, len(st.hits))
	for i, h := range st.hits {
		out[i] = Finding{Where: st.where, Offset: h.off, Form: h.form, Value: st.s.values[h.value]}
	}
	return out
}

// textLike reports whether a block is text: no NUL byte and valid UTF-8 apart from
// characters cut at its edges.
func textLike(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				b = b[:len(b)-i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// startsText tells the bytes that may start a character of text.
var startsText = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= ' ' && c < 0x7f || c == '\t' || c >= 0xC2 && c <= 0xF4
	}
	return t
}()

// textEnd returns the end of the run of text starting at b[i]: valid UTF-8 without
// control characters other than tab, like the text values.
func textEnd(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c < utf8.RuneSelf:
			if c < ' ' && c != '\t' || c == 0x7f {
				return i
			}
			i++
		case c < 0xC2 || c > 0xF4: // starts no character
			return i
		case c < 0xE0: // two bytes, not a C1 control character
			if i+1 == len(b) || b[i+1]&0xC0 != 0x80 || c == 0xC2 && b[i+1] < 0xA0 {
				return i
			}
			i += 2
		default: // three or four bytes, no control characters among them
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i
			}
			i += size
		}
	}
	return i
}

func asciiLower(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
