package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
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
	return s.masked(st.findings())
}

// File scans one file.
func (s *Scanner) File(path string) ([]Finding, error) {
	return s.FileContext(context.Background(), path)
}

// FileContext scans one file; it stops between blocks of the file when ctx is done,
// returning ctx.Err().
func (s *Scanner) FileContext(ctx context.Context, path string) ([]Finding, error) {
	_, f, err := s.file(ctx, path)
	return f, err
}

func (s *Scanner) file(ctx context.Context, path string) (int64, []Finding, error) {
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
	st.ctx = ctx
	n, err := st.read(f, size)
	switch {
	case ctx.Err() != nil:
		return n, nil, ctx.Err()
	case err != nil:
		err = fmt.Errorf("scan: read %s: %w", path, err)
	}
	return n, s.masked(st.findings()), err
}

// state is one scan of one file or byte slice.
type state struct {
	s     *Scanner
	ctx   context.Context // read stops between blocks when it is done
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
	// joined and joinPos hold lines of wrapped base64 joined, and where each byte was.
	joined  []byte
	joinPos []int32
	// edge holds the bytes just before and after the piece of a unit being scanned, or
	// 0 at the unit's edges: the word rule looks at them.
	edge [2]byte
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
	return &state{s: s, ctx: context.Background(), where: where, seen: map[foundKey]int{}}
}

// read scans r block by block; size is what r is expected to hold (a file's size).
func (st *state) read(r io.Reader, size int64) (int64, error) {
	ov, full := st.s.overlap, blockSize+st.s.overlap
	buf := make([]byte, min(int64(full), max(size, 0)+1))
	var base, total int64
	have, scanned := 0, 0 // bytes in buf; of them, scanned with the previous block
	for {
		if err := st.ctx.Err(); err != nil {
			return total, err
		}
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
			n := bytes.IndexByte(b, '\n') + 1
			if n == 0 {
				n = len(b)
			}
			if w := wrappedBase64(b, n); w > 0 {
				st.joinLines(base, b[:w])
				n = w
			} else {
				st.unit(base, b[:n], nil)
			}
			base, b = base+int64(n), b[n:]
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
			st.unit(base+int64(i), b[i:j], nil)
		}
		i = max(j, i+1)
	}
}

// unit scans a line or a run of text, cut into pieces when it is long. pos, when set,
// holds the offset from base of each byte of d (lines joined).
func (st *state) unit(base int64, d []byte, pos []int32) {
	if len(d) < st.s.minLen {
		return
	}
	for p := 0; ; p += pieceSize {
		e := min(p+pieceSize+st.s.overlap, len(d))
		st.base = base + int64(p)
		st.bytes, st.ints, st.chgs = st.bytes[:0], st.ints[:0], st.chgs[:0]
		st.stack[0] = view{data: d[p:e], all: true}
		if pos != nil {
			st.base, st.stack[0].src = base, pos[p:e]
		}
		st.edge = [2]byte{}
		if p > 0 {
			st.edge[0] = d[p-1]
		}
		if e < len(d) {
			st.edge[1] = d[e]
		}
		st.process(&st.stack[0])
		if e == len(d) {
			return
		}
	}
}

// joinLines scans lines of wrapped base64 as one unit, without their line breaks, so
// that a value across a line break is decoded too.
func (st *state) joinLines(base int64, b []byte) {
	st.joined, st.joinPos = st.joined[:0], st.joinPos[:0]
	for i, c := range b {
		if c != '\n' && c != '\r' {
			st.joined = append(st.joined, c)
			st.joinPos = append(st.joinPos, int32(i))
		}
	}
	st.unit(base, st.joined, st.joinPos)
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

// masked sets the masked path of findings made in one place, when it holds a value.
func (s *Scanner) masked(findings []Finding) []Finding {
	if len(findings) == 0 {
		return findings
	}
	if shown := s.MaskPath(findings[0].Where); shown != findings[0].Where {
		for i := range findings {
			findings[i].shown = shown
		}
	}
	return findings
}
