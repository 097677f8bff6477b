package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/patchpanda/patchpanda/internal/authz"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Ask is one request to start work on a pull request, from any trigger:
// a comment command, a pull_request event, "Re-run" on the check run, or
// a replay through the REST API, the terminal UI or the dashboard.
type Ask struct {
	Repo         patchpanda.Repository
	Installation int64
	// PR is the pull request; Fork says whether its head is in another
	// repository. LookUpFork asks GitHub instead (replays, re-runs).
	PR         patchpanda.PullRequest
	Fork       bool
	LookUpFork bool
	// Actor is the GitHub account asking. An empty Login is a principal
	// that is not a GitHub user (an API key with jobs:write): it skips the
	// RBAC and fork rules, which are about GitHub people, and nothing else.
	Actor authz.Actor
	Event authz.Event
	// Job, for a replay or a re-run, is the job to run again: it must
	// belong to Repo and Installation.
	Job *patchpanda.Job
	// Access is the effective access section when the caller has loaded
	// the config; nil loads the default branch's.
	Access *config.Access
	// SkipBudget is for commands that start nothing billed (cancel).
	SkipBudget bool
}

// Verdict is Decide's answer.
type Verdict struct {
	Allowed bool
	// Reason says why, for a person: shown on a denial and audited either
	// way.
	Reason string
	Role   config.Role
	// OverBudget is set on a denial for the budget; Budget is the
	// repository's billing state when it was checked.
	OverBudget bool
	Budget     Budget
}

// Decide is the one decision every way of starting work passes: the job
// belongs to the event's repository and installation; RBAC (with the
// server's repository-scoped grants, blocked included) and the fork rule
// for a GitHub user; then the budget. It returns an error only when a
// look-up failed (GitHub or the budget store), never for a denial; a team
// look-up that fails for a blocked grant fails the decision, so a blocked
// person is never let through by an outage.
func (d *Dispatcher) Decide(ctx context.Context, a Ask) (Verdict, error) {
	full := a.Repo.FullName()
	if j := a.Job; j != nil {
		if j.InstallationID != a.Installation || !sameRepo(j.Repository, a.Repo) {
			return Verdict{Reason: fmt.Sprintf("job %s belongs to %s (installation %d), not to %s (installation %d)",
				j.ID, j.Repository.FullName(), j.InstallationID, full, a.Installation)}, nil
		}
	}
	v := Verdict{Allowed: true, Reason: "not a GitHub user: allowed by the credential's scope"}
	if a.Actor.Login != "" {
		access := a.Access
		if access == nil {
			acc, err := d.defaultAccess(ctx, a.Installation, a.Repo)
			if err != nil {
				return Verdict{}, err
			}
			access = &acc
		}
		fork := a.Fork
		if a.LookUpFork {
			pr, err := d.GitHub.PullRequest(ctx, a.Installation, a.Repo.Owner, a.Repo.Name, a.PR.Number)
			if err != nil {
				return Verdict{}, fmt.Errorf("dispatch: pull request %s#%d: %w", full, a.PR.Number, err)
			}
			fork = pr.Fork()
		}
		dec, err := d.decide(ctx, a.Installation, a.Repo, a.Actor, a.Event, fork, *access)
		if err != nil {
			return Verdict{}, err
		}
		v = Verdict{Allowed: dec.Allowed, Reason: dec.Reason, Role: dec.Role}
		if !v.Allowed {
			return v, nil
		}
	}
	if a.SkipBudget || d.Budgets == nil {
		return v, nil
	}
	b, err := d.Budgets.Check(ctx, full)
	if err != nil {
		return Verdict{}, err
	}
	v.Budget = b
	if b.Over {
		return Verdict{Role: v.Role, OverBudget: true, Budget: b,
			Reason: fmt.Sprintf("the billing project %s is over its budget: %s", b.Project, b.Detail)}, nil
	}
	return v, nil
}

// defaultAccess is the access section in force for repo: the server's
// rules with the default branch's .testbot.yml. A default-branch file that
// does not parse counts as absent (the server's rules still apply).
func (d *Dispatcher) defaultAccess(ctx context.Context, inst int64, repo patchpanda.Repository) (config.Access, error) {
	base, err := d.repoConfig(ctx, inst, repo, "")
	var verrs config.ValidationErrors
	if err != nil && !errors.As(err, &verrs) {
		return config.Access{}, err
	}
	eff, _ := config.Effective(d.Server, base, nil, repo.FullName())
	return eff.Access, nil
}

// DecideReplay is Decide for a replay of job j by who through the REST
// API, the terminal UI or the dashboard (jobs.Service.Replay asks it): a
// GitHub user (gh patchpanda) passes RBAC on the job's repository, with
// repository-scoped grants and blocks, and the fork rule; every principal
// passes the budget.
func (d *Dispatcher) DecideReplay(ctx context.Context, j *patchpanda.Job, who *patchpanda.Principal) (jobs.Verdict, error) {
	a := Ask{Repo: j.Repository, Installation: j.InstallationID, PR: j.PullRequest, LookUpFork: true, Event: authz.EventAPI, Job: j}
	if who != nil && who.Kind == patchpanda.PrincipalGitHubUser {
		a.Actor = authz.Actor{Login: who.Name}
	}
	v, err := d.Decide(ctx, a)
	if err != nil {
		return jobs.Verdict{}, err
	}
	return jobs.Verdict{Allowed: v.Allowed, Reason: v.Reason}, nil
}

func sameRepo(a, b patchpanda.Repository) bool {
	if a.ID != 0 && b.ID != 0 {
		return a.ID == b.ID
	}
	return strings.EqualFold(a.FullName(), b.FullName())
}
