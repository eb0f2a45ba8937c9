package scan

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// step is one decoding applied to a view.
type step uint8

const (
	stepPercent step = iota + 1
	stepJSON
	stepHTML
	stepBase64
	stepBase64URL
	stepHex
	stepByteEscape
)

var stepNames = [...]string{
	stepPercent:   "percent-encoded",
	stepJSON:      "JSON-escaped",
	stepHTML:      "HTML-escaped",
	stepBase64:    "base64",
	stepBase64URL: "base64url",
	stepHex:       "hex",
	// nginx writes the bytes of a request line that are not printable ASCII as \xHH,
	// Python prints bytes that way.
	stepByteEscape: `\x-escaped`,
}

// maxDepth is how many decodings are nested at most.
const maxDepth = 3

// chain is the decodings that made a view, outermost first.
type chain struct {
	n     uint8
	steps [maxDepth]step
}

func (c chain) then(s step) chain {
	c.steps[c.n] = s
	c.n++
	return c
}

// form names the form of needle kind k found in a view made by c.
func (c chain) form(k kind) string {
	names := make([]string, c.n)
	for i, s := range c.steps[:c.n] {
		names[i] = stepNames[s]
	}
	switch {
	case k >= kindSHA256 && c.n == 0:
		return digestNames[k] + " (raw)"
	case k >= kindSHA256:
		names[c.n-1] = digestNames[k] + " (" + names[c.n-1] + ")"
	case c.n == 0 && k == kindRaw:
		return "raw"
	case c.n == 0:
		return "plain"
	}
	return strings.Join(names, " > ")
}

// view is a unit of data as it is or decoded. Every byte knows its offset in the unit.
type view struct {
	data []byte
	src  []int32 // offset in the unit of each byte of data; nil: the unit itself
	// all is set when every byte is new to this view (the unit itself, a base64 or hex
	// decoding); otherwise chg lists the positions the last decoding changed, in order,
	// and only matches and runs touching them are new.
	all   bool
	chg   []int32
	chain chain
	// text counts the bytes of v that lie in runs of text, once searched.
	text int
}

func (v *view) at(i int) int32 {
	if v.src == nil {
		return int32(i)
	}
	return v.src[i]
}

// touched reports whether a match or run over data[a:b] may be new to this view.
func (v *view) touched(a, b int) bool {
	if v.all {
		return true
	}
	i := sort.Search(len(v.chg), func(i int) bool { return int(v.chg[i]) >= a })
	return i < len(v.chg) && int(v.chg[i]) < b
}

// builder makes a child view, appending to the state's arenas.
type builder struct {
	st     *state
	parent *view
	v      view
	near   int // how close to a change of the parent a change must be to count
	b0, i0 int // where the child starts in the arenas
	c0     int
}

func (st *state) begin(parent *view, s step, all bool) builder {
	return builder{st: st, parent: parent, near: 12 * st.s.maxLen, v: view{chain: parent.chain.then(s), all: all},
		b0: len(st.bytes), i0: len(st.ints), c0: len(st.chgs)}
}

// add appends byte c decoded from the parent's byte at pos.
func (b *builder) add(c byte, pos int, changed bool) {
	st := b.st
	st.bytes = append(st.bytes, c)
	st.ints = append(st.ints, b.parent.at(pos))
	if changed && !b.v.all && (b.parent.all || b.parent.touched(pos-b.near, pos+b.near)) {
		st.chgs = append(st.chgs, int32(len(st.bytes)-1-b.b0))
	}
}

// put3 appends three bytes decoded from the parent's bytes from pos on to a view that
// is all new.
func (b *builder) put3(c0, c1, c2 byte, pos int) {
	st, p := b.st, b.parent
	st.bytes = append(st.bytes, c0, c1, c2)
	if p.src == nil {
		st.ints = append(st.ints, int32(pos), int32(pos+1), int32(pos+2))
	} else {
		st.ints = append(st.ints, p.src[pos], p.src[pos+1], p.src[pos+2])
	}
}

// copy appends the parent's bytes i to j unchanged.
func (b *builder) copy(i, j int) {
	st, p := b.st, b.parent
	st.bytes = append(st.bytes, p.data[i:j]...)
	if p.src != nil {
		st.ints = append(st.ints, p.src[i:j]...)
		return
	}
	for ; i < j; i++ {
		st.ints = append(st.ints, int32(i))
	}
}

// finish processes the child view unless nothing in it is new, then frees its arenas.
func (b *builder) finish() {
	st := b.st
	v := &st.stack[b.v.chain.n]
	*v = b.v
	v.data, v.src, v.chg = st.bytes[b.b0:len(st.bytes):len(st.bytes)], st.ints[b.i0:len(st.ints):len(st.ints)], st.chgs[b.c0:len(st.chgs):len(st.chgs)]
	if len(v.data) >= st.s.minLen && (v.all || len(v.chg) > 0) {
		st.process(v)
	}
	st.bytes, st.ints, st.chgs = st.bytes[:b.b0], st.ints[:b.i0], st.chgs[:b.c0]
}

// process searches a view and, below maxDepth, every decoding of it.
func (st *state) process(v *view) {
	st.search(v)
	if v.chain.n == maxDepth {
		return
	}
	// Escapes are a convention of text: a decoding that is mostly binary (a photo, a
	// digest, the wrong alignment of a base64 text) is only searched for encoded runs.
	if !v.all || v.chain.n == 0 || v.text*4 >= len(v.data)*3 {
		st.unescape(v, stepPercent, percentEscape)
		st.unescape(v, stepJSON, jsonEscape)
		st.unescape(v, stepHTML, htmlEscape)
		st.unescape(v, stepByteEscape, byteEscape)
	}
	st.runs(v)
}

// search reports the needles in v: the exact ones anywhere, the text ones in runs of
// text (they hold no control characters) — in the whole unit, which is text; in all of
// a base64 or hex decoding; around the changes of an unescaping, the rest being the
// same as in the view unescaped. Around a change means the needles holding a changed
// byte and those right before or after one: a decoded byte may make a word boundary
// (in "hello\nInes", "Ines" stands as a word once "\n" is decoded).
func (st *state) search(v *view) {
	st.s.exact.each(v.data, len(v.data), func(n *needle, at int) { st.report(v, n, at) })
	if v.chain.n == 0 {
		st.searchText(v, 0, len(v.data), len(v.data), st.edge)
		return
	}
	if v.all {
		st.searchRuns(v, 0, len(v.data))
		return
	}
	m := st.s.maxText
	a, b := -1, -1
	for _, c := range v.chg {
		lo, hi := max(int(c)-m, 0), min(int(c)+2, len(v.data))
		if a >= 0 && lo <= b {
			b = hi
			continue
		}
		if a >= 0 {
			st.searchRuns(v, a, b)
		}
		a, b = lo, hi
	}
	if a >= 0 {
		st.searchRuns(v, a, b)
	}
}

// searchRuns reports the text needles starting in v.data[a:b] in runs of text. Where
// it cuts a run (at a, or where it stops looking after b), the word rule looks at the
// byte beyond the cut.
func (st *state) searchRuns(v *view, a, b int) {
	// Far enough for the needles starting before b and the character after them.
	d := v.data[:min(len(v.data), b+max(st.s.maxText-1, 0)+utf8.UTFMax)]
	for k := 0; k < utf8.UTFMax-1 && a > 0 && a < b && !utf8.RuneStart(d[a]); k++ {
		a-- // cut at a character, not inside it
	}
	for i := a; i < b; {
		if !startsText[d[i]] {
			i++
			continue
		}
		j := textEnd(d, i)
		if j-i >= st.s.minText {
			var edge [2]byte
			if i == a && a > 0 {
				edge[0] = v.data[a-1]
			}
			if j == len(d) && j < len(v.data) {
				edge[1] = v.data[j]
			}
			st.searchText(v, i, min(j, b), j, edge)
			v.text += j - i
		}
		i = max(j, i+1)
	}
}

// searchText reports the text needles starting in v.data[a:b] and ending by end; edge
// holds the bytes before a and at end, 0 for none.
func (st *state) searchText(v *view, a, b, end int, edge [2]byte) {
	low, pos := lower(st.low[:0], st.lowPos[:0], v.data[a:end])
	st.low = low
	limit := b - a
	if pos != nil {
		st.lowPos, limit = pos, len(low)
	}
	st.s.text.each(low, limit, func(n *needle, at int) {
		if n.word && !st.inRun && !n.standsAlone(low, at, edge) {
			return
		}
		if pos != nil {
			at = int(pos[at])
		}
		if at < b-a {
			st.report(v, n, a+at)
		}
	})
}

// lower appends the lower-case form of d to dst. When every byte kept its place it
// returns a nil pos; otherwise pos[i] is the index in d of the byte that became dst[i].
// Bytes that are not UTF-8 are copied.
func lower(dst []byte, pos []int32, d []byte) ([]byte, []int32) {
	track := false
	for i := 0; i < len(d); {
		c := d[i]
		if c < 0xC2 || c > 0xF4 { // ASCII, or a byte that starts no character
			dst = append(dst, lowerByte[c])
			if track {
				pos = append(pos, int32(i))
			}
			i++
			continue
		}
		r, size := decodeRune(d[i:])
		lr := r
		if r < rune(len(lower2)) {
			lr = rune(lower2[r])
		} else if r != utf8.RuneError {
			lr = unicode.ToLower(r)
		}
		if lr == r {
			dst = append(dst, d[i:i+size]...)
		} else {
			if !track && utf8.RuneLen(lr) != size {
				track = true
				for j := range len(dst) {
					pos = append(pos, int32(j))
				}
			}
			dst = utf8.AppendRune(dst, lr)
		}
		for track && len(pos) < len(dst) {
			pos = append(pos, int32(i))
		}
		i += size
	}
	if !track {
		return dst, nil
	}
	return dst, pos
}

// decodeRune is utf8.DecodeRune with a fast path for two-byte characters.
func decodeRune(d []byte) (rune, int) {
	if d[0] < 0xE0 && len(d) > 1 && d[1]&0xC0 == 0x80 {
		return rune(d[0]&0x1F)<<6 | rune(d[1]&0x3F), 2
	}
	return utf8.DecodeRune(d)
}

// lowerByte lower-cases ASCII letters; lower2 lower-cases the characters encoded in one
// or two bytes.
var (
	lowerByte [256]byte
	lower2    [0x800]uint16
)

func init() {
	for i := range lowerByte {
		lowerByte[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		lowerByte[c] = byte(c - 'A' + 'a')
	}
	for r := range lower2 {
		lower2[r] = uint16(unicode.ToLower(rune(r)))
	}
}
