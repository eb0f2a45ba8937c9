package proxy

import (
	"encoding/json"
	"testing"
)

// FuzzAppendString holds the hand-written string encoder to encoding/json's output.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "<script>&", "\x00\x01\x1f\b\f\n\r\t",
		"é ü 漢字 🙂", "\u2028\u2029", "bad \xff\xfe utf8", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	count := int64(7)
	values := []any{
		nil, true, "x", 1.5, []any{"a", nil, true},
		map[string]any{"b": 1, "a": []any{"+1 555"}, "@odata.context": "c", "n": nil},
		[]map[string]any{{"id": "1"}, {"id": "2", "x": map[string]any{"y": "z"}}},
		map[string]any{"@odata.count": &count, "value": []map[string]any{}},
	}
	for _, v := range values {
		var got, want any
		if err := json.Unmarshal(appendValue(nil, v), &got); err != nil {
			t.Fatalf("%v: invalid JSON: %v", v, err)
		}
		raw, _ := json.Marshal(v)
		_ = json.Unmarshal(raw, &want)
		if gj, _ := json.Marshal(got); string(gj) != string(raw) && !jsonEqual(got, want) {
			t.Errorf("%v: got %s, want %s", v, gj, raw)
		}
	}
	if got := string(appendValue(nil, map[string]any{"z": 1, "@odata.type": "t", "a": 2, "@odata.context": "c"})); got != `{"@odata.context":"c","@odata.type":"t","a":2,"z":1}` {
		t.Errorf("key order: %s", got)
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
