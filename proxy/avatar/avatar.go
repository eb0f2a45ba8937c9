// Package avatar draws the initials avatar graphgate serves in place of a deactivated
// user's photo, so content they posted earlier still renders without their picture.
package avatar

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"strings"
	"unicode"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ContentType is the media type of the images Initials returns.
const ContentType = "image/png"

// palette holds muted background colours with enough contrast for white text.
var palette = []color.RGBA{
	{0x4f, 0x6b, 0xed, 0xff}, {0x2e, 0x7d, 0x32, 0xff}, {0xad, 0x14, 0x57, 0xff},
	{0x6a, 0x1b, 0x9a, 0xff}, {0x00, 0x69, 0x7c, 0xff}, {0xbf, 0x36, 0x0c, 0xff},
	{0x37, 0x47, 0x4f, 0xff}, {0x55, 0x8b, 0x2f, 0xff},
}

// Initials returns up to two letters for name ("Adele Vance" -> "AV"); "?" when the name
// holds no letters.
func Initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
	}
	switch {
	case len(out) == 0:
		return "?"
	case len(out) > 2:
		out = []rune{out[0], out[len(out)-1]}
	}
	return string(out)
}

// PNG draws a square size×size PNG of the initials of name on a colour derived from
// seed (e.g. the user's id, so one person keeps one colour). Sizes are clamped to
// 16..1024 pixels.
func PNG(name, seed string, size int) []byte {
	size = min(max(size, 16), 1024)
	text := Initials(name)
	// Draw the text small with the built-in bitmap font, then scale it up.
	face := basicfont.Face7x13
	w := font.MeasureString(face, text).Ceil() + 4
	small := image.NewRGBA(image.Rect(0, 0, max(w, 17), 17))
	bg := palette[hash(seed)%uint32(len(palette))]
	draw.Draw(small, small.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.White, Face: face,
		Dot: fixed.P((small.Bounds().Dx()-w)/2+2, 13)}
	d.DrawString(text)

	img := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	// Keep the aspect ratio of the text box, centred, about 60% of the width.
	tw := size * 6 / 10
	th := tw * small.Bounds().Dy() / small.Bounds().Dx()
	r := image.Rect((size-tw)/2, (size-th)/2, (size+tw)/2, (size+th)/2)
	draw.NearestNeighbor.Scale(img, r, small, small.Bounds(), draw.Src, nil)

	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding into memory cannot fail
	return buf.Bytes()
}

func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
