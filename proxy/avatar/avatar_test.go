package avatar

import (
	"bytes"
	"image/png"
	"testing"
)

func TestInitials(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Adele Vance", "AV"},
		{"adele", "A"},
		{"Jean-Luc de la Vega", "JV"},
		{"  ", "?"},
		{"", "?"},
		{"Émile Zola", "ÉZ"},
		{"!!! ###", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Initials(tt.name); got != tt.want {
				t.Errorf("Initials(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestPNGSizesAndDeterminism(t *testing.T) {
	for _, size := range []int{48, 96, 648, 1, 5000} {
		b := PNG("Adele Vance", "id-1", size)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("size %d: not a PNG: %v", size, err)
		}
		want := min(max(size, 16), 1024)
		if got := img.Bounds().Dx(); got != want || img.Bounds().Dy() != want {
			t.Errorf("size %d: got %dx%d, want %dx%d", size, got, img.Bounds().Dy(), want, want)
		}
	}
	if !bytes.Equal(PNG("A B", "x", 64), PNG("A B", "x", 64)) {
		t.Error("same input gave different images")
	}
	if bytes.Equal(PNG("A B", "x", 64), PNG("C D", "x", 64)) {
		t.Error("different initials gave the same image")
	}
}
