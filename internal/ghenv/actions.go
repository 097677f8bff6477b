// Package ghenv reads the GitHub context ppctl runs in: the workflow run
// of a GitHub Actions job (repository, commit, branch, pull request, and the
// job's OIDC ID token) and, when ppctl runs as the gh extension, the gh
// CLI's current repository and login. It is the home of
// github.com/sethvargo/go-githubactions and of go-gh's auth and repository
// packages.
package ghenv

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Audience is the audience of the Actions ID tokens PatchPanda's relay
// accepts.
const Audience = "patchpanda"

// Actions is what a GitHub Actions job tells about the commit it runs for.
type Actions struct {
	// Repository is OWNER/NAME (GITHUB_REPOSITORY).
	Repository string
	// SHA is the commit: for pull_request events the pull request's head
	// commit from the event payload (GITHUB_SHA is then a merge commit
	// that exists nowhere else), otherwise GITHUB_SHA.
	SHA string
	// Branch is GITHUB_HEAD_REF for pull request events and GITHUB_REF_NAME
	// for pushes to a branch; "" for tags.
	Branch string
	// PR is the pull request number for pull request events, else 0.
	PR int
	// CIJob names the job run as GITHUB_JOB/GITHUB_RUN_ID, so two jobs of
	// one commit are two uploads.
	CIJob string
	// EventName is GITHUB_EVENT_NAME.
	EventName string
	// BaseSHA is the pull request's base commit, "" for other events.
	BaseSHA string
	// Fork is set for a pull request from another repository, whose jobs
	// GitHub gives no OIDC token.
	Fork bool
}

// InActions reports whether getenv is a GitHub Actions job's environment
// (GITHUB_ACTIONS=true).
func InActions(getenv func(string) string) bool {
	ok, _ := strconv.ParseBool(getenv("GITHUB_ACTIONS"))
	return ok
}

// ActionsContext returns the job's context from getenv and the event file
// at GITHUB_EVENT_PATH. It returns ok false (and no error) outside GitHub
// Actions, and an error naming the variable or file when the job's
// environment is unreadable: an event file that is not JSON, or a pull
// request event without its head commit.
func ActionsContext(getenv func(string) string) (a Actions, ok bool, err error) {
	if !InActions(getenv) {
		return Actions{}, false, nil
	}
	gc, err := githubactions.New(githubactions.WithGetenv(getenv)).Context()
	if gc == nil {
		// Only the event file makes Context fail outright; malformed
		// numeric variables (which we do not use) come back with gc set.
		return Actions{}, true, patchpanda.Errorf(patchpanda.EINVALID, "GitHub Actions event file %s: %v", getenv("GITHUB_EVENT_PATH"), err)
	}
	a = Actions{
		Repository: gc.Repository,
		SHA:        gc.SHA,
		EventName:  gc.EventName,
	}
	if job, run := getenv("GITHUB_JOB"), getenv("GITHUB_RUN_ID"); job != "" || run != "" {
		a.CIJob = strings.Trim(job+"/"+run, "/")
	}
	if pr, isPR := gc.Event["pull_request"].(map[string]any); isPR && strings.HasPrefix(gc.EventName, "pull_request") {
		head, _ := pr["head"].(map[string]any)
		sha, _ := head["sha"].(string)
		if sha == "" {
			return Actions{}, true, patchpanda.Errorf(patchpanda.EINVALID, "GitHub Actions event file %s: %s event without pull_request.head.sha", gc.EventPath, gc.EventName)
		}
		a.SHA = sha
		base, _ := pr["base"].(map[string]any)
		a.BaseSHA, _ = base["sha"].(string)
		if headRepo, ok := head["repo"].(map[string]any); ok {
			name, _ := headRepo["full_name"].(string)
			a.Fork = name != "" && !strings.EqualFold(name, gc.Repository)
		}
		if n, isNum := pr["number"].(float64); isNum && n > 0 && n == float64(int(n)) {
			a.PR = int(n)
		} else if n, isNum := gc.Event["number"].(float64); isNum && n > 0 && n == float64(int(n)) {
			a.PR = int(n)
		}
		a.Branch = gc.HeadRef
		if a.Branch == "" {
			a.Branch, _ = head["ref"].(string)
		}
		return a, true, nil
	}
	if gc.RefType == "branch" || strings.HasPrefix(gc.Ref, "refs/heads/") {
		a.Branch = gc.RefName
		if a.Branch == "" {
			a.Branch = strings.TrimPrefix(gc.Ref, "refs/heads/")
		}
	}
	return a, true, nil
}

// IDToken returns the job's OIDC ID token for audience, fetched from
// ACTIONS_ID_TOKEN_REQUEST_URL with ACTIONS_ID_TOKEN_REQUEST_TOKEN (both read
// through getenv) over hc (nil for a default client with a timeout). It
// returns an EUNAUTHORIZED error that says how to fix it when the job may
// not mint tokens (no `permissions: id-token: write`) or the token service
// refuses.
func IDToken(ctx context.Context, getenv func(string) string, hc *http.Client, audience string) (string, error) {
	if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
		return "", patchpanda.Errorf(patchpanda.EUNAUTHORIZED,
			"no token given and this GitHub Actions job cannot mint an OIDC ID token (ACTIONS_ID_TOKEN_REQUEST_URL is not set): "+
				"give the job `permissions: id-token: write`, or pass --token / PATCHPANDA_TOKEN")
	}
	opts := []githubactions.Option{githubactions.WithGetenv(getenv)}
	if hc != nil {
		opts = append(opts, githubactions.WithHTTPClient(hc))
	}
	tok, err := githubactions.New(opts...).GetIDToken(ctx, audience)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "get the GitHub Actions OIDC ID token: %v", err)
	}
	if tok == "" {
		return "", patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "get the GitHub Actions OIDC ID token: the token service answered no token")
	}
	return tok, nil
}
