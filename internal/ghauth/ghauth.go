// Package ghauth lets people reach the API with their own GitHub token (as
// `gh patchpanda` does): the token names a GitHub user, and the server
// config's RBAC maps that user, or a team they belong to, to a role, and the
// role to scopes.
package ghauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/authz"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// GitHub is what the authenticator asks GitHub, with the user's token.
type GitHub interface {
	AuthenticatedUser(ctx context.Context, userToken string) (*githubapp.User, error)
	UserTeamMembership(ctx context.Context, userToken, org, slug, login string) (githubapp.Membership, error)
}

// Authenticator maps a GitHub token to a principal. Only grants of the
// server config's rbac section that cover every repository (no repos:
// pattern) count: the API is not about one repository. Answers are cached
// for five minutes under a hash of the token, and tokens GitHub refused for
// RejectedTTL, so a stream of junk tokens costs one call to GitHub each at
// most once (the API's per-address limit on failures bounds the rest).
type Authenticator struct {
	GitHub   GitHub
	RBAC     config.RBAC
	cache    *authz.Cache[[32]byte, *patchpanda.Principal]
	rejected *authz.Cache[[32]byte, struct{}]
}

// RejectedTTL is how long a token GitHub refused is refused again without
// asking.
const RejectedTTL = time.Minute

// New returns an Authenticator over gh and rbac.
func New(gh GitHub, rbac config.RBAC) *Authenticator {
	return &Authenticator{GitHub: gh, RBAC: rbac, cache: authz.NewCache[[32]byte, *patchpanda.Principal](5*time.Minute, 10000, time.Now),
		rejected: authz.NewCache[[32]byte, struct{}](RejectedTTL, 10000, time.Now)}
}

// errRejected is the answer for a token GitHub does not accept.
func errRejected() error {
	return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "GitHub did not accept the token: use an API key (ppk_…) or a valid GitHub token")
}

// Authenticate returns the principal of a GitHub token: Kind "github_user",
// the login, and the scopes of the user's highest global role (none when no
// grant names them, so every route answers 403). It returns an
// EUNAUTHORIZED error when GitHub does not accept the token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error) {
	key := sha256.Sum256([]byte(token))
	if p, ok := a.cache.Get(key); ok {
		return p, nil
	}
	if _, ok := a.rejected.Get(key); ok {
		return nil, errRejected()
	}
	u, err := a.GitHub.AuthenticatedUser(ctx, token)
	if err != nil {
		if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED {
			a.rejected.Set(key, struct{}{})
			return nil, errRejected()
		}
		return nil, fmt.Errorf("ghauth: %w", err)
	}
	role := config.RoleNone
	for _, g := range a.RBAC.Grants {
		if len(g.Repos) > 0 || rank(g.Role) <= rank(role) && g.Role != config.RoleBlocked {
			continue
		}
		member, err := a.granted(ctx, token, u.Login, g)
		if err != nil {
			return nil, err
		}
		if !member {
			continue
		}
		if g.Role == config.RoleBlocked {
			role = config.RoleBlocked
			break
		}
		role = g.Role
	}
	p := &patchpanda.Principal{Kind: "github_user", Name: u.Login, Scopes: authz.Scopes(role)}
	a.cache.Set(key, p)
	return p, nil
}

func (a *Authenticator) granted(ctx context.Context, token, login string, g config.Grant) (bool, error) {
	for _, user := range g.Users {
		if strings.EqualFold(user, login) {
			return true, nil
		}
	}
	for _, team := range g.Teams {
		org, slug, ok := strings.Cut(team, "/")
		if !ok {
			continue
		}
		m, err := a.GitHub.UserTeamMembership(ctx, token, org, slug, login)
		if err != nil && patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			return false, fmt.Errorf("ghauth: team %s: %w", team, err)
		}
		if err == nil && m.Active() {
			return true, nil
		}
	}
	return false, nil
}

func rank(r config.Role) int {
	switch r {
	case config.RoleViewer:
		return 1
	case config.RoleDeveloper:
		return 2
	case config.RoleMaintainer:
		return 3
	case config.RoleAdmin:
		return 4
	}
	return 0
}
