package revoke

import "github.com/graphgate/graphgate/proxy/auth/userkey"

// hasher derives the keyed hashes under which users are stored. Nothing derived from a
// user id in a reversible form leaves the process: other instances learn only the keyed
// hash, and purge their caches by hashing the user ids they hold (see KeyOf).
type hasher struct {
	mac []byte
}

func newHasher(secret []byte) *hasher {
	return &hasher{mac: append([]byte(nil), secret...)}
}

// Key returns the keyed hash of a user, userkey.Of(secret, tenantID, userID):
// hex(HMAC-SHA256(secret, lower(tenant)‖0x00‖lower(user))). It is what the store, Redis
// and the audit log hold; package userkey owns the scheme.
func Key(secret []byte, tenantID, userID string) string {
	return userkey.Of(secret, tenantID, userID)
}

func (h *hasher) key(tenantID, userID string) string { return userkey.Of(h.mac, tenantID, userID) }
