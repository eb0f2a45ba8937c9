package scan

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// TestReadSizeHint: a reader holding more or less than its expected size is scanned
// like the same bytes in memory.
func TestReadSizeHint(t *testing.T) {
	s, err := New([]Value{{Label: "value 1", Text: []byte("Adele Vance")}})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("lorem ipsum dolor sit amet, "), 5<<20/28)
	for _, at := range []int{0, 4<<20 - 3, len(data) - 11} {
		copy(data[at:], "Adele Vance")
	}
	want := s.Bytes("r", data)
	if len(want) != 3 {
		t.Fatalf("Bytes: %v, want 3 findings", want)
	}
	for _, size := range []int64{0, 100, int64(len(data)), 1 << 30} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			st := s.newState("r")
			n, err := st.read(bytes.NewReader(data), size)
			if got := st.findings(); err != nil || n != int64(len(data)) || !reflect.DeepEqual(got, want) {
				t.Errorf("read %d bytes, %v: %v, want %v", n, err, got, want)
			}
		})
	}
}

// TestCaseFoldingOffsets: lower-casing that changes a character's length (Ⱥ is two
// bytes, ⱥ three; K, the Kelvin sign, three bytes, k one) keeps offsets right.
func TestCaseFoldingOffsets(t *testing.T) {
	s, err := New([]Value{{Label: "value 1", Text: []byte("Ⱥlpha Kelvin")}})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("ȺȺ \u212A ȺLPHA KELVIN, ⱥlpha \u212Aelvin")
	var got []int64
	for _, f := range s.Bytes("t", data) {
		got = append(got, f.Offset)
	}
	want := []int64{int64(bytes.Index(data, []byte("ȺLPHA"))), int64(bytes.Index(data, []byte("ⱥlpha")))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offsets %v, want %v", got, want)
	}
}
