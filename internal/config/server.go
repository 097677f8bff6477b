package config

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Server is the parsed server-side config (PATCHPANDA_SERVER_CONFIG). The
// zero Server, like a nil *Server, sets nothing: built-in defaults, no
// limits, every unprotected key overridable, and RBAC by repository
// permission alone. It is not changed after parsing.
type Server struct {
	// File is the name used in problems and violations.
	File string
	// Base holds the top-level defaults, limits, allowed_overrides and
	// locked keys. It acts as a rule named ServerRule that matches every
	// repository and comes before Rules.
	Base Rule
	// Rules apply, in order, to the repositories they match.
	Rules []Rule
	// RBAC maps people and teams to roles.
	RBAC RBAC
	// Dashboard gives dashboard roles to people who sign in.
	Dashboard Dashboard
}

// Rule is what the server config says about the repositories it matches.
type Rule struct {
	Name string
	// Match holds "owner/name" globs ('*' does not cross '/'), compared
	// case-insensitively. The Base rule has none and matches everything.
	Match []string
	// Defaults overlays the built-in defaults; nil sets nothing.
	Defaults *RepoConfig
	// Limits caps numeric keys; a later rule's limit on a key replaces an
	// earlier one.
	Limits []Limit
	// AllowedOverrides lists the key paths ("generate" covers everything
	// under it, "*" every unprotected key) a pull request's head may
	// change. nil means this rule does not say, so an earlier rule's list
	// (or the built-in "*") stands; an empty list allows nothing.
	AllowedOverrides []string
	// Locked lists key paths no repository file may set at all, not even
	// the default branch's: only the server config sets them.
	Locked []string
	// Line and Column locate the rule in the server config.
	Line, Column int
}

// Limit caps one numeric key: values above Max are replaced by Max.
type Limit struct {
	Path         string
	Max          float64
	Line, Column int
}

// RBAC is the server config's role assignments, flattened into grants.
type RBAC struct {
	Grants []Grant
}

// Grant gives Role to Users and to members of Teams on the repositories
// matching Repos (every repository when Repos is empty). A team grant never
// reaches outside the team's own organization.
type Grant struct {
	// Source names the grant for reasons and audit, e.g.
	// "rbac.roles.maintainer" or `rbac.rules[1] "contractors"`.
	Source string
	Role   Role
	Repos  []string
	Users  []string
	// Teams are "org/slug".
	Teams        []string
	Line, Column int
}

// LoadServer reads and parses the server config at path. An empty path
// gives an empty Server (no server config). It returns the read error
// wrapped, or the ValidationErrors from ParseServer.
func LoadServer(path string) (*Server, error) {
	if path == "" {
		return &Server{Base: Rule{Name: ServerRule}}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read server config: %w", err)
	}
	return ParseServer(path, data)
}

// ParseServer parses a server config with the same strictness as
// ParseRepoConfig: every problem is reported with file, line, column and
// key path. On failure it returns nil and a ValidationErrors. It never
// panics.
func ParseServer(file string, data []byte) (*Server, error) {
	d := &decoder{file: file}
	s := &Server{File: file, Base: Rule{Name: ServerRule}}
	if root := d.document(data); root != nil {
		s.Base.Line, s.Base.Column = root.Line, root.Column
		names := map[string]int{}
		d.mapping(root, "", func(key string, k, v *yaml.Node) {
			switch key {
			case "rules":
				items, ok := d.sequence(v, k, "rules")
				if !ok {
					return
				}
				for i, it := range items {
					r, ok := d.rule(it, fmt.Sprintf("rules[%d]", i))
					if !ok {
						continue
					}
					if first, dup := names[r.Name]; dup {
						d.add(it, fmt.Sprintf("rules[%d].name", i), "rule name %q is already used at line %d", r.Name, first)
						continue
					}
					names[r.Name] = r.Line
					s.Rules = append(s.Rules, r)
				}
			case "rbac":
				s.RBAC = d.rbac(v, k)
			case "dashboard":
				s.Dashboard = d.dashboard(v)
			default:
				if !d.ruleKey(&s.Base, key, k, v, "") {
					d.add(k, key, "unknown key; the keys here are defaults, limits, allowed_overrides, locked, rules, rbac, dashboard")
				}
			}
		})
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var (
	ruleNameRE = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$`)
	teamOrgRE  = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
)

// rule reads one item of rules.
func (d *decoder) rule(n *yaml.Node, where string) (Rule, bool) {
	r := Rule{Line: n.Line, Column: n.Column}
	if rn := resolve(n); rn == nil || rn.Kind != yaml.MappingNode {
		d.add(n, where, "must be a mapping with name and match, got %s", describe(rn))
		return r, false
	}
	before := len(d.errs)
	hasMatch := false
	d.mapping(n, where, func(key string, k, v *yaml.Node) {
		p := joinPath(where, key)
		switch key {
		case "name":
			if s, ok := d.str(v, k, p); ok {
				if !ruleNameRE().MatchString(s) {
					d.add(k, p, "must be 1 to 100 letters, digits or _.:/- and start with a letter or digit, got %q", s)
					return
				}
				r.Name = s
			}
		case "match":
			hasMatch = true
			r.Match, _ = d.strList(v, k, p, true, 100, checkRepoGlob)
		default:
			if !d.ruleKey(&r, key, k, v, where) {
				d.add(k, p, "unknown key; the keys here are name, match, defaults, limits, allowed_overrides, locked")
			}
		}
	})
	if r.Name == "" {
		d.add(n, where, "needs a name")
	}
	if hasMatch && len(r.Match) == 0 && len(d.errs) == before {
		d.add(n, where+".match", "must list at least one \"owner/name\" glob")
	}
	if !hasMatch {
		d.add(n, where, "needs match: one or more \"owner/name\" globs")
	}
	return r, len(d.errs) == before
}

// ruleKey reads key if it is one of the keys the top level and rules
// share, and reports whether it was.
func (d *decoder) ruleKey(r *Rule, key string, k, v *yaml.Node, where string) bool {
	p := joinPath(where, key)
	switch key {
	case "defaults":
		c := &RepoConfig{File: d.file, settings: map[string]setting{}}
		d.object(schema, v, k, p, c.settings)
		r.Defaults = c
	case "limits":
		d.mapping(v, p, func(lk string, kk, vv *yaml.Node) {
			lp := joinPath(p, lk)
			f := fields[lk]
			if f == nil || !f.limitable {
				d.add(kk, lp, "cannot be limited; limits apply to %s", strings.Join(limitablePaths(), ", "))
				return
			}
			m, ok := d.number(vv, kk, lp, f.kind == kindInt)
			if !ok {
				return
			}
			if m < f.min || m > f.max {
				d.add(kk, lp, "must be between %s and %s, got %s", formatNumber(f.min), formatNumber(f.max), formatNumber(m))
				return
			}
			r.Limits = append(r.Limits, Limit{Path: lk, Max: m, Line: kk.Line, Column: kk.Column})
		})
	case "allowed_overrides":
		list, ok := d.strList(v, k, p, false, 0, func(s string) string {
			if msg := checkKeyPath(s); msg != "" {
				return msg
			}
			if Protected(s) {
				return "is protected: a pull request can never change it, so it cannot be allowed"
			}
			return ""
		})
		if ok {
			r.AllowedOverrides = list
		}
	case "locked":
		r.Locked, _ = d.strList(v, k, p, false, 0, checkKeyPath)
	default:
		return false
	}
	return true
}

func checkKeyPath(s string) string {
	if s == "*" || fields[s] != nil {
		return ""
	}
	return "must be \"*\" or a .testbot.yml key path such as generate.paths"
}

func limitablePaths() []string {
	var out []string
	for _, f := range leaves() {
		if f.limitable {
			out = append(out, f.path)
		}
	}
	return out
}

// checkRepoGlob accepts "owner/name" globs.
func checkRepoGlob(s string) string {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "must be an \"owner/name\" glob such as acme/* or acme/api-*"
	}
	if _, err := path.Match(s, ""); err != nil {
		return "is not a valid glob"
	}
	return ""
}

// matchRepo reports whether repo ("owner/name") matches one of globs,
// ignoring case as GitHub does.
func matchRepo(globs []string, repo string) bool {
	repo = strings.ToLower(repo)
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), repo); ok {
			return true
		}
	}
	return false
}

// MatchRepo reports whether repo ("owner/name") matches one of the
// "owner/name" globs, ignoring case. An empty list matches every
// repository. A malformed glob matches nothing.
func MatchRepo(globs []string, repo string) bool {
	return len(globs) == 0 || matchRepo(globs, repo)
}

// Matching returns the rules that apply to repo ("owner/name"): Base first,
// then every rule in Rules whose Match matches, in order. A nil s gives only
// an empty base rule.
func (s *Server) Matching(repo string) []Rule {
	if s == nil {
		return []Rule{{Name: ServerRule}}
	}
	out := []Rule{s.Base}
	for _, r := range s.Rules {
		if matchRepo(r.Match, repo) {
			out = append(out, r)
		}
	}
	return out
}

// rbac reads the rbac section.
func (d *decoder) rbac(n, at *yaml.Node) RBAC {
	var out RBAC
	d.mapping(n, "rbac", func(key string, k, v *yaml.Node) {
		switch key {
		case "roles":
			d.mapping(v, "rbac.roles", func(role string, rk, rv *yaml.Node) {
				p := "rbac.roles." + role
				if !slices.Contains(roleNames, role) {
					d.add(rk, p, "unknown role; the roles are %s", strings.Join(roleNames, ", "))
					return
				}
				g := Grant{Source: p, Role: Role(role), Line: rk.Line, Column: rk.Column}
				if d.members(&g, rv, rk, p, nil) {
					out.Grants = append(out.Grants, g)
				}
			})
		case "rules":
			items, ok := d.sequence(v, k, "rbac.rules")
			if !ok {
				return
			}
			for i, it := range items {
				p := fmt.Sprintf("rbac.rules[%d]", i)
				g := Grant{Source: p, Line: it.Line, Column: it.Column}
				if rn := resolve(it); rn == nil || rn.Kind != yaml.MappingNode {
					d.add(it, p, "must be a mapping with repos, role and users or teams, got %s", describe(rn))
					continue
				}
				extra := func(key string, k, v *yaml.Node) bool {
					kp := joinPath(p, key)
					switch key {
					case "name":
						if s, ok := d.str(v, k, kp); ok {
							g.Source = fmt.Sprintf("%s %q", p, s)
						}
					case "repos":
						g.Repos, _ = d.strList(v, k, kp, true, 100, checkRepoGlob)
					case "role":
						if s, ok := d.str(v, k, kp); ok {
							if !slices.Contains(roleNames, s) {
								d.add(k, kp, "unknown role %q; the roles are %s", s, strings.Join(roleNames, ", "))
								return true
							}
							g.Role = Role(s)
						}
					default:
						return false
					}
					return true
				}
				ok := d.members(&g, it, it, p, extra)
				if len(g.Repos) == 0 {
					d.add(it, p, "needs repos: one or more \"owner/name\" globs")
					ok = false
				}
				if g.Role == RoleNone {
					d.add(it, p, "needs a role: one of %s", strings.Join(roleNames, ", "))
					ok = false
				}
				if ok {
					out.Grants = append(out.Grants, g)
				}
			}
		default:
			d.add(k, "rbac."+key, "unknown key; the keys here are roles, rules")
		}
	})
	return out
}

// members reads users and teams (and, through extra, any other keys) of
// one grant. It reports whether the grant is usable.
func (d *decoder) members(g *Grant, n, at *yaml.Node, where string, extra func(key string, k, v *yaml.Node) bool) bool {
	before := len(d.errs)
	if rn := resolve(n); rn == nil || rn.Kind != yaml.MappingNode {
		d.add(at, where, "must be a mapping with users or teams, got %s", describe(rn))
		return false
	}
	d.mapping(n, where, func(key string, k, v *yaml.Node) {
		p := joinPath(where, key)
		switch key {
		case "users":
			g.Users, _ = d.strList(v, k, p, false, 1000, matchItem(loginRE, "a GitHub login"))
		case "teams":
			g.Teams, _ = d.strList(v, k, p, false, 1000, matchItem(teamOrgRE, "a team as org/slug"))
		default:
			if extra == nil || !extra(key, k, v) {
				known := "users, teams"
				if extra != nil {
					known = "name, repos, role, users, teams"
				}
				d.add(k, p, "unknown key; the keys here are %s", known)
			}
		}
	})
	if len(d.errs) == before && len(g.Users) == 0 && len(g.Teams) == 0 {
		d.add(at, where, "grants nobody: needs users or teams")
	}
	return len(d.errs) == before
}
