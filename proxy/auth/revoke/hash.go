package revoke

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// hasher derives the keyed hashes under which users are stored. Nothing derived from a
// user id in a reversible form leaves the process: other instances learn only the keyed
// hash, and purge their caches by hashing the user ids they hold (see KeyOf).
type hasher struct {
	mac []byte
}

func newHasher(secret []byte) *hasher {
	return &hasher{mac: append([]byte(nil), secret...)}
}

// Key returns the keyed hash of a user: hex(HMAC-SHA256(secret, tenant‖0x00‖user)),
// both ids lower-cased. It is what the store, Redis and the audit log hold.
func Key(secret []byte, tenantID, userID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.ToLower(tenantID)))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(userID)))
	return hex.EncodeToString(m.Sum(nil))
}

func (h *hasher) key(tenantID, userID string) string { return Key(h.mac, tenantID, userID) }
