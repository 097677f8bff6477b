// Package oidctest is an OpenID Connect provider for tests: discovery, a
// JWKS, an authorization endpoint that signs the configured person in at
// once, and a token endpoint that checks the client secret, the redirect
// URI and the PKCE verifier before issuing an RS256 ID token. Tests can
// tamper with the next token (a wrong nonce, an expired token) to drive the
// relying party's checks.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClientID and ClientSecret are the only client the provider knows.
const (
	ClientID     = "patchpanda-dashboard"
	ClientSecret = "test-client-secret"
	keyID        = "oidctest-1"
)

// One key per test binary: RSA key generation is slow on a busy machine
// and a shared key changes nothing a test checks.
var keyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// Person is who the provider signs in.
type Person struct {
	Subject, Email, Name, GitHubLogin string
	Groups                            []string
}

type grant struct {
	redirectURI, nonce, challenge string
	person                        Person
}

// Provider is a running provider.
type Provider struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu     sync.Mutex
	person Person
	codes  map[string]grant
	tamper func(claims jwt.MapClaims)
	// Exchanges counts successful code exchanges.
	exchanges int
}

// New starts a provider that stops when the test ends, signing in person.
func New(t testing.TB, person Person) *Provider {
	t.Helper()
	key, err := keyOnce()
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key, person: person, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the issuer.
func (p *Provider) URL() string { return p.srv.URL }

// Client reaches the provider.
func (p *Provider) Client() *http.Client { return p.srv.Client() }

// SetPerson changes who the next sign-in is.
func (p *Provider) SetPerson(person Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = person
}

// TamperNext lets f change the claims of the next ID token issued.
func (p *Provider) TamperNext(f func(claims jwt.MapClaims)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// Exchanges returns how many codes were exchanged for tokens.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL(),
		"authorization_endpoint":                p.URL() + "/authorize",
		"token_endpoint":                        p.URL() + "/token",
		"jwks_uri":                              p.URL() + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": keyID,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func randomString() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// authorize signs the configured person in without asking and sends the
// browser back with a code, as an IdP does once the person has consented.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "" || q.Get("state") == "":
		http.Error(w, "redirect_uri and state are required", http.StatusBadRequest)
		return
	}
	code := randomString()
	p.mu.Lock()
	p.codes[code] = grant{redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), person: p.person}
	p.mu.Unlock()
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != ClientID || secret != ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // codes are single-use
	tamper := p.tamper
	p.tamper = nil
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case r.PostFormValue("grant_type") != "authorization_code", !found:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case r.PostFormValue("redirect_uri") != g.redirectURI:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri differs"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier does not match"})
		return
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": p.URL(), "aud": ClientID, "sub": g.person.Subject, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	if g.person.Email != "" {
		claims["email"], claims["email_verified"] = g.person.Email, true
	}
	if g.person.Name != "" {
		claims["name"] = g.person.Name
	}
	if g.person.GitHubLogin != "" {
		claims["github_login"] = g.person.GitHubLogin
	}
	if g.person.Groups != nil {
		claims["groups"] = g.person.Groups
	}
	if tamper != nil {
		tamper(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = keyID
	signed, err := tok.SignedString(p.key)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	p.mu.Lock()
	p.exchanges++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 300, "id_token": signed})
}
