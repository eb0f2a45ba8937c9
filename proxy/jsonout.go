package proxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// graphJSON is the content type Graph answers JSON with.
var graphJSON = []string{"application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"}

// bufPool recycles response buffers of the hot path.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeJSON writes a Graph JSON body. Objects (map[string]any, gin.H) are written with
// their OData annotations first and the other keys sorted, as a stable order for clients
// and tests; values encode exactly as encoding/json would, HTML-safe.
func writeJSON(c *gin.Context, body any) {
	bp := bufPool.Get().(*[]byte)
	buf := appendValue((*bp)[:0], body)
	c.Writer.Header()["Content-Type"] = graphJSON
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(buf)
	if cap(buf) <= 64<<10 {
		*bp = buf
		bufPool.Put(bp)
	}
}

// appendValue appends the JSON encoding of v.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case map[string]any:
		return appendObject(b, x)
	case gin.H:
		return appendObject(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case []map[string]any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendObject(b, e)
		}
		return append(b, ']')
	default:
		j, err := json.Marshal(x)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, j...)
	}
}

// appendObject writes annotations ("@…") first, then the other keys, each group sorted.
func appendObject(b []byte, m map[string]any) []byte {
	var arr [24]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		ax, ay := len(x) > 0 && x[0] == '@', len(y) > 0 && y[0] == '@'
		switch {
		case ax && !ay:
			return -1
		case ay && !ax:
			return 1
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does: control
// characters, quotes, backslashes, <, > and &, U+2028 and U+2029; invalid UTF-8 becomes
// U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
