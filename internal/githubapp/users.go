package githubapp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// User is a GitHub account.
type User struct {
	Login string
	ID    int64
	Type  string // "User", "Bot" or "Organization"
	Name  string
}

// AuthenticatedUser returns who userToken belongs to (GET /user with that
// token), for a person calling the relay's API with their own GitHub token.
// It returns an error wrapping ErrUnauthorized when GitHub refuses the
// token, and an EINVALID error for an empty token. Without App credentials
// it checks nothing and returns ErrNotConfigured (code EUNAUTHORIZED): a
// relay that cannot ask GitHub must not take a token on trust.
func (c *Client) AuthenticatedUser(ctx context.Context, userToken string) (*User, error) {
	const route = "/user"
	if userToken == "" {
		return nil, fmt.Errorf("githubapp: get authenticated user: %w", patchpanda.Errorf(patchpanda.EINVALID, "no GitHub token given"))
	}
	if !c.enabled {
		c.skip(ctx, "GET "+route)
		return nil, fmt.Errorf("githubapp: get authenticated user: %w", ErrNotConfigured)
	}
	u, _, err := c.gh.WithAuthToken(userToken).Users.Get(withRoute(ctx, route), "")
	if err != nil {
		return nil, c.classify("get authenticated user", err)
	}
	return &User{Login: u.GetLogin(), ID: u.GetID(), Type: u.GetType(), Name: u.GetName()}, nil
}

// UserTeamMembership returns login's membership of team org/slug asked with
// userToken (GET /orgs/{org}/teams/{slug}/memberships/{login}; the token
// needs read:org), for mapping a person who calls with their own token to a
// role. A 404 is a zero Membership and no error. It returns an error
// wrapping ErrUnauthorized when GitHub refuses the token. Without App
// credentials it returns ErrNotConfigured.
func (c *Client) UserTeamMembership(ctx context.Context, userToken, org, slug, login string) (Membership, error) {
	const route = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
	op := fmt.Sprintf("get membership of %s in %s/%s", login, org, slug)
	if userToken == "" {
		return Membership{}, fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "no GitHub token given"))
	}
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("team", org+"/"+slug), slog.String("user", login))
		return Membership{}, fmt.Errorf("githubapp: %s: %w", op, ErrNotConfigured)
	}
	var m *github.Membership
	m, _, err := c.gh.WithAuthToken(userToken).Teams.GetTeamMembershipBySlug(withRoute(ctx, route), org, slug, login)
	return c.membership(op, m, err)
}
