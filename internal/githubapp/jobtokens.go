package githubapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"
)

// MintToken mints a new installation token narrowed to req, never taken
// from or kept in the Client's cache: a token handed to a worker for one
// job, to be revoked (RevokeToken) when the job ends, so that revoking it
// cannot take a token other callers share. It returns what Token returns
// on failure.
func (c *Client) MintToken(ctx context.Context, installationID int64, req TokenRequest) (*InstallationToken, error) {
	if !c.enabled {
		return nil, fmt.Errorf("githubapp: mint token: no GitHub App configured")
	}
	opts, err := tokenOptions(req)
	if err != nil {
		return nil, err
	}
	return c.mint(ctx, installationID, opts)
}

// RevokeToken revokes an installation token (DELETE /installation/token,
// authenticated with that token). A token GitHub no longer accepts (401:
// expired or already revoked) counts as revoked. The token never appears
// in the error. Without App credentials it does nothing.
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	const route = "/installation/token"
	if !c.enabled {
		c.skip(ctx, "DELETE "+route)
		return nil
	}
	_, err := c.gh.WithAuthToken(token).Apps.RevokeInstallationToken(withRoute(ctx, route))
	if rawStatus(err) == http.StatusUnauthorized {
		return nil
	}
	if err != nil {
		return c.classify("revoke installation token", err)
	}
	return nil
}

// CheckRunsForRef returns the check runs named name on ref (a commit sha)
// of owner/repo that this App made (GET
// /repos/{o}/{r}/commits/{ref}/check-runs?check_name=NAME&filter=all, as
// the installation), every page. Without App credentials it returns none.
func (c *Client) CheckRunsForRef(ctx context.Context, installationID int64, owner, repo, ref, name string) ([]CheckRun, error) {
	const route = "/repos/{owner}/{repo}/commits/{ref}/check-runs"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.String("ref", ref))
		return nil, nil
	}
	op := fmt.Sprintf("list check runs %q on %s/%s@%s", name, owner, repo, ref)
	opts := &github.ListCheckRunsOptions{CheckName: github.String(name), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 100}}
	var out []CheckRun
	for page := 0; page < 10; page++ {
		var res *github.ListCheckRunsResults
		var resp *github.Response
		err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
			var err error
			res, resp, err = gh.Checks.ListCheckRunsForRef(withRoute(ctx, route), owner, repo, ref, opts)
			return err
		})
		if err != nil {
			return nil, c.classify(op, err)
		}
		for _, cr := range res.CheckRuns {
			if strings.EqualFold(cr.GetName(), name) {
				out = append(out, *checkRun(cr))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}
