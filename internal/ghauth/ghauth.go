// Package ghauth lets people reach the API with their own GitHub token (as
// `gh patchpanda` does): the token names a GitHub user, and the server
// config's RBAC maps that user, or a team they belong to, to a role, and the
// role to scopes.
package ghauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/authz"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/ttlcache"
)

// GitHub is what the authenticator asks GitHub: who a user token
// belongs to (with that token), and team memberships (with the App's
// installation token for the team's organisation, never the caller's: a
// user token without read:org sees no teams, which would hide a block).
type GitHub interface {
	AuthenticatedUser(ctx context.Context, userToken string) (*githubapp.User, error)
	TeamMembership(ctx context.Context, installationID int64, org, slug, user string) (githubapp.Membership, error)
}

// Installations finds the App's installation on an organisation.
type Installations interface {
	InstallationForAccount(ctx context.Context, account string) (int64, error)
}

// Authenticator maps a GitHub token to a principal. Only grants of the
// server config's rbac section that cover every repository (no repos:
// pattern) give scopes: the API is not about one repository; decisions
// about one repository (replays) apply the repository-scoped grants, blocks
// included (dispatch.Decide). Answers are cached for five minutes under a
// hash of the token, and tokens GitHub refused for RejectedTTL, so a stream
// of junk tokens costs one call to GitHub each at most once (the API's
// per-address limit on failures bounds the rest).
type Authenticator struct {
	GitHub        GitHub
	RBAC          config.RBAC
	Installations Installations
	cache         *ttlcache.Cache[[32]byte, *patchpanda.Principal]
	rejected      *ttlcache.Cache[[32]byte, struct{}]
}

// RejectedTTL is how long a token GitHub refused is refused again without
// asking.
const RejectedTTL = time.Minute

// New returns an Authenticator over gh, rbac and the App's installations.
func New(gh GitHub, rbac config.RBAC, inst Installations) *Authenticator {
	return &Authenticator{GitHub: gh, RBAC: rbac, Installations: inst,
		cache:    ttlcache.New[[32]byte, *patchpanda.Principal](5*time.Minute, 10000, time.Now),
		rejected: ttlcache.New[[32]byte, struct{}](RejectedTTL, 10000, time.Now)}
}

// errRejected is the answer for a token GitHub does not accept.
func errRejected() error {
	return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "GitHub did not accept the token: use an API key (ppk_…) or a valid GitHub token")
}

// Authenticate returns the principal of a GitHub token: Kind PrincipalGitHubUser,
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
	failedClosed := false
	for _, g := range a.RBAC.Grants {
		if len(g.Repos) > 0 || rank(g.Role) <= rank(role) && g.Role != config.RoleBlocked {
			continue
		}
		member, err := a.granted(ctx, u.Login, g)
		if err != nil {
			if g.Role != config.RoleBlocked {
				return nil, err
			}
			// A block that cannot be checked holds: fail closed.
			member, failedClosed = true, true
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
	p := &patchpanda.Principal{Kind: patchpanda.PrincipalGitHubUser, Name: u.Login, Scopes: authz.Scopes(role)}
	if !failedClosed {
		a.cache.Set(key, p)
	}
	return p, nil
}

// granted reports whether login is named by g, by login or by a team.
// Teams are looked up with the installation token of the team's
// organisation; an organisation without the App installed, or a look-up
// that fails, is an error (a 404 for the membership is "not a member").
func (a *Authenticator) granted(ctx context.Context, login string, g config.Grant) (bool, error) {
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
		if a.Installations == nil {
			return false, fmt.Errorf("ghauth: team %s: no installations to look it up with", team)
		}
		inst, err := a.Installations.InstallationForAccount(ctx, org)
		if err != nil {
			return false, fmt.Errorf("ghauth: team %s: %w", team, err)
		}
		m, err := a.GitHub.TeamMembership(ctx, inst, org, slug, login)
		if err != nil && !errors.Is(err, githubapp.ErrNotFound) && patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
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
