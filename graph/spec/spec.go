// Package spec holds facts of Microsoft Graph's documented API that the graph
// client, the emulator and the gateway must agree on: the shape of object ids, the
// photo sizes Graph serves and Graph's request limits. It imports only the standard
// library, so any package may use it without compiling msgraph-sdk-go.
package spec

import "strings"

// MaxBatchRequests is the most requests one JSON batch ($batch) may hold.
// See https://learn.microsoft.com/graph/json-batching.
const MaxBatchRequests = 20

// MaxPresenceIDs is the most user ids one getPresencesByUserId request may hold.
// See https://learn.microsoft.com/graph/api/cloudcommunications-getpresencesbyuserid.
const MaxPresenceIDs = 650

// photoSizes are the sizes Graph serves under /users/{id}/photos/{size}, smallest
// first. See https://learn.microsoft.com/graph/api/profilephoto-get.
var photoSizes = [...]string{
	"48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504", "648x648",
}

// PhotoSizes returns the sizes Graph serves under /users/{id}/photos/{size}
// ("48x48" … "648x648"), smallest first, in a fresh slice the caller may modify.
func PhotoSizes() []string {
	out := make([]string, len(photoSizes))
	copy(out, photoSizes[:])
	return out
}

// IsPhotoSize reports whether s is one of the sizes Graph serves, compared
// case-insensitively: Graph's photo metadata spells them "48X48".
func IsPhotoSize(s string) bool {
	for _, p := range photoSizes {
		if strings.EqualFold(s, p) {
			return true
		}
	}
	return false
}

// IsObjectID reports whether s has the shape of a directory object id (and of a
// tenant or application id): a GUID of 8-4-4-4-12 hexadecimal digits in either case,
// e.g. "11111111-2222-3333-4444-555555555555". It checks the shape only, not the
// version or variant bits.
func IsObjectID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
