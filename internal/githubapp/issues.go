package githubapp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Reactions GitHub accepts.
var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// ReactToComment adds reaction content ("eyes", "+1", "rocket", ...) to
// issue comment commentID of owner/repo (POST
// /repos/{o}/{r}/issues/comments/{id}/reactions, as the installation).
// Reacting twice is harmless: GitHub keeps one. It returns an EINVALID
// error for an unknown content and one wrapping ErrNotFound for an unknown
// comment. Without App credentials it does nothing.
func (c *Client) ReactToComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, content string) error {
	const route = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
	op := fmt.Sprintf("react %q to comment %d on %s/%s", content, commentID, owner, repo)
	if !slices.Contains(reactionContents, content) {
		return fmt.Errorf("githubapp: %s: %w", op, patchpanda.Errorf(patchpanda.EINVALID, "reaction %q is not one of %v", content, reactionContents))
	}
	if !c.enabled {
		c.skip(ctx, "POST "+route, slog.String("repo", owner+"/"+repo), slog.Int64("comment_id", commentID), slog.String("content", content))
		return nil
	}
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		_, _, err := gh.Reactions.CreateIssueCommentReaction(withRoute(ctx, route), owner, repo, commentID, content)
		return err
	})
	return c.classify(op, err)
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID   int64
	Body string
	// Author is the commenter's login ("slug[bot]" for an App) and
	// AuthorType "User" or "Bot".
	Author     string
	AuthorType string
	HTMLURL    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func comment(ic *github.IssueComment) Comment {
	return Comment{
		ID:         ic.GetID(),
		Body:       ic.GetBody(),
		Author:     ic.GetUser().GetLogin(),
		AuthorType: ic.GetUser().GetType(),
		HTMLURL:    ic.GetHTMLURL(),
		CreatedAt:  ic.GetCreatedAt().Time,
		UpdatedAt:  ic.GetUpdatedAt().Time,
	}
}

// CreateComment comments body on issue or pull request number of
// owner/repo (POST /repos/{o}/{r}/issues/{n}/comments, as the installation)
// and returns the comment. It returns an error wrapping ErrNotFound for an
// unknown issue. Without App credentials it returns a comment with ID 0.
func (c *Client) CreateComment(ctx context.Context, installationID int64, owner, repo string, number int, body string) (*Comment, error) {
	const route = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
	if !c.enabled {
		c.skip(ctx, "POST "+route, slog.String("repo", owner+"/"+repo), slog.Int("number", number), slog.Int("body_bytes", len(body)))
		return &Comment{Body: body}, nil
	}
	var ic *github.IssueComment
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		ic, _, err = gh.Issues.CreateComment(withRoute(ctx, route), owner, repo, number, &github.IssueComment{Body: &body})
		return err
	})
	if err != nil {
		return nil, c.classify(fmt.Sprintf("comment on %s/%s#%d", owner, repo, number), err)
	}
	out := comment(ic)
	return &out, nil
}

// UpdateComment replaces the body of comment commentID of owner/repo (PATCH
// /repos/{o}/{r}/issues/comments/{id}, as the installation) and returns the
// comment. It returns an error wrapping ErrNotFound for an unknown comment.
// Without App credentials it returns a comment with the given ID.
func (c *Client) UpdateComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, body string) (*Comment, error) {
	const route = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
	if !c.enabled {
		c.skip(ctx, "PATCH "+route, slog.String("repo", owner+"/"+repo), slog.Int64("comment_id", commentID), slog.Int("body_bytes", len(body)))
		return &Comment{ID: commentID, Body: body}, nil
	}
	var ic *github.IssueComment
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		ic, _, err = gh.Issues.EditComment(withRoute(ctx, route), owner, repo, commentID, &github.IssueComment{Body: &body})
		return err
	})
	if err != nil {
		return nil, c.classify(fmt.Sprintf("update comment %d on %s/%s", commentID, owner, repo), err)
	}
	out := comment(ic)
	return &out, nil
}

// Comments returns the comments on issue or pull request number of
// owner/repo, oldest first (GET /repos/{o}/{r}/issues/{n}/comments, 100 a
// page, as the installation), to find a sticky comment by its hidden
// marker. It stops after 10,000 comments. It returns an error wrapping
// ErrNotFound for an unknown issue. Without App credentials it returns none.
func (c *Client) Comments(ctx context.Context, installationID int64, owner, repo string, number int) ([]Comment, error) {
	const route = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.String("repo", owner+"/"+repo), slog.Int("number", number))
		return nil, nil
	}
	var out []Comment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100, Page: 1}}
	for range maxPages {
		var list []*github.IssueComment
		var resp *github.Response
		err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
			var err error
			list, resp, err = gh.Issues.ListComments(withRoute(ctx, route), owner, repo, number, opts)
			return err
		})
		if err != nil {
			return nil, c.classify(fmt.Sprintf("list comments of %s/%s#%d", owner, repo, number), err)
		}
		for _, ic := range list {
			out = append(out, comment(ic))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}
