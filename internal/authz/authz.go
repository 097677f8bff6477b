package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Event is the kind of thing that asks for a job.
type Event string

// The events a Request can carry.
const (
	EventComment     Event = "comment"      // a "/patchpanda" comment command
	EventPullRequest Event = "pull_request" // a pull_request webhook (opened, synchronize, ...)
	EventCheckRerun  Event = "check_rerun"  // "Re-run" on the check run
	EventAPI         Event = "api"          // the REST API with a GitHub token (gh patchpanda)
)

// Actor is the GitHub account that caused the event: the commenter, the
// sender of a pull_request event, the person re-running a check, or the
// owner of the GitHub token.
type Actor struct {
	Login string
	// Bot is true for GitHub Apps and bot accounts (type "Bot", or a login
	// ending in "[bot]").
	Bot bool
}

// IsBot reports whether a is a bot, by its flag or by its login.
func (a Actor) IsBot() bool { return a.Bot || strings.HasSuffix(strings.ToLower(a.Login), "[bot]") }

// Policy is what decides: the server config's RBAC and the effective
// access section of the repository (config.Effective never takes it from a
// pull request's own change).
type Policy struct {
	RBAC   config.RBAC
	Access config.Access
}

// Request is one question: may Actor start a job on Repo through Event?
type Request struct {
	Actor Actor
	// Repo is "owner/name".
	Repo  string
	Event Event
	// Fork is true when the pull request's head is in another repository.
	Fork bool
	// Permission is Actor's permission on Repo (GitHub's role_name),
	// looked up by the caller when Needs says so; PermissionNone otherwise.
	Permission config.Permission
	// Teams are the teams, among those Needs listed, that Actor belongs
	// to, as "org/slug".
	Teams []string
}

// Decision is the answer, with a Reason a person can read: it is shown in
// the reply comment on a denial and recorded in the audit event either way.
type Decision struct {
	Allowed bool        `json:"allowed"`
	Role    config.Role `json:"role"`
	// Trusted is true when the actor may start a job on a fork's pull
	// request: they could push to the repository themselves (write,
	// maintain or admin permission) or hold the maintainer or admin role.
	Trusted bool   `json:"trusted"`
	Reason  string `json:"reason"`
}

// Lookups are the facts a decision needs that the caller must fetch.
type Lookups struct {
	// Permission asks for the actor's permission on the repository.
	Permission bool
	// Teams lists the teams ("org/slug", lower case) whose membership of
	// the actor matters; check only these.
	Teams []string
}

// Needs returns the look-ups Decide uses for actor on repo ("owner/name")
// under p. Bots need none: only their login counts. An actor blocked by
// login needs none either.
func Needs(p Policy, repo string, actor Actor) Lookups {
	login := strings.ToLower(actor.Login)
	if login == "" || actor.IsBot() {
		return Lookups{}
	}
	for _, g := range p.RBAC.Grants {
		if g.Role == config.RoleBlocked && config.MatchRepo(g.Repos, repo) && containsFold(g.Users, login) {
			return Lookups{}
		}
	}
	l := Lookups{Permission: true}
	owner := repoOwner(repo)
	for _, g := range p.RBAC.Grants {
		if !config.MatchRepo(g.Repos, repo) {
			continue
		}
		for _, t := range g.Teams {
			if teamOrg(t) == owner {
				l.Teams = append(l.Teams, strings.ToLower(t))
			}
		}
	}
	for _, t := range p.Access.AllowTeams {
		l.Teams = append(l.Teams, accessTeam(t, owner))
	}
	slices.Sort(l.Teams)
	l.Teams = slices.Compact(l.Teams)
	return l
}

// hit is one grant that applies to the actor.
type hit struct {
	role    config.Role
	source  string
	derived bool // from the repository permission, not a grant
}

// Decide answers req under p. It never fails: anything it cannot decide
// (an empty login, an unknown event) is denied with a reason.
func Decide(p Policy, req Request) Decision {
	login := req.Actor.Login
	if login == "" {
		return Decision{Reason: "the request has no GitHub user to check"}
	}
	switch req.Event {
	case EventComment, EventPullRequest, EventCheckRerun, EventAPI:
	default:
		return Decision{Reason: fmt.Sprintf("unknown event %q", req.Event)}
	}
	bot := req.Actor.IsBot()
	hits := grants(p, req, bot)

	for _, h := range hits {
		if h.role == config.RoleBlocked {
			return Decision{Role: config.RoleBlocked, Reason: fmt.Sprintf("%s is blocked on %s by %s", login, req.Repo, h.source)}
		}
	}
	if bot && len(hits) == 0 {
		return Decision{Reason: fmt.Sprintf("%s is a bot; a bot may start jobs only when listed by login in the server's rbac or in access.allow_users", login)}
	}

	minPerm := p.Access.MinPermission
	if minPerm == "" || minPerm == config.PermissionNone {
		minPerm = config.PermissionWrite
	}
	perm := req.Permission
	if perm == "" || bot {
		perm = config.PermissionNone // a bot's repository permission grants nothing
	}
	best := hit{role: config.RoleNone}
	if derived := permissionRole(perm, minPerm); derived != config.RoleNone {
		best = hit{role: derived, derived: true}
	}
	for _, h := range hits {
		if h.role.Rank() > best.role.Rank() {
			best = h
		}
	}
	trusted := best.role.AtLeast(config.RoleMaintainer) || perm.AtLeast(config.PermissionWrite)
	d := Decision{Role: best.role, Trusted: trusted}

	if req.Fork && !trusted {
		d.Reason = fmt.Sprintf("fork PR: needs a command from a trusted person (write permission or the maintainer role); %s", describe(login, req.Repo, perm, best))
		return d
	}
	if !best.role.AtLeast(config.RoleDeveloper) {
		d.Reason = fmt.Sprintf("%s; %s is required", describe(login, req.Repo, perm, best), minPerm)
		return d
	}
	d.Allowed = true
	if best.derived {
		d.Reason = fmt.Sprintf("%s has %s permission on %s", login, perm, req.Repo)
	} else {
		d.Reason = fmt.Sprintf("%s is %s on %s by %s", login, article(best.role), req.Repo, best.source)
	}
	return d
}

// describe says what the actor has, for a denial.
func describe(login, repo string, perm config.Permission, best hit) string {
	var s string
	if perm == config.PermissionNone {
		s = fmt.Sprintf("%s has no permission on %s", login, repo)
	} else {
		s = fmt.Sprintf("%s has %s permission on %s", login, perm, repo)
	}
	if best.role != config.RoleNone && !best.derived {
		s += fmt.Sprintf(" and is %s by %s", article(best.role), best.source)
	}
	return s
}

func article(r config.Role) string {
	if r == config.RoleAdmin {
		return "an admin"
	}
	return "a " + string(r)
}

// permissionRole is the role a repository permission gives by itself.
func permissionRole(perm, minPerm config.Permission) config.Role {
	switch {
	case perm.Rank() == 0:
		return config.RoleNone
	case !perm.AtLeast(minPerm):
		return config.RoleViewer
	case perm.AtLeast(config.PermissionMaintain):
		return config.RoleMaintainer
	}
	return config.RoleDeveloper
}

// grants returns every explicit grant that applies to req's actor.
func grants(p Policy, req Request, bot bool) []hit {
	login := strings.ToLower(req.Actor.Login)
	owner := repoOwner(req.Repo)
	member := map[string]bool{}
	if !bot {
		for _, t := range req.Teams {
			member[strings.ToLower(t)] = true
		}
	}
	var hits []hit
	for _, g := range p.RBAC.Grants {
		if !config.MatchRepo(g.Repos, req.Repo) {
			continue
		}
		if containsFold(g.Users, login) {
			hits = append(hits, hit{role: g.Role, source: g.Source})
			continue
		}
		for _, t := range g.Teams {
			if teamOrg(t) == owner && member[strings.ToLower(t)] {
				hits = append(hits, hit{role: g.Role, source: fmt.Sprintf("%s (team %s)", g.Source, t)})
				break
			}
		}
	}
	if containsFold(p.Access.AllowUsers, login) {
		hits = append(hits, hit{role: config.RoleDeveloper, source: "access.allow_users"})
	}
	for _, t := range p.Access.AllowTeams {
		if member[accessTeam(t, owner)] {
			hits = append(hits, hit{role: config.RoleDeveloper, source: fmt.Sprintf("access.allow_teams (team %s)", accessTeam(t, owner))})
			break
		}
	}
	return hits
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func repoOwner(repo string) string {
	owner, _, _ := strings.Cut(repo, "/")
	return strings.ToLower(owner)
}

func teamOrg(team string) string {
	org, _, _ := strings.Cut(team, "/")
	return strings.ToLower(org)
}

// accessTeam makes an access.allow_teams entry "org/slug", reading a bare
// slug as a team of the repository's owner.
func accessTeam(t, owner string) string {
	if !strings.Contains(t, "/") {
		t = owner + "/" + t
	}
	return strings.ToLower(t)
}

// Scopes returns the API scopes a role carries when a person reaches the
// REST API with a GitHub token (gh patchpanda). Blocked and no role carry
// none.
func Scopes(r config.Role) []patchpanda.Scope {
	switch r {
	case config.RoleAdmin:
		return []patchpanda.Scope{patchpanda.ScopeAdmin}
	case config.RoleMaintainer:
		return []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeCoverageRead, patchpanda.ScopeJobsRead, patchpanda.ScopeJobsWrite}
	case config.RoleDeveloper:
		return []patchpanda.Scope{patchpanda.ScopeCoverageRead, patchpanda.ScopeJobsRead, patchpanda.ScopeJobsWrite}
	case config.RoleViewer:
		return []patchpanda.Scope{patchpanda.ScopeCoverageRead, patchpanda.ScopeJobsRead}
	}
	return nil
}
