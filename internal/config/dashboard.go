package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// DashboardRole is a role on the dashboard: what a signed-in person may see
// and do there.
type DashboardRole string

// The dashboard's roles, weakest first. An operator may replay jobs; an
// admin also sees the audit log, billing and API keys.
const (
	DashboardViewer   DashboardRole = "viewer"
	DashboardOperator DashboardRole = "operator"
	DashboardAdmin    DashboardRole = "admin"
)

var dashboardRoles = []string{string(DashboardViewer), string(DashboardOperator), string(DashboardAdmin)}

// Rank orders roles: 0 for an unknown role, then viewer < operator < admin.
func (r DashboardRole) Rank() int {
	for i, n := range dashboardRoles {
		if string(r) == n {
			return i + 1
		}
	}
	return 0
}

// Dashboard is the server config's dashboard section.
type Dashboard struct {
	// Grants give dashboard roles to people signed in with single sign-on.
	Grants []DashboardGrant
}

// DashboardGrant gives Role to whoever matches one of Subjects (the ID
// token's sub), Emails, Groups (the groups claim) or GitHubLogins, on the
// repositories matching Repos (every repository when Repos is empty).
type DashboardGrant struct {
	Source       string // e.g. "dashboard.roles.admin", for reasons
	Role         DashboardRole
	Subjects     []string
	Emails       []string
	Groups       []string
	GitHubLogins []string
	Repos        []string
	Line, Column int
}

// Matches reports whether the grant names the person with these claims.
// Emails and GitHub logins compare case-insensitively; subjects and groups
// exactly, as identity providers issue them.
func (g DashboardGrant) Matches(subject, email, login string, groups []string) bool {
	for _, s := range g.Subjects {
		if s == subject && subject != "" {
			return true
		}
	}
	for _, e := range g.Emails {
		if email != "" && strings.EqualFold(e, email) {
			return true
		}
	}
	for _, l := range g.GitHubLogins {
		if login != "" && strings.EqualFold(l, login) {
			return true
		}
	}
	for _, want := range g.Groups {
		for _, have := range groups {
			if want == have {
				return true
			}
		}
	}
	return false
}

// dashboard reads the dashboard section.
func (d *decoder) dashboard(n *yaml.Node) Dashboard {
	var out Dashboard
	d.mapping(n, "dashboard", func(key string, k, v *yaml.Node) {
		if key != "roles" {
			d.add(k, "dashboard."+key, "unknown key; the keys here are roles")
			return
		}
		d.mapping(v, "dashboard.roles", func(role string, rk, rv *yaml.Node) {
			p := "dashboard.roles." + role
			if DashboardRole(role).Rank() == 0 {
				d.add(rk, p, "unknown role; the roles are %s", strings.Join(dashboardRoles, ", "))
				return
			}
			g := DashboardGrant{Source: p, Role: DashboardRole(role), Line: rk.Line, Column: rk.Column}
			before := len(d.errs)
			d.mapping(rv, p, func(key string, k, v *yaml.Node) {
				kp := p + "." + key
				switch key {
				case "subjects":
					g.Subjects, _ = d.strList(v, k, kp, false, 1000, nonEmpty)
				case "emails":
					g.Emails, _ = d.strList(v, k, kp, false, 1000, func(s string) string {
						if !strings.Contains(s, "@") {
							return "must be an email address"
						}
						return ""
					})
				case "groups":
					g.Groups, _ = d.strList(v, k, kp, false, 1000, nonEmpty)
				case "github_logins":
					g.GitHubLogins, _ = d.strList(v, k, kp, false, 1000, matchItem(loginRE, "a GitHub login"))
				case "repos":
					g.Repos, _ = d.strList(v, k, kp, true, 100, checkRepoGlob)
				default:
					d.add(k, kp, "unknown key; the keys here are subjects, emails, groups, github_logins, repos")
				}
			})
			if len(d.errs) != before {
				return
			}
			if len(g.Subjects)+len(g.Emails)+len(g.Groups)+len(g.GitHubLogins) == 0 {
				d.add(rk, p, "grants nobody: needs subjects, emails, groups or github_logins")
				return
			}
			out.Grants = append(out.Grants, g)
		})
	})
	return out
}

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "must not be empty"
	}
	return ""
}
