package dashboard_test

import "crypto/sha256"

// hashOf is what the store keeps of a session id (the cookie's value).
func hashOf(id string) []byte {
	s := sha256.Sum256([]byte(id))
	return s[:]
}
