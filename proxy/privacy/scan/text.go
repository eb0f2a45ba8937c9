package scan

import (
	"bytes"
	"unicode/utf8"
)

// minNULRun is the shortest run of NUL bytes that textLike leaves out: log rotation
// with copytruncate leaves a text file starting with a hole of NUL bytes.
const minNULRun = 16

// notText tells the ASCII bytes that do not occur in text: NUL and the control
// characters other than \t \n \v \f \r and ESC (colours in logs).
var notText = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c < ' ' || c == 0x7f
	}
	for _, c := range "\t\n\v\f\r\x1b" {
		t[c] = false
	}
	return t
}()

// textLike reports whether a block is text: more than one byte and more than 1 % of it
// must be NUL, control characters other than \t \n \v \f \r and ESC, or bytes that are
// not UTF-8 for it to be binary, leaving runs of minNULRun NUL bytes or more out. A
// stray byte (a Latin-1 "é", a NUL) does not make a log binary, where short values
// would count inside words; SQLite pages, full of control bytes, are binary.
func textLike(b []byte) bool {
	bad, counted := 0, len(b)
	// counted only decreases: once bad is over the share, the block is binary.
	for i := 0; i < len(b) && (bad <= 1 || bad*100 <= counted); {
		c := b[i]
		switch {
		case c == 0:
			j := i + 1
			for j < len(b) && b[j] == 0 {
				j++
			}
			if j-i >= minNULRun {
				counted -= j - i
			} else {
				bad += j - i
			}
			i = j
		case c < utf8.RuneSelf:
			if notText[c] {
				bad++
			}
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				bad++
			}
			i += size
		}
	}
	return bad <= 1 || bad*100 <= counted
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

// wrappedBase64 returns the length of the lines of wrapped base64 starting b, line
// breaks included, or 0: two lines or more of base64 characters, all 64 (PEM, openssl)
// or 76 (MIME, base64(1)) long but the last, which may be shorter and padded. n is the
// length of b's first line.
func wrappedBase64(b []byte, n int) int {
	width := lineWidth(b[:n])
	if width != 64 && width != 76 || n == len(b) || !base64Line(b[:width]) {
		return 0
	}
	end, lines := n, 1
	for end < len(b) {
		next := bytes.IndexByte(b[end:], '\n') + 1
		if next == 0 {
			next = len(b) - end
		}
		line := b[end : end+next]
		w := lineWidth(line)
		if w == 0 || w > width || !base64Line(line[:w]) {
			break
		}
		end, lines = end+next, lines+1
		if w < width || line[w-1] == '=' {
			break
		}
	}
	if lines < 2 {
		return 0
	}
	return end
}

// lineWidth returns the length of a line without its line break.
func lineWidth(line []byte) int {
	w := len(line)
	if w > 0 && line[w-1] == '\n' {
		w--
	}
	if w > 0 && line[w-1] == '\r' {
		w--
	}
	return w
}

// base64Line reports whether a line is base64 characters, padded with "=" or "==" at
// most.
func base64Line(line []byte) bool {
	data := bytes.TrimRight(line, "=")
	if len(data) == 0 || len(line)-len(data) > 2 {
		return false
	}
	for _, c := range data {
		if class[c]&isB64 == 0 {
			return false
		}
	}
	return true
}
