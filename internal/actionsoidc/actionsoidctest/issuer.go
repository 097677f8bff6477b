// Package actionsoidctest serves a fake GitHub Actions token issuer over
// httptest: the discovery document, a JWKS, and RS256 tokens signed with a
// test key.
package actionsoidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeyID is the "kid" of the issuer's signing key.
const KeyID = "test-key-1"

// Issuer is a running fake issuer.
type Issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	// JWKSFetches counts requests for the key set.
	JWKSFetches atomic.Int64
}

// New starts an issuer that stops when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                iss.URL(),
			"jwks_uri":                              iss.URL() + "/.well-known/jwks",
			"subject_types_supported":               []string{"public"},
			"response_types_supported":              []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "repository", "repository_id", "repository_owner_id"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.JWKSFetches.Add(1)
		pub := key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KeyID,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// URL returns the issuer URL (the "iss" of its tokens).
func (i *Issuer) URL() string { return i.srv.URL }

// Client returns an HTTP client that reaches the issuer.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// Token returns a token for repository ("owner/name") and audience,
// expiring in ttl (negative: already expired), signed with the issuer's
// key. extra claims are added or override the defaults.
func (i *Issuer) Token(t testing.TB, repository, audience string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": i.URL(), "aud": audience, "sub": "repo:" + repository + ":ref:refs/heads/main",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
		"repository": repository, "repository_owner": "", "ref": "refs/heads/main", "run_id": "1",
		"event_name": "push", "actor": "octocat",
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = KeyID
	s, err := tok.SignedString(i.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// IDs returns the claims that give a token's repository and owner their
// GitHub ids, as decimal strings the way GitHub sends them; pass it (or
// add to it) as Token's extra claims.
func IDs(repositoryID, ownerID int64) map[string]any {
	return map[string]any{
		"repository_id":       strconv.FormatInt(repositoryID, 10),
		"repository_owner_id": strconv.FormatInt(ownerID, 10),
	}
}

// ForeignToken returns a token like Token but signed by a key the issuer
// does not publish.
func (i *Issuer) ForeignToken(t testing.TB, repository, audience string) string {
	t.Helper()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": i.URL(), "aud": audience, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "repository": repository,
	})
	tok.Header["kid"] = KeyID
	s, err := tok.SignedString(other)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
