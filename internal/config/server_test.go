package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fullServer = `# The operator's config.
defaults:
  triggers:
    pull_request: [opened]
  coverage:
    targets: {patch: 80}
limits:
  generate.max_files: 100
  budget.max_cost_usd_per_job: 5
allowed_overrides: [generate, coverage, comments]
rules:
  - name: acme-strict
    match: acme/*
    allowed_overrides: [generate.paths, generate.exclude]
    locked: [access.allow_users]
    limits:
      budget.max_jobs_per_pr_per_day: 4
  - name: sandbox
    match: [acme/sandbox, acme/play-*]
    defaults:
      generate: {max_files: 50}
rbac:
  roles:
    admin: {users: [root]}
    maintainer:
      users: [alice]
      teams: [acme/platform]
  rules:
    - name: contractors
      repos: acme/api-*
      role: developer
      users: [bob]
      teams: [acme/contractors]
    - repos: [acme/secret]
      role: blocked
      users: [mallory]
`

func TestParseServerReadsEveryKey(t *testing.T) {
	s, err := ParseServer("server.yml", []byte(fullServer))
	if err != nil {
		t.Fatal(err)
	}
	set := func(line, col int, v any) setting { return setting{value: v, line: line, column: col} }
	want := &Server{
		File: "server.yml",
		Base: Rule{
			Name: ServerRule,
			Defaults: &RepoConfig{File: "server.yml", settings: map[string]setting{
				"triggers.pull_request":  set(4, 5, []string{"opened"}),
				"coverage.targets.patch": set(6, 15, 80.0),
			}},
			Limits: []Limit{
				{Path: "generate.max_files", Max: 100, Line: 8, Column: 3},
				{Path: "budget.max_cost_usd_per_job", Max: 5, Line: 9, Column: 3},
			},
			AllowedOverrides: []string{"generate", "coverage", "comments"},
			Line:             2, Column: 1,
		},
		Rules: []Rule{
			{
				Name: "acme-strict", Match: []string{"acme/*"},
				AllowedOverrides: []string{"generate.paths", "generate.exclude"},
				Locked:           []string{"access.allow_users"},
				Limits:           []Limit{{Path: "budget.max_jobs_per_pr_per_day", Max: 4, Line: 17, Column: 7}},
				Line:             12, Column: 5,
			},
			{
				Name: "sandbox", Match: []string{"acme/sandbox", "acme/play-*"},
				Defaults: &RepoConfig{File: "server.yml", settings: map[string]setting{
					"generate.max_files": set(21, 18, 50),
				}},
				Line: 18, Column: 5,
			},
		},
		RBAC: RBAC{Grants: []Grant{
			{Source: "rbac.roles.admin", Role: RoleAdmin, Users: []string{"root"}, Line: 24, Column: 5},
			{Source: "rbac.roles.maintainer", Role: RoleMaintainer, Users: []string{"alice"}, Teams: []string{"acme/platform"}, Line: 25, Column: 5},
			{Source: `rbac.rules[0] "contractors"`, Role: RoleDeveloper, Repos: []string{"acme/api-*"}, Users: []string{"bob"}, Teams: []string{"acme/contractors"}, Line: 29, Column: 7},
			{Source: "rbac.rules[1]", Role: RoleBlocked, Repos: []string{"acme/secret"}, Users: []string{"mallory"}, Line: 34, Column: 7},
		}},
	}
	if diff := cmp.Diff(want, s, cmp.AllowUnexported(RepoConfig{}, setting{})); diff != "" {
		t.Errorf("ParseServer (-want +got):\n%s", diff)
	}
}

func TestParseServerReportsEveryProblemWithItsPosition(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty file is no config", "", nil},
		{"unknown top-level key",
			"billing: {}\n",
			[]string{"s.yml:1:1: billing: unknown key; the keys here are defaults, limits, allowed_overrides, locked, rules, rbac, dashboard"}},
		{"defaults are checked like a .testbot.yml, with the section in the path",
			"defaults:\n  generate:\n    max_files: 0\n",
			[]string{"s.yml:3:5: defaults.generate.max_files: must be between 1 and 500, got 0"}},
		{"limit on a key that cannot be limited",
			"limits:\n  generate.paths: 3\n",
			[]string{"s.yml:2:3: limits.generate.paths: cannot be limited; limits apply to generate.max_files, budget.max_cost_usd_per_job, budget.max_jobs_per_pr_per_day, coverage.uploads"}},
		{"limit out of the key's range",
			"limits:\n  generate.max_files: 501\n",
			[]string{"s.yml:2:3: limits.generate.max_files: must be between 1 and 500, got 501"}},
		{"protected key cannot be allowed",
			"allowed_overrides: [generate, budget.max_cost_usd_per_job, nope]\n",
			[]string{
				`s.yml:1:31: allowed_overrides[1]: is protected: a pull request can never change it, so it cannot be allowed, got "budget.max_cost_usd_per_job"`,
				`s.yml:1:60: allowed_overrides[2]: must be "*" or a .testbot.yml key path such as generate.paths, got "nope"`,
			}},
		{"rule needs name and match",
			"rules:\n  - limits: {}\n",
			[]string{
				"s.yml:2:5: rules[0]: needs a name",
				`s.yml:2:5: rules[0]: needs match: one or more "owner/name" globs`,
			}},
		{"rule names are unique",
			"rules:\n  - {name: a, match: x/*}\n  - {name: a, match: y/*}\n",
			[]string{`s.yml:3:5: rules[1].name: rule name "a" is already used at line 2`}},
		{"match must be owner/name",
			"rules:\n  - {name: a, match: [acme]}\n",
			[]string{`s.yml:2:23: rules[0].match[0]: must be an "owner/name" glob such as acme/* or acme/api-*, got "acme"`}},
		{"unknown role",
			"rbac:\n  roles:\n    owner: {users: [a]}\n",
			[]string{"s.yml:3:5: rbac.roles.owner: unknown role; the roles are blocked, viewer, developer, maintainer, admin"}},
		{"rbac team needs its organization",
			"rbac:\n  roles:\n    maintainer: {teams: [platform]}\n",
			[]string{`s.yml:3:26: rbac.roles.maintainer.teams[0]: must be a team as org/slug, got "platform"`}},
		{"rbac rule needs repos, role and members",
			"rbac:\n  rules:\n    - {name: x}\n",
			[]string{
				"s.yml:3:7: rbac.rules[0]: grants nobody: needs users or teams",
				`s.yml:3:7: rbac.rules[0]: needs repos: one or more "owner/name" globs`,
				"s.yml:3:7: rbac.rules[0]: needs a role: one of blocked, viewer, developer, maintainer, admin",
			}},
		{"rbac rule with an unknown key",
			"rbac:\n  rules:\n    - {repos: a/b, role: viewer, users: [x], team: [a/b]}\n",
			[]string{"s.yml:3:46: rbac.rules[0].team: unknown key; the keys here are name, repos, role, users, teams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseServer("s.yml", []byte(tt.src))
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if (err == nil) != (s != nil) {
				t.Errorf("got server %v with error %v; want exactly one", s, err)
			}
		})
	}
}

func TestLoadServer(t *testing.T) {
	t.Run("no path means no server config", func(t *testing.T) {
		s, err := LoadServer("")
		if err != nil || s == nil {
			t.Fatalf("LoadServer(\"\") = %v, %v; want an empty config", s, err)
		}
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := LoadServer(filepath.Join(t.TempDir(), "nope.yml")); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("problems name the file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "server.yml")
		if err := os.WriteFile(p, []byte("nope: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadServer(p)
		got := problems(t, err)
		want := []string{p + ":1:1: nope: unknown key; the keys here are defaults, limits, allowed_overrides, locked, rules, rbac, dashboard"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})
}

func TestMatchingRulesInOrder(t *testing.T) {
	s, err := ParseServer("server.yml", []byte(fullServer))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repo string
		want []string
	}{
		{"acme/api", []string{ServerRule, "acme-strict"}},
		{"ACME/Play-1", []string{ServerRule, "acme-strict", "sandbox"}},
		{"other/api", []string{ServerRule}},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			var got []string
			for _, r := range s.Matching(tt.repo) {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}
