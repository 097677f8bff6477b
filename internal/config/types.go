package config

import (
	"slices"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Config is the merged, effective configuration of one repository for one
// pull request. Its JSON form is the "config" field of the queue message, so
// its field names are part of the worker contract: they equal the key paths
// of .testbot.yml, lists are never null, and an unset coverage target is
// null.
type Config struct {
	Version  int      `json:"version"`
	Triggers Triggers `json:"triggers"`
	Generate Generate `json:"generate"`
	Access   Access   `json:"access"`
	Budget   Budget   `json:"budget"`
	Coverage Coverage `json:"coverage"`
	Comments Comments `json:"comments"`
}

// Triggers says which events start a job.
type Triggers struct {
	// Comment enables the "/patchpanda" comment command.
	Comment bool `json:"comment"`
	// PullRequest lists the pull_request actions that start a job; empty
	// means none.
	PullRequest []string `json:"pull_request"`
}

// Generate tells the worker what to write tests for.
type Generate struct {
	Paths        []string `json:"paths"`
	Exclude      []string `json:"exclude"`
	Framework    string   `json:"framework"`
	MaxFiles     int      `json:"max_files"`
	Instructions string   `json:"instructions"`
}

// Access widens or narrows who may trigger a job on the repository. It is
// protected: it never comes from a pull request's own change.
type Access struct {
	MinPermission Permission `json:"min_permission"`
	AllowUsers    []string   `json:"allow_users"`
	AllowTeams    []string   `json:"allow_teams"`
}

// Budget caps what one pull request may spend. It is protected.
type Budget struct {
	MaxCostUSDPerJob   float64 `json:"max_cost_usd_per_job"`
	MaxJobsPerPRPerDay int     `json:"max_jobs_per_pr_per_day"`
}

// Coverage configures the "PatchPanda / coverage" check run.
type Coverage struct {
	// Uploads is how many coverage reports a commit expects before it is
	// summarised.
	Uploads int      `json:"uploads"`
	Targets Targets  `json:"targets"`
	Flags   []string `json:"flags"`
}

// Targets are coverage percentages (0 to 100) the check run must reach; nil
// means no target.
type Targets struct {
	Project *float64 `json:"project"`
	Patch   *float64 `json:"patch"`
}

// Comments controls which comments PatchPanda writes on a pull request.
type Comments struct {
	OnSuccess bool `json:"on_success"`
}

// TriggeredBy reports whether an event of kind t starts a job under c. For
// patchpanda.TriggerPullRequest, action is the webhook's action ("opened",
// "synchronize", ...); it is ignored otherwise. Replays and check re-runs
// of earlier jobs are always allowed by the configuration (authz decides
// who may ask).
func (c Config) TriggeredBy(t patchpanda.Trigger, action string) bool {
	switch t {
	case patchpanda.TriggerComment:
		return c.Triggers.Comment
	case patchpanda.TriggerPullRequest:
		return slices.Contains(c.Triggers.PullRequest, action)
	case patchpanda.TriggerReplay, patchpanda.TriggerCheckRerun:
		return true
	}
	return false
}

// Permission is a person's permission on a repository, as GitHub's
// collaborator permission API names it in "role_name".
type Permission string

// The repository permissions, weakest first.
const (
	PermissionNone     Permission = "none"
	PermissionRead     Permission = "read"
	PermissionTriage   Permission = "triage"
	PermissionWrite    Permission = "write"
	PermissionMaintain Permission = "maintain"
	PermissionAdmin    Permission = "admin"
)

var permissions = []Permission{PermissionNone, PermissionRead, PermissionTriage, PermissionWrite, PermissionMaintain, PermissionAdmin}

// ParsePermission returns the permission named s. GitHub's older names
// "pull" and "push" are read as read and write. It returns an EINVALID
// error for anything else.
func ParsePermission(s string) (Permission, error) {
	switch s {
	case "pull":
		return PermissionRead, nil
	case "push":
		return PermissionWrite, nil
	case "":
		return PermissionNone, nil
	}
	if slices.Contains(permissions, Permission(s)) {
		return Permission(s), nil
	}
	return "", patchpanda.Errorf(patchpanda.EINVALID, "unknown repository permission %q (known: none, read, triage, write, maintain, admin)", s)
}

// Rank orders permissions: 0 for none (and any unknown value) up to 5 for
// admin.
func (p Permission) Rank() int {
	if i := slices.Index(permissions, p); i > 0 {
		return i
	}
	return 0
}

// AtLeast reports whether p is q or stronger.
func (p Permission) AtLeast(q Permission) bool { return p.Rank() >= q.Rank() }

// Role is what PatchPanda's RBAC lets a person do; see docs/testbot-config.md.
type Role string

// The roles, weakest first. RoleNone is no role at all; RoleBlocked denies
// everything and wins over any other grant.
const (
	RoleBlocked    Role = "blocked"
	RoleNone       Role = ""
	RoleViewer     Role = "viewer"
	RoleDeveloper  Role = "developer"
	RoleMaintainer Role = "maintainer"
	RoleAdmin      Role = "admin"
)

var roles = []Role{RoleBlocked, RoleNone, RoleViewer, RoleDeveloper, RoleMaintainer, RoleAdmin}

// roleNames lists the role names a server config may use, weakest first.
var roleNames = []string{string(RoleBlocked), string(RoleViewer), string(RoleDeveloper), string(RoleMaintainer), string(RoleAdmin)}

// Rank orders roles: 0 for blocked, 1 for none (and any unknown value), up
// to 5 for admin.
func (r Role) Rank() int {
	if i := slices.Index(roles, r); i >= 0 {
		return i
	}
	return 1
}

// AtLeast reports whether r is q or stronger. A blocked role is never at
// least anything but blocked.
func (r Role) AtLeast(q Role) bool { return r.Rank() >= q.Rank() }
