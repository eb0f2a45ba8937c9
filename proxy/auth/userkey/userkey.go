// Package userkey owns the keyed hash under which graphgate names a user wherever it
// must name one without revealing who it is: the revocation list (in memory, in Redis
// and between instances) and the audit trail. Both call Of, so an operator holding the
// secret can match an audit record to a revocation marker, and neither reveals the id.
package userkey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Of returns the keyed hash of a user of a tenant:
// hex(HMAC-SHA256(secret, lower(tenantID)‖0x00‖lower(userID))). The ids are lower-cased
// because Entra treats object ids and UPNs case-insensitively; the zero byte keeps
// ("ab", "c") and ("a", "bc") apart.
func Of(secret []byte, tenantID, userID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.ToLower(tenantID)))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(userID)))
	return hex.EncodeToString(m.Sum(nil))
}
