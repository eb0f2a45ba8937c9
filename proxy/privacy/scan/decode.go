package scan

import (
	"bytes"
	"html"
	"unicode/utf16"
	"unicode/utf8"
)

// Character classes of the run decoders.
const (
	isB64 = 1 << iota // in the base64 or base64url alphabet
	isHex             // a hex digit
)

var (
	class [256]uint8
	value [256]uint8 // a base64 or base64url character's value
)

func init() {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(b64) {
		class[b64[i]] |= isB64
		value[b64[i]] = uint8(i)
	}
	class['-'], value['-'] = isB64, 62
	class['_'], value['_'] = isB64, 63
	const hex = "0123456789abcdef"
	for i := range len(hex) {
		class[hex[i]] |= isHex
		class[hex[i]-'a'+'A'] |= isHex
	}
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// escapeFunc finds the next escape in d at or after i: where it starts and ends, and
// what it stands for, appended to buf. start is -1 when there is none.
type escapeFunc func(d []byte, i int, buf []byte) (start, end int, out []byte)

// unescape makes the view of v with every escape that next finds decoded, if any.
func (st *state) unescape(v *view, s step, next escapeFunc) {
	d := v.data
	start, end, out := next(d, 0, st.esc[:0])
	if start < 0 {
		return
	}
	b := st.begin(v, s, false)
	i := 0
	for start >= 0 {
		b.copy(i, start)
		for _, c := range out {
			b.add(c, start, true)
		}
		i = end
		start, end, out = next(d, i, out[:0])
	}
	st.esc = out
	b.copy(i, len(d))
	b.finish()
}

// percentEscape finds "%XX" (either case) or '+' (a space).
func percentEscape(d []byte, i int, buf []byte) (int, int, []byte) {
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c == '+':
			return i, i + 1, append(buf, ' ')
		case c == '%' && i+2 < len(d) && class[d[i+1]]&class[d[i+2]]&isHex != 0:
			return i, i + 3, append(buf, unhex(d[i+1])<<4|unhex(d[i+2]))
		}
	}
	return -1, 0, buf
}

// byteEscape finds "\xHH" (either case), a byte written as hex.
func byteEscape(d []byte, i int, buf []byte) (int, int, []byte) {
	for i < len(d) {
		j := bytes.Index(d[i:], []byte(`\x`))
		if j < 0 {
			break
		}
		i += j
		if i+3 < len(d) && class[d[i+2]]&class[d[i+3]]&isHex != 0 {
			return i, i + 4, append(buf, unhex(d[i+2])<<4|unhex(d[i+3]))
		}
		i += 2
	}
	return -1, 0, buf
}

// jsonEscape finds a JSON string escape: \" \\ \/ \b \f \n \r \t or \uXXXX,
// surrogate pairs included (a lone surrogate is left as it is).
func jsonEscape(d []byte, i int, buf []byte) (int, int, []byte) {
	for ; i < len(d)-1; i++ {
		if d[i] != '\\' {
			continue
		}
		switch c := d[i+1]; c {
		case '"', '\\', '/':
			return i, i + 2, append(buf, c)
		case 'b', 'f', 'n', 'r', 't':
			return i, i + 2, append(buf, controls[c])
		case 'u':
			if r, n := jsonRune(d[i:]); n > 0 {
				return i, i + n, utf8.AppendRune(buf, r)
			}
		}
	}
	return -1, 0, buf
}

var controls = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// jsonRune decodes the \uXXXX escape, or surrogate pair, at the start of d, returning
// its length, or 0.
func jsonRune(d []byte) (rune, int) {
	r, ok := hex4(d[2:])
	switch {
	case !ok:
		return 0, 0
	case !utf16.IsSurrogate(r):
		return r, 6
	}
	if len(d) >= 12 && d[6] == '\\' && d[7] == 'u' {
		if r2, ok := hex4(d[8:]); ok {
			if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
				return c, 12
			}
		}
	}
	return 0, 0
}

func hex4(d []byte) (rune, bool) {
	if len(d) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d[:4] {
		if class[c]&isHex == 0 {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// htmlEscape finds a named or numeric character reference ("&amp;", "&#64;",
// "&#x40;"), decoded with html.UnescapeString.
func htmlEscape(d []byte, i int, buf []byte) (int, int, []byte) {
	for ; i < len(d); i++ {
		if d[i] != '&' {
			continue
		}
		if j := entityEnd(d, i); j > 0 {
			ref := string(d[i:j])
			if u := html.UnescapeString(ref); u != ref {
				return i, j, append(buf, u...)
			}
		}
	}
	return -1, 0, buf
}

// entityEnd returns the end of the character reference "&...;" starting at d[i], or 0.
func entityEnd(d []byte, i int) int {
	const longest = len("&CounterClockwiseContourIntegral;")
	for j := i + 1; j < len(d) && j < i+longest; j++ {
		switch c := d[j]; {
		case c == ';' && j > i+1:
			return j + 1
		case c != '#' && class[c]&isB64 == 0, c == '+', c == '/', c == '-', c == '_':
			return 0
		}
	}
	return 0
}

// runs decodes every run of base64 characters as base64 and every run of hex digits as
// hex, at every alignment.
func (st *state) runs(v *view) {
	d := v.data
	for i := 0; i < len(d); {
		if class[d[i]]&isB64 == 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(d) && class[d[j]]&isB64 != 0 {
			j++
		}
		if (j-i)*3/4 >= st.s.minLen && v.touched(i, j) {
			st.base64Run(v, i, j)
			st.hexRuns(v, i, j)
		}
		i = j
	}
}

// base64Run decodes d[a:b] from each of its first four characters on; the alphabet
// does not matter, base64url's "-_" and base64's "+/" are both decoded.
func (st *state) base64Run(v *view, a, b int) {
	d := v.data
	for k := 0; k < 4 && (b-a-k)*3/4 >= st.s.minLen; k++ {
		bl := st.begin(v, base64Step(d, a, b, k), true)
		q := a + k
		for ; q+4 <= b; q += 4 {
			acc := uint32(value[d[q]])<<18 | uint32(value[d[q+1]])<<12 | uint32(value[d[q+2]])<<6 | uint32(value[d[q+3]])
			bl.put3(byte(acc>>16), byte(acc>>8), byte(acc), q)
		}
		switch b - q { // an unpadded end: two or three characters
		case 2:
			bl.add(value[d[q]]<<2|value[d[q+1]]>>4, q, true)
		case 3:
			bl.add(value[d[q]]<<2|value[d[q+1]]>>4, q, true)
			bl.add(value[d[q+1]]<<4|value[d[q+2]]>>2, q+1, true)
		}
		bl.finish()
	}
}

// base64Step names the alphabet of a run decoded from its k-th character on: base64url
// when it holds '-' or '_', is a part of a JWT (next to a '.') or is unpadded; base64
// when it holds '+' or '/' or is padded or needs no padding.
func base64Step(d []byte, a, b, k int) step {
	for _, c := range d[a:b] {
		switch c {
		case '-', '_':
			return stepBase64URL
		case '+', '/':
			return stepBase64
		}
	}
	switch {
	case a > 0 && d[a-1] == '.' || b < len(d) && d[b] == '.':
		return stepBase64URL
	case (b-a-k)%4 != 0 && (b == len(d) || d[b] != '='):
		return stepBase64URL
	}
	return stepBase64
}

// hexRuns decodes the runs of hex digits in d[a:b] at both alignments.
func (st *state) hexRuns(v *view, a, b int) {
	d := v.data
	for i := a; i < b; {
		if class[d[i]]&isHex == 0 {
			i++
			continue
		}
		j := i + 1
		for j < b && class[d[j]]&isHex != 0 {
			j++
		}
		for k := 0; k < 2 && (j-i-k)/2 >= st.s.minLen && v.touched(i, j); k++ {
			bl := st.begin(v, stepHex, true)
			for q := i + k; q+1 < j; q += 2 {
				bl.add(unhex(d[q])<<4|unhex(d[q+1]), q, true)
			}
			bl.finish()
		}
		i = j
	}
}
