package revoke

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// hasher derives the keyed hashes under which users are stored, and seals user ids
// for the other instances (so they can purge their caches) with a key derived from the
// same secret.
type hasher struct {
	mac  []byte
	aead cipher.AEAD
}

func newHasher(secret []byte) (*hasher, error) {
	sealKey := hmac.New(sha256.New, secret)
	sealKey.Write([]byte("graphgate/revoke/seal/v1"))
	block, err := aes.NewCipher(sealKey.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("revoke: seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("revoke: seal key: %w", err)
	}
	return &hasher{mac: append([]byte(nil), secret...), aead: aead}, nil
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

// seal encrypts a user id (AES-256-GCM), bound to its tenant and key.
func (h *hasher) seal(tenantID, key, userID string) (string, error) {
	nonce := make([]byte, h.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("revoke: seal: %w", err)
	}
	out := h.aead.Seal(nonce, nonce, []byte(strings.ToLower(userID)), []byte(tenantID+"|"+key))
	return base64.RawStdEncoding.EncodeToString(out), nil
}

var errSealed = errors.New("revoke: sealed user id does not open")

// open decrypts what seal produced and checks that it belongs to key.
func (h *hasher) open(tenantID, key, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < h.aead.NonceSize() {
		return "", errSealed
	}
	n := h.aead.NonceSize()
	pt, err := h.aead.Open(nil, raw[:n], raw[n:], []byte(tenantID+"|"+key))
	if err != nil || h.key(tenantID, string(pt)) != key {
		return "", errSealed
	}
	return string(pt), nil
}
