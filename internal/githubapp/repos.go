package githubapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// File is a file's content at a ref.
type File struct {
	Path    string
	SHA     string // the git blob sha
	Content []byte
}

// Contents returns the file at path in owner/repo at ref (a branch, tag or
// sha; "" for the default branch), via GET /repos/{o}/{r}/contents/{path}
// as the installation. It returns an error wrapping ErrNotFound when there
// is no such file (or repository, or ref), and an EINVALID error when path
// is a directory, a symlink or submodule, or a file too large for this API
// (over 1 MB). Without App credentials it returns ErrNotFound: no file.
func (c *Client) Contents(ctx context.Context, installationID int64, owner, repo, path, ref string) (*File, error) {
	const route = "/repos/{owner}/{repo}/contents/{path}"
	op := fmt.Sprintf("get %s/%s:%s at %q", owner, repo, path, ref)
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.String("path", path), slog.String("ref", ref))
		return nil, fmt.Errorf("githubapp: %s: %w", op, ErrNotFound)
	}
	var file *github.RepositoryContent
	var dir []*github.RepositoryContent
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		file, dir, _, err = gh.Repositories.GetContents(withRoute(ctx, route), owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
		return err
	})
	if errors.Is(err, github.ErrPathForbidden) {
		return nil, fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "path %q may not contain \"..\"", path))
	}
	if err != nil {
		return nil, c.classify(op, err)
	}
	if file == nil || dir != nil {
		return nil, fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "%s is a directory, not a file", path))
	}
	if t := file.GetType(); t != "file" {
		return nil, fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "%s is a %s, not a regular file", path, t))
	}
	if file.GetEncoding() == "none" {
		return nil, fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "%s is larger than GitHub's contents API serves (1 MB)", path))
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("githubapp: %s: decode content: %w", op, err)
	}
	return &File{Path: file.GetPath(), SHA: file.GetSHA(), Content: []byte(text)}, nil
}

// Permission is a person's access to a repository.
type Permission struct {
	// Permission is "admin", "write", "read" or "none".
	Permission string
	// Role is the finer role: "admin", "maintain", "write", "triage",
	// "read", a custom role's name, or "none".
	Role string
}

// CollaboratorPermission returns user's permission on owner/repo (GET
// /repos/{o}/{r}/collaborators/{user}/permission, as the installation). It
// returns an error wrapping ErrNotFound when GitHub knows no such user or
// repository. Without App credentials it returns "none".
func (c *Client) CollaboratorPermission(ctx context.Context, installationID int64, owner, repo, user string) (*Permission, error) {
	const route = "/repos/{owner}/{repo}/collaborators/{username}/permission"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.String("user", user))
		return &Permission{Permission: "none", Role: "none"}, nil
	}
	// go-github v62's RepositoryPermissionLevel has no role_name, so this
	// one is decoded here.
	var body struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(user))
		req, err := gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		_, err = gh.Do(withRoute(ctx, route), req, &body)
		return err
	})
	if err != nil {
		return nil, c.classify(fmt.Sprintf("get permission of %s on %s/%s", user, owner, repo), err)
	}
	p := &Permission{Permission: body.Permission, Role: body.RoleName}
	if p.Role == "" {
		p.Role = p.Permission
	}
	return p, nil
}

// Membership is a person's membership of a team.
type Membership struct {
	// State is "active", "pending" (invited) or "" (not a member).
	State string
	// Role is "member" or "maintainer" ("" when not a member).
	Role string
}

// Active reports whether the membership is an accepted one.
func (m Membership) Active() bool { return m.State == "active" }

// TeamMembership returns user's membership of team org/slug (GET
// /orgs/{org}/teams/{slug}/memberships/{user}, as the installation, which
// needs the members:read permission). GitHub's 404, for a person who is not
// a member (or a team the App cannot see), is a zero Membership and no
// error. Without App credentials it returns a zero Membership.
func (c *Client) TeamMembership(ctx context.Context, installationID int64, org, slug, user string) (Membership, error) {
	const route = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("team", org+"/"+slug), slog.String("user", user))
		return Membership{}, nil
	}
	var m *github.Membership
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		m, _, err = gh.Teams.GetTeamMembershipBySlug(withRoute(ctx, route), org, slug, user)
		return err
	})
	return c.membership(fmt.Sprintf("get membership of %s in %s/%s", user, org, slug), m, err)
}

func (c *Client) membership(op string, m *github.Membership, err error) (Membership, error) {
	if rawStatus(err) == http.StatusNotFound {
		return Membership{}, nil
	}
	if err != nil {
		return Membership{}, c.classify(op, err)
	}
	return Membership{State: m.GetState(), Role: m.GetRole()}, nil
}

// PullRequest is what the relay needs to know of a pull request.
type PullRequest struct {
	Number int
	Title  string
	State  string // "open" or "closed"
	Draft  bool
	Merged bool
	// Author is the login of who opened it; AuthorAssociation is GitHub's
	// OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, FIRST_TIMER, NONE, ...
	Author            string
	AuthorAssociation string
	HeadSHA           string
	HeadRef           string
	// HeadRepo is "owner/name" of the head's repository, which differs
	// from BaseRepo for a fork, and is "" when the fork was deleted.
	HeadRepo string
	BaseSHA  string
	BaseRef  string
	BaseRepo string
	HTMLURL  string
}

// Fork reports whether the head branch lives in another repository.
func (p PullRequest) Fork() bool { return !strings.EqualFold(p.HeadRepo, p.BaseRepo) }

// PullRequest returns pull request number of owner/repo (GET
// /repos/{o}/{r}/pulls/{n}, as the installation). It returns an error
// wrapping ErrNotFound when there is none. Without App credentials it
// returns an empty PullRequest with the given number.
func (c *Client) PullRequest(ctx context.Context, installationID int64, owner, repo string, number int) (*PullRequest, error) {
	const route = "/repos/{owner}/{repo}/pulls/{pull_number}"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.Int("number", number))
		return &PullRequest{Number: number}, nil
	}
	var pr *github.PullRequest
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		pr, _, err = gh.PullRequests.Get(withRoute(ctx, route), owner, repo, number)
		return err
	})
	if err != nil {
		return nil, c.classify(fmt.Sprintf("get pull request %s/%s#%d", owner, repo, number), err)
	}
	return &PullRequest{
		Number:            pr.GetNumber(),
		Title:             pr.GetTitle(),
		State:             pr.GetState(),
		Draft:             pr.GetDraft(),
		Merged:            pr.GetMerged(),
		Author:            pr.GetUser().GetLogin(),
		AuthorAssociation: pr.GetAuthorAssociation(),
		HeadSHA:           pr.GetHead().GetSHA(),
		HeadRef:           pr.GetHead().GetRef(),
		HeadRepo:          pr.GetHead().GetRepo().GetFullName(),
		BaseSHA:           pr.GetBase().GetSHA(),
		BaseRef:           pr.GetBase().GetRef(),
		BaseRepo:          pr.GetBase().GetRepo().GetFullName(),
		HTMLURL:           pr.GetHTMLURL(),
	}, nil
}

// PullRequestFile is one file a pull request changes.
type PullRequestFile struct {
	Filename         string
	PreviousFilename string // for "renamed"
	Status           string // "added", "modified", "removed", "renamed", ...
	Additions        int
	Deletions        int
	// Patch is the unified diff hunk text; GitHub leaves it out for binary
	// and very large files.
	Patch string
}

// maxPages bounds a listing: GitHub lists at most 3,000 files of a pull
// request (30 pages of 100), and a sticky comment is found long before
// 10,000 comments.
const maxPages = 100

// PullRequestFiles returns every file pull request number of owner/repo
// changes (GET /repos/{o}/{r}/pulls/{n}/files, 100 a page, as the
// installation). It returns an error wrapping ErrNotFound when there is no
// such pull request. Without App credentials it returns no files.
func (c *Client) PullRequestFiles(ctx context.Context, installationID int64, owner, repo string, number int) ([]PullRequestFile, error) {
	const route = "/repos/{owner}/{repo}/pulls/{pull_number}/files"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.Int("number", number))
		return nil, nil
	}
	var out []PullRequestFile
	opts := &github.ListOptions{PerPage: 100, Page: 1}
	for range maxPages {
		var files []*github.CommitFile
		var resp *github.Response
		err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
			var err error
			files, resp, err = gh.PullRequests.ListFiles(withRoute(ctx, route), owner, repo, number, opts)
			return err
		})
		if err != nil {
			return nil, c.classify(fmt.Sprintf("list files of %s/%s#%d", owner, repo, number), err)
		}
		for _, f := range files {
			out = append(out, PullRequestFile{
				Filename:         f.GetFilename(),
				PreviousFilename: f.GetPreviousFilename(),
				Status:           f.GetStatus(),
				Additions:        f.GetAdditions(),
				Deletions:        f.GetDeletions(),
				Patch:            f.GetPatch(),
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}
