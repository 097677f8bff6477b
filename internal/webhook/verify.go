package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// SignatureHeader is the header GitHub puts the body's HMAC-SHA256 in.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Verifier checks webhook signatures against one or more secrets. Several
// secrets exist so that a secret can be rotated: configure the new one beside
// the old, change it on GitHub, then remove the old one. A Verifier is safe for
// concurrent use.
type Verifier struct {
	secrets [][]byte
}

// NewVerifier returns a Verifier that accepts a body signed with any one of
// secrets. It returns an error when no secret is given, so that the endpoint
// refuses to run unsigned, or when a secret is empty, because an empty secret
// (a stray comma in a list, say) would make signatures trivial to forge.
func NewVerifier(secrets []string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no webhook secret configured")
	}
	v := &Verifier{secrets: make([][]byte, len(secrets))}
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("webhook: webhook secret %d of %d is empty", i+1, len(secrets))
		}
		v.secrets[i] = []byte(s)
	}
	return v, nil
}

// Sign returns the X-Hub-Signature-256 value GitHub would send for body
// signed with secret: "sha256=" and the hex HMAC-SHA256. Tests and fakes of
// GitHub use it to build deliveries. It cannot fail.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify checks signature, the value of the X-Hub-Signature-256 header,
// against body under every configured secret, comparing in constant time.
// It returns the index of the secret that matched, so that operators can see
// when an old secret is no longer used. It returns an EUNAUTHORIZED
// *patchpanda.Error when the header is missing, malformed or matches no
// secret.
func (v *Verifier) Verify(body []byte, signature string) (int, error) {
	want, err := parseSignature(signature)
	if err != nil {
		return -1, err
	}
	macs := v.newMACs()
	for _, m := range macs {
		m.Write(body)
	}
	return v.match(macs, want)
}

// parseSignature checks the header's form and returns the MAC it carries,
// or an EUNAUTHORIZED error. It needs no body, so Read calls it before
// reading one.
func parseSignature(signature string) ([]byte, error) {
	if signature == "" {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "missing %s header", SignatureHeader)
	}
	hexMAC, ok := strings.CutPrefix(signature, signaturePrefix)
	// A SHA-256 MAC is 32 bytes, 64 hex digits; checking the length first
	// keeps an attacker from making us decode a long header.
	if !ok || len(hexMAC) != 2*sha256.Size {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "%s is not of the form sha256=<64 hex digits>", SignatureHeader)
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "%s is not of the form sha256=<64 hex digits>", SignatureHeader)
	}
	return got, nil
}

// newMACs returns one HMAC per secret, to be fed the body as it is read.
func (v *Verifier) newMACs() []hash.Hash {
	macs := make([]hash.Hash, len(v.secrets))
	for i, secret := range v.secrets {
		macs[i] = hmac.New(sha256.New, secret)
	}
	return macs
}

// match compares each MAC with want and returns the index of the first
// secret that matched, or an EUNAUTHORIZED error.
func (v *Verifier) match(macs []hash.Hash, want []byte) (int, error) {
	match := -1
	// Every secret is tried, even after a match, so the time taken does not
	// tell which secret (old or new) a forgery came close to.
	for i, m := range macs {
		if hmac.Equal(m.Sum(nil), want) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return -1, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "%s does not match the body under any configured secret", SignatureHeader)
	}
	return match, nil
}
