package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/patchpanda/patchpanda/internal/githubapp"
)

// identity is who the identity provider says signed in.
type identity struct {
	Subject, Email, Name, Login string
	Groups                      []string
}

// signInError is a refused sign-in: Status and Message are for the person,
// Cause for the log.
type signInError struct {
	Status  int
	Message string
	Cause   error
}

func (e *signInError) Error() string { return fmt.Sprintf("%s: %v", e.Message, e.Cause) }

func refuse(status int, msg string, cause error) *signInError {
	return &signInError{Status: status, Message: msg, Cause: cause}
}

// identityProvider is one way to sign in: OpenID Connect, or GitHub's
// OAuth for organizations without an OIDC IdP.
type identityProvider interface {
	// authURL is where the browser goes to sign in.
	authURL(ctx context.Context, p pendingLogin) (string, error)
	// identify exchanges the code and says who signed in.
	identify(ctx context.Context, code string, p pendingLogin) (identity, *signInError)
}

// oidcProvider signs in with OpenID Connect: the authorization code flow
// with PKCE, state and nonce, and a verified ID token.
type oidcProvider struct {
	cfg    OIDC
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier // nil until the issuer was discovered
}

func (o *oidcProvider) ctx(ctx context.Context) context.Context {
	if o.client != nil {
		ctx = oidc.ClientContext(ctx, o.client)
		ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	}
	return ctx
}

// discover reads the issuer's configuration once, retrying on the next
// sign-in when that failed.
func (o *oidcProvider) discover(ctx context.Context) (oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.verifier == nil {
		p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
		if err != nil {
			return oauth2.Config{}, nil, fmt.Errorf("dashboard: discover PATCHPANDA_OIDC_ISSUER %s: %w", o.cfg.Issuer, err)
		}
		o.oauth = oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
		// The verifier checks the signature, the issuer, that our client
		// id is in the audience, and expiry (against now, so tests can
		// move time).
		o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: o.now})
	}
	return o.oauth, o.verifier, nil
}

func (o *oidcProvider) authURL(ctx context.Context, p pendingLogin) (string, error) {
	oc, _, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), nil
}

func (o *oidcProvider) identify(ctx context.Context, code string, p pendingLogin) (identity, *signInError) {
	oc, verifier, err := o.discover(ctx)
	if err != nil {
		return identity{}, refuse(http.StatusBadGateway, "The identity provider could not be reached.", err)
	}
	ctx = o.ctx(ctx)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return identity{}, refuse(http.StatusBadGateway, "The identity provider did not accept the sign-in code.", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity{}, refuse(http.StatusBadGateway, "The identity provider sent no ID token.", nil)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return identity{}, refuse(http.StatusForbidden, "The ID token is not valid (issuer, audience, signature or expiry).", err)
	}
	if !equal(idt.Nonce, p.Nonce) {
		return identity{}, refuse(http.StatusForbidden, "The ID token was not issued for this sign-in (nonce mismatch).", nil)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
		Login         string `json:"github_login"`
		Groups        any    `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		return identity{}, refuse(http.StatusForbidden, "The ID token's claims could not be read.", err)
	}
	if claims.EmailVerified != nil && !*claims.EmailVerified {
		claims.Email = "" // an unverified address grants nothing
	}
	return identity{Subject: idt.Subject, Email: claims.Email, Name: claims.Name, Login: claims.Login, Groups: groups(claims.Groups)}, nil
}

// groups reads a groups claim: a list of strings or one string.
func groups(v any) []string {
	switch g := v.(type) {
	case string:
		return []string{g}
	case []any:
		var out []string
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// GitHubOAuth configures GitHub itself as the identity provider (an OAuth
// App), for organizations without an OIDC IdP.
type GitHubOAuth struct {
	ClientID, ClientSecret, RedirectURL string
	// WebURL is GitHub's web origin (see WebURL).
	WebURL string
}

// Configured reports whether every setting is present.
func (g GitHubOAuth) Configured() bool {
	return g.ClientID != "" && g.ClientSecret != "" && g.RedirectURL != "" && g.WebURL != ""
}

// GitHubUsers is what signing in with GitHub asks the API
// (internal/githubapp) with the person's token.
type GitHubUsers interface {
	AuthenticatedUser(ctx context.Context, userToken string) (*githubapp.User, error)
	UserTeamMembership(ctx context.Context, userToken, org, slug, login string) (githubapp.Membership, error)
}

// githubProvider signs in with GitHub's OAuth web flow (with PKCE): the
// token only serves to ask GitHub who the person is and which of the teams
// the dashboard grants roles to they belong to; it is then dropped.
type githubProvider struct {
	oauth oauth2.Config
	users GitHubUsers
	// teams are the "org/slug" groups the grants name: membership of each
	// is asked, so groups: [acme/platform] works with GitHub sign-in.
	teams  []string
	client *http.Client
}

func newGitHubProvider(g GitHubOAuth, users GitHubUsers, teams []string, client *http.Client) *githubProvider {
	web := strings.TrimRight(g.WebURL, "/")
	return &githubProvider{
		oauth: oauth2.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret, RedirectURL: g.RedirectURL,
			Endpoint: oauth2.Endpoint{AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams},
			Scopes:   []string{"read:user", "read:org"}},
		users: users, teams: teams, client: client,
	}
}

func (g *githubProvider) authURL(ctx context.Context, p pendingLogin) (string, error) {
	return g.oauth.AuthCodeURL(p.State, oauth2.S256ChallengeOption(p.Verifier)), nil
}

func (g *githubProvider) identify(ctx context.Context, code string, p pendingLogin) (identity, *signInError) {
	if g.client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, g.client)
	}
	tok, err := g.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return identity{}, refuse(http.StatusBadGateway, "GitHub did not accept the sign-in code.", err)
	}
	u, err := g.users.AuthenticatedUser(ctx, tok.AccessToken)
	if err != nil {
		return identity{}, refuse(http.StatusBadGateway, "GitHub did not say who signed in.", err)
	}
	id := identity{Subject: "github:" + strconv.FormatInt(u.ID, 10), Name: u.Name, Login: u.Login}
	for _, team := range g.teams {
		org, slug, _ := strings.Cut(team, "/")
		m, err := g.users.UserTeamMembership(ctx, tok.AccessToken, org, slug, u.Login)
		if err != nil {
			return identity{}, refuse(http.StatusBadGateway, "GitHub did not answer which teams you are in.", err)
		}
		if m.Active() {
			id.Groups = append(id.Groups, team)
		}
	}
	return id, nil
}
