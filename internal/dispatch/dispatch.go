// Package dispatch turns recorded webhook deliveries into decisions and
// work: installations kept current, and PR comment commands, PR events and
// check-run re-runs checked (who asked, config, budget) and turned into
// jobs. It runs inside the intake processor, never in a request: a
// Handle returns the Commit that writes the job, its outbox entries and
// audit events in the transaction that marks the delivery done.
package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/authz"
	"github.com/patchpanda/patchpanda/internal/command"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/ttlcache"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// GitHub is what dispatch reads from GitHub.
type GitHub interface {
	PullRequest(ctx context.Context, installationID int64, owner, repo string, number int) (*githubapp.PullRequest, error)
	Contents(ctx context.Context, installationID int64, owner, repo, path, ref string) (*githubapp.File, error)
	CollaboratorPermission(ctx context.Context, installationID int64, owner, repo, user string) (*githubapp.Permission, error)
	TeamMembership(ctx context.Context, installationID int64, org, slug, user string) (githubapp.Membership, error)
}

// Budget is a repository's billing state.
type Budget struct {
	Project string // "" when the repository is bound to none
	Over    bool
	// Detail explains the numbers, for the check run.
	Detail string
}

// Budgets tells whether a repository may spend.
type Budgets interface {
	Check(ctx context.Context, repo string) (Budget, error)
}

// Enqueued is told after a job is committed, to wake the outbox runners.
type Enqueued func()

// Dispatcher handles deliveries by event.
type Dispatcher struct {
	Logger  *slog.Logger
	GitHub  GitHub
	Server  *config.Server
	Budgets Budgets // nil: no budgets
	// DB is where re-runs find the job their check run reports on.
	DB *store.DB

	perms   *ttlcache.Cache[permKey, config.Permission]
	teams   *ttlcache.Cache[teamKey, bool]
	configs *ttlcache.Cache[configKey, configResult]
	// branchConfigs holds default-branch configs, briefly.
	branchConfigs *ttlcache.Cache[configKey, configResult]
}

// permKey names one repository permission look-up. Logins and repository
// names are lower case: GitHub treats them without regard to case.
type permKey struct {
	inst  int64
	repo  string // "owner/name"
	login string
}

// teamKey names one team membership look-up.
type teamKey struct {
	inst  int64
	team  string // "org/slug"
	login string
}

// configKey names a repository's config at a ref ("" for the default
// branch).
type configKey struct {
	inst int64
	repo string
	ref  string
}

type configResult struct {
	cfg *config.RepoConfig
	err error
}

// New returns a Dispatcher whose permission and team look-ups are cached
// for a minute, repository configs at a commit for ten, and default-branch
// configs for one.
func New(logger *slog.Logger, gh GitHub, server *config.Server, budgets Budgets) *Dispatcher {
	now := time.Now
	return &Dispatcher{Logger: logger, GitHub: gh, Server: server, Budgets: budgets,
		perms:         ttlcache.New[permKey, config.Permission](time.Minute, 10000, now),
		teams:         ttlcache.New[teamKey, bool](time.Minute, 10000, now),
		configs:       ttlcache.New[configKey, configResult](10*time.Minute, 2000, now),
		branchConfigs: ttlcache.New[configKey, configResult](time.Minute, 2000, now),
	}
}

// Handle is an intake.Handler: it parses the delivery's payload (unless the
// relay that received it already did) and returns what to commit with it.
// A payload that does not parse fails the delivery for good with the
// parser's reason.
func (d *Dispatcher) Handle(ctx context.Context, del patchpanda.Delivery) (intake.Commit, error) {
	if ignored(del) {
		return nil, nil
	}
	ev, ok := del.Parsed.(webhook.Event)
	if !ok || ev.EventName() != del.Event {
		var err error
		if ev, err = webhook.Parse(del.Event, del.Payload); err != nil {
			return nil, fmt.Errorf("dispatch: %w", err)
		}
	}
	switch e := ev.(type) {
	case *webhook.InstallationEvent:
		return installation(e), nil
	case *webhook.InstallationRepositoriesEvent:
		return installationRepositories(e), nil
	case *webhook.RepositoryEvent:
		return repository(e), nil
	case *webhook.IssueCommentEvent:
		return d.comment(ctx, del, e)
	case *webhook.PullRequestEvent:
		return d.pullRequest(ctx, del, e)
	case *webhook.CheckRunEvent:
		return d.checkRun(ctx, del, e)
	default:
		return nil, nil
	}
}

// The actions on which something may happen: a pull request that may
// start a job, a comment that may hold a command, a check run re-run.
var (
	pullRequestActions = map[string]bool{"opened": true, "synchronize": true, "reopened": true, "ready_for_review": true}
	commentAction      = "created"
	checkRunAction     = "rerequested"
)

// ignored reports, without parsing the payload, that Handle would do
// nothing with del: an event it has no case for, an action nothing acts on
// (the action recorded with the delivery, which the intake read from the
// same payload), or a comment whose payload does not hold the command
// keyword anywhere. Parsing a payload is most of a delivery's processing,
// and most deliveries (edits, labels, closed pull requests, comments
// without a command, events the App gets but does not use) lead to
// nothing. A payload that is not a JSON object is never ignored, so that
// it fails with the parser's reason.
func ignored(del patchpanda.Delivery) bool {
	if !jsonObject(del.Payload) {
		return false
	}
	switch del.Event {
	case "installation", "installation_repositories", "repository":
		return false
	case "issue_comment":
		if del.Action != "" && del.Action != commentAction {
			return true
		}
		return !mayHoldCommand(del.Payload)
	case "pull_request":
		return del.Action != "" && !pullRequestActions[del.Action]
	case "check_run":
		return del.Action != "" && del.Action != checkRunAction
	}
	return true
}

// jsonObject reports whether raw starts and ends as a JSON object does.
func jsonObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) >= 2 && raw[0] == '{' && raw[len(raw)-1] == '}'
}

// mayHoldCommand reports whether a raw JSON payload may carry a comment
// command: whether command.Keyword appears in it without regard to case
// (as command.Parse matches it), or an escape (\/ or \u) could hide one.
// It looks at the whole payload, not only the comment's body, so a false
// "yes" costs a parse and a "no" is certain.
func mayHoldCommand(raw []byte) bool {
	if bytes.Contains(raw, []byte(`\/`)) || bytes.Contains(raw, []byte(`\u`)) {
		return true
	}
	kw := []byte(command.Keyword)
	for i := 0; ; {
		j := bytes.IndexByte(raw[i:], kw[0])
		if j < 0 {
			return false
		}
		i += j
		if len(raw)-i < len(kw) {
			return false
		}
		if bytes.EqualFold(raw[i:i+len(kw)], kw) {
			return true
		}
		i++
	}
}

func installation(e *webhook.InstallationEvent) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		switch e.Action {
		case "created", "new_permissions_accepted":
			return q.UpsertInstallationAccount(ctx, e.InstallationID, e.Account, e.AccountID, e.Repositories)
		case "deleted":
			return q.SetInstallationState(ctx, e.InstallationID, "deleted")
		case "suspend":
			return q.SetInstallationState(ctx, e.InstallationID, "suspended")
		case "unsuspend":
			return q.SetInstallationState(ctx, e.InstallationID, "active")
		}
		return nil
	}
}

func installationRepositories(e *webhook.InstallationRepositoriesEvent) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		if err := q.UpsertInstallationAccount(ctx, e.InstallationID, e.Account, e.AccountID, nil); err != nil {
			return err
		}
		if err := q.AddInstallationRepositories(ctx, e.InstallationID, e.Added); err != nil {
			return err
		}
		return q.RemoveInstallationRepositories(ctx, e.InstallationID, e.Removed)
	}
}

// repository keeps the installed repositories' names in step with their
// ids: a rename or transfer carries the id to its new name (coverage
// series and billing bindings follow the id), and a deleted repository's
// id is forgotten, so one re-created under its name does not inherit it.
func repository(e *webhook.RepositoryEvent) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		switch e.Action {
		case "renamed", "transferred":
			return q.RenameRepository(ctx, e.Repository.ID, e.Repository.FullName())
		case "deleted":
			return q.ForgetRepository(ctx, e.Repository.ID)
		}
		return nil
	}
}

// configFile is where a repository keeps its PatchPanda config.
const configFile = ".testbot.yml"

// repoConfig loads .testbot.yml at ref ("" for the default branch). A
// missing file is (nil, nil); a file that does not parse returns its
// config.ValidationErrors. Results at a commit sha are cached.
func (d *Dispatcher) repoConfig(ctx context.Context, inst int64, repo patchpanda.Repository, ref string) (*config.RepoConfig, error) {
	// A file at a commit never changes, missing or not; the default
	// branch's may, so it is kept for a minute only.
	cache := d.configs
	if ref == "" {
		cache = d.branchConfigs
	}
	key := configKey{inst: inst, repo: strings.ToLower(repo.FullName()), ref: ref}
	if r, ok := cache.Get(key); ok {
		return r.cfg, r.err
	}
	var r configResult
	f, err := d.GitHub.Contents(ctx, inst, repo.Owner, repo.Name, configFile, ref)
	switch {
	case errors.Is(err, githubapp.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("dispatch: load %s at %q: %w", configFile, ref, err)
	default:
		r.cfg, r.err = config.ParseRepoConfig(configFile, f.Content)
	}
	cache.Set(key, r)
	return r.cfg, r.err
}

// decide asks authz whether actor may act on repo, doing the look-ups it
// needs through the caches.
func (d *Dispatcher) decide(ctx context.Context, inst int64, repo patchpanda.Repository, actor authz.Actor, ev authz.Event, fork bool, access config.Access) (authz.Decision, error) {
	p := authz.Policy{RBAC: d.rbac(), Access: access}
	need := authz.Needs(p, repo.FullName(), actor)
	req := authz.Request{Actor: actor, Repo: repo.FullName(), Event: ev, Fork: fork, Permission: config.PermissionNone}
	if need.Permission {
		key := permKey{inst: inst, repo: strings.ToLower(repo.FullName()), login: strings.ToLower(actor.Login)}
		perm, ok := d.perms.Get(key)
		if !ok {
			got, err := d.GitHub.CollaboratorPermission(ctx, inst, repo.Owner, repo.Name, actor.Login)
			switch {
			case errors.Is(err, githubapp.ErrNotFound):
				perm = config.PermissionNone
			case err != nil:
				return authz.Decision{}, fmt.Errorf("dispatch: permission of %s on %s: %w", actor.Login, repo.FullName(), err)
			default:
				if perm, err = config.ParsePermission(got.Permission); err != nil {
					perm = config.PermissionNone
				}
			}
			d.perms.Set(key, perm)
		}
		req.Permission = perm
	}
	for _, team := range need.Teams {
		key := teamKey{inst: inst, team: team, login: strings.ToLower(actor.Login)}
		member, ok := d.teams.Get(key)
		if !ok {
			org, slug, _ := cutTeam(team)
			m, err := d.GitHub.TeamMembership(ctx, inst, org, slug, actor.Login)
			if err != nil && !errors.Is(err, githubapp.ErrNotFound) {
				return authz.Decision{}, fmt.Errorf("dispatch: team %s membership of %s: %w", team, actor.Login, err)
			}
			member = err == nil && m.Active()
			d.teams.Set(key, member)
		}
		if member {
			req.Teams = append(req.Teams, team)
		}
	}
	return authz.Decide(p, req), nil
}

func (d *Dispatcher) rbac() config.RBAC {
	if d.Server == nil {
		return config.RBAC{}
	}
	return d.Server.RBAC
}

func cutTeam(t string) (org, slug string, ok bool) {
	for i := 0; i < len(t); i++ {
		if t[i] == '/' {
			return t[:i], t[i+1:], true
		}
	}
	return "", t, false
}
