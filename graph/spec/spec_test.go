package spec_test

import (
	"slices"
	"testing"

	"github.com/graphgate/graphgate/graph/spec"
)

func TestIsObjectID(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"lower case", "11111111-2222-3333-4444-555555555555", true},
		{"hex letters", "abcdef01-2345-6789-abcd-ef0123456789", true},
		{"upper case", "ABCDEF01-2345-6789-ABCD-EF0123456789", true},
		{"mixed case", "aBcDeF01-2345-6789-AbCd-eF0123456789", true},
		{"any version bits", "00000000-0000-0000-0000-000000000000", true},
		{"empty", "", false},
		{"no dashes", "11111111222233334444555555555555", false},
		{"braces", "{11111111-2222-3333-4444-555555555555}", false},
		{"too short", "11111111-2222-3333-4444-55555555555", false},
		{"too long", "11111111-2222-3333-4444-5555555555555", false},
		{"dash misplaced", "1111111-12222-3333-4444-555555555555", false},
		{"non-hex letter", "g1111111-2222-3333-4444-555555555555", false},
		{"space", "11111111-2222-3333-4444-55555555555 ", false},
		{"newline", "11111111-2222-3333-4444-55555555555\n", false},
		{"upn", "adele.vance@contoso.example", false},
		{"multi-byte", "11111111-2222-3333-4444-5555555555é", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := spec.IsObjectID(tc.in); got != tc.want {
				t.Errorf("IsObjectID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestPhotoSizes(t *testing.T) {
	want := []string{"48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504", "648x648"}
	got := spec.PhotoSizes()
	if !slices.Equal(got, want) {
		t.Fatalf("PhotoSizes() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if spec.PhotoSizes()[0] != "48x48" {
		t.Error("PhotoSizes() shares its slice: a caller's change leaked")
	}
}

func TestIsPhotoSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"48x48", true},
		{"648x648", true},
		{"120x120", true},
		{"48X48", true},
		{"648X648", true},
		{"", false},
		{"x", false},
		{"48", false},
		{"48x64", false},
		{"50x50", false},
		{"1024x1024", false},
		{"048x048", false},
		{" 48x48", false},
		{"48x48/", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := spec.IsPhotoSize(tc.in); got != tc.want {
				t.Errorf("IsPhotoSize(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"MaxBatchRequests", spec.MaxBatchRequests, 20},
		{"MaxPresenceIDs", spec.MaxPresenceIDs, 650},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %d, want %d (Graph's documented limit)", tc.name, tc.got, tc.want)
			}
		})
	}
}

func BenchmarkIsObjectID(b *testing.B) {
	for b.Loop() {
		spec.IsObjectID("aBcDeF01-2345-6789-AbCd-eF0123456789")
	}
}
