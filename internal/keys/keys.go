// Package keys makes and checks PatchPanda API keys. A key is "ppk_", 32
// random base62 characters and a 6-character base62 CRC-32 checksum, so a
// mistyped or truncated key is told apart from a wrong one without a
// database look-up, and secret scanners can recognise it. Only a SHA-256 hash
// of a key is ever stored.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Prefix starts every PatchPanda API key.
const Prefix = "ppk_"

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomLen   = 32
	checksumLen = 6
	// Len is the length of a whole key.
	Len = len(Prefix) + randomLen + checksumLen
	// displayLen is how much of a key is kept to tell keys apart in lists.
	displayLen = len(Prefix) + 6
)

// New returns a new random key. It fails only when the system's random
// source does.
func New() (string, error) {
	buf := make([]byte, randomLen)
	// Rejection sampling keeps every character equally likely.
	out := make([]byte, 0, randomLen)
	for len(out) < randomLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 && len(out) < randomLen { // 248 = 4*62
				out = append(out, alphabet[b%62])
			}
		}
	}
	body := string(out)
	return Prefix + body + checksum(body), nil
}

func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	var c [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		c[i] = alphabet[n%62]
		n /= 62
	}
	return string(c[:])
}

// Check reports whether s is well formed: the prefix, the length, the
// alphabet and the checksum. It returns an EUNAUTHORIZED error saying which
// part is wrong, without echoing the key.
func Check(s string) error {
	if !strings.HasPrefix(s, Prefix) {
		return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key must start with %q", Prefix)
	}
	if len(s) != Len {
		return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key has %d characters, want %d", len(s), Len)
	}
	rest := s[len(Prefix):]
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key has an invalid character")
		}
	}
	body, sum := rest[:randomLen], rest[randomLen:]
	if checksum(body) != sum {
		return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key checksum does not match (mistyped or truncated?)")
	}
	return nil
}

// Hash returns the SHA-256 of a key: what the database keeps. Keys are
// 190 bits of randomness, so a fast hash is enough.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Display returns the part of a key safe to show in lists: the prefix and
// the first few characters.
func Display(key string) string {
	if len(key) < displayLen {
		return key
	}
	return key[:displayLen]
}
