package scan

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"

	"golang.org/x/text/unicode/norm"
)

// kind says what a needle is: a text form of a value, a binary value, or a digest.
type kind uint8

const (
	kindText   kind = iota // a lower-cased text form, searched in lower-cased views
	kindRaw                // a binary value's bytes
	kindSHA256             // a raw SHA-256 digest of the value
	kindSHA1               // a raw SHA-1 digest
	kindMD5                // a raw MD5 digest
)

var digestNames = [...]string{kindSHA256: "SHA-256", kindSHA1: "SHA-1", kindMD5: "MD5"}

// needle is one byte string that betrays a value.
type needle struct {
	b     []byte
	value int32 // index of the value in Scanner.values
	kind  kind
	word  bool // in text, counts only where it stands as a word (shorter than WordLen)
}

// standsAlone reports whether the needle found at d[at:] is not inside a longer word:
// the bytes next to it are not letters or digits where its own edge is one. edge holds
// the bytes before and after d, 0 for none.
func (n *needle) standsAlone(d []byte, at int, edge [2]byte) bool {
	before, after, end := edge[0], edge[1], at+len(n.b)
	if at > 0 {
		before = d[at-1]
	}
	if end < len(d) {
		after = d[end]
	}
	return !(isWordByte(n.b[0]) && isWordByte(before)) && !(isWordByte(n.b[len(n.b)-1]) && isWordByte(after))
}

// isWordByte reports ASCII letters and digits and the bytes of multi-byte UTF-8
// characters (letters such as "ø").
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

// needlesFor returns the needles of value i: its lower-cased text forms (as given, NFC
// and NFD) searched case-insensitively, and the exact ones (its digests, or its bytes
// when it is binary). It refuses a value whose needles are shorter than MinLen.
func needlesFor(i int, v Value) (text, exact []needle, err error) {
	if len(v.Text) < MinLen {
		return nil, nil, ErrTooShort
	}
	digestOf := [][]byte{v.Text}
	if isText(v.Text) {
		forms := [][]byte{v.Text}
		if !ascii(v.Text) {
			forms = append(forms, norm.NFC.Bytes(v.Text), norm.NFD.Bytes(v.Text))
		}
		for _, f := range unique(forms, bytes.ToLower) {
			if len(f) < MinLen {
				return nil, nil, ErrTooShort
			}
			text = append(text, needle{b: f, value: int32(i), kind: kindText, word: len(f) < WordLen})
		}
		digestOf = unique([][]byte{v.Text, bytes.ToLower(v.Text), bytes.ToUpper(v.Text)}, nil)
	} else {
		exact = append(exact, needle{b: v.Text, value: int32(i), kind: kindRaw})
	}
	for _, d := range digestOf {
		s256, s1, m5 := sha256.Sum256(d), sha1.Sum(d), md5.Sum(d)
		exact = append(exact,
			needle{b: s256[:], value: int32(i), kind: kindSHA256},
			needle{b: s1[:], value: int32(i), kind: kindSHA1},
			needle{b: m5[:], value: int32(i), kind: kindMD5})
	}
	return text, exact, nil
}

// unique returns the distinct byte strings of in, each mapped by f first when f is set.
func unique(in [][]byte, f func([]byte) []byte) [][]byte {
	var out [][]byte
	for _, b := range in {
		if f != nil {
			b = f(b)
		}
		dup := false
		for _, o := range out {
			dup = dup || bytes.Equal(o, b)
		}
		if !dup {
			out = append(out, b)
		}
	}
	return out
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// filterBits sizes an index's filter: one bit per hash of a needle's first four bytes.
const filterBits = 20

// index finds many needles in one pass over the data: a bit filter on a hash of the
// first four bytes rules out almost every position, a map from those four bytes to the
// needles starting with them checks the rest.
type index struct {
	filter  []uint64
	heads   map[uint32][]int32
	needles []needle
}

func newIndex(ns []needle) *index {
	ix := &index{filter: make([]uint64, 1<<filterBits/64), heads: map[uint32][]int32{}, needles: ns}
	for i, n := range ns {
		k := binary.LittleEndian.Uint32(n.b)
		h := hash4(k)
		ix.filter[h>>6] |= 1 << (h & 63)
		ix.heads[k] = append(ix.heads[k], int32(i))
	}
	return ix
}

func hash4(k uint32) uint32 { return (k * 0x9E3779B1) >> (32 - filterBits) }

// each calls fn for every needle occurring in d at a position below limit.
func (ix *index) each(d []byte, limit int, fn func(n *needle, at int)) {
	if len(ix.needles) == 0 {
		return
	}
	limit = min(limit, len(d)-3)
	filter := ix.filter
	for i := 0; i < limit; i++ {
		k := binary.LittleEndian.Uint32(d[i:])
		h := hash4(k)
		if filter[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, id := range ix.heads[k] {
			n := &ix.needles[id]
			if bytes.HasPrefix(d[i:], n.b) {
				fn(n, i)
			}
		}
	}
}
