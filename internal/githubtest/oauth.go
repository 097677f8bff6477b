package githubtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// GitHub's OAuth web flow, as an OAuth App uses it to sign people in
// ("Authorizing OAuth apps"): GET /login/oauth/authorize on github.com
// sends the browser back to the redirect URI with a code and the state
// (the fake signs in the user given to SetOAuthUser without asking), and
// POST /login/oauth/access_token exchanges the code, checking the client
// secret and, when the authorization carried a code_challenge, the PKCE
// verifier. The token it issues is a user token: GET /user and team
// memberships answer for that user.
const (
	RouteOAuthAuthorize   = "GET /login/oauth/authorize"
	RouteOAuthAccessToken = "POST /login/oauth/access_token"
)

type oauthState struct {
	mu                     sync.Mutex
	clientID, clientSecret string
	user                   User
	codes                  map[string]oauthCode
}

type oauthCode struct {
	redirectURI, challenge string
	user                   User
}

// SetOAuthApp registers the OAuth App (client id and secret) that may
// sign people in.
func (s *Server) SetOAuthApp(clientID, clientSecret string) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.clientID, s.oauth.clientSecret = clientID, clientSecret
}

// SetOAuthUser makes u the person who signs in next.
func (s *Server) SetOAuthUser(u User) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.user = u
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.oauth.mu.Lock()
	known := s.oauth.clientID != "" && q.Get("client_id") == s.oauth.clientID
	user := s.oauth.user
	s.oauth.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case !known:
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	case err != nil || redirect.Host == "":
		http.Error(w, "The redirect_uri MUST match the registered callback URL for this application.", http.StatusBadRequest)
		return
	case user.Login == "":
		http.Error(w, "githubtest: SetOAuthUser first", http.StatusInternalServerError)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	code := randomHex(10)
	s.oauth.mu.Lock()
	if s.oauth.codes == nil {
		s.oauth.codes = map[string]oauthCode{}
	}
	s.oauth.codes[code] = oauthCode{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), user: user}
	s.oauth.mu.Unlock()
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// oauthAccessToken answers like GitHub: 200 even for errors, with an
// "error" field; form-encoded unless JSON is asked for.
func (s *Server) oauthAccessToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	answer := func(v url.Values) {
		if strings.Contains(r.Header.Get("Accept"), "json") {
			m := map[string]string{}
			for k := range v {
				m[k] = v.Get(k)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte(v.Encode()))
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	s.oauth.mu.Lock()
	good := s.oauth.clientID != "" && id == s.oauth.clientID && secret == s.oauth.clientSecret
	c, found := s.oauth.codes[r.PostFormValue("code")]
	delete(s.oauth.codes, r.PostFormValue("code"))
	s.oauth.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case !good:
		answer(url.Values{"error": {"incorrect_client_credentials"}})
		return
	case !found:
		answer(url.Values{"error": {"bad_verification_code"}})
		return
	case r.PostFormValue("redirect_uri") != "" && r.PostFormValue("redirect_uri") != c.redirectURI:
		answer(url.Values{"error": {"redirect_uri_mismatch"}})
		return
	case c.challenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		answer(url.Values{"error": {"bad_verification_code"}, "error_description": {"the code_verifier does not match"}})
		return
	}
	token := "gho_" + randomHex(18)
	s.AddUser(token, c.user)
	answer(url.Values{"access_token": {token}, "token_type": {"bearer"}, "scope": {"read:org,read:user"}})
}
