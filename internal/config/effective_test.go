package config

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const effectiveServer = `defaults:
  coverage: {targets: {patch: 80}}
limits:
  generate.max_files: 100
allowed_overrides: [generate, coverage]
rules:
  - name: strict
    match: acme/strict
    allowed_overrides: [generate.paths]
  - name: locked-access
    match: acme/*
    locked: [access.allow_users]
  - name: cheap
    match: acme/cheap
    limits: {budget.max_cost_usd_per_job: 0.5}
`

func mustRepo(t *testing.T, file, src string) *RepoConfig {
	t.Helper()
	if src == "" {
		return nil
	}
	c, err := ParseRepoConfig(file, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func float(f float64) *float64 { return &f }

func TestEffective(t *testing.T) {
	server, err := ParseServer("server.yml", []byte(effectiveServer))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		noServer   bool
		repo       string
		base, head string
		want       func(c *Config)
		violations []string
	}{
		{
			name: "no server and no files give the built-in defaults", noServer: true, repo: "o/r",
			want: func(c *Config) {},
		},
		{
			name: "without a server config the head may change any unprotected key", noServer: true, repo: "o/r",
			head: "comments: {on_success: true}\ngenerate: {max_files: 400}\n",
			want: func(c *Config) { c.Comments.OnSuccess = true; c.Generate.MaxFiles = 400 },
		},
		{
			name: "server defaults apply under the files", repo: "o/r",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80) },
		},
		{
			name: "head may change an allowed key", repo: "o/r",
			base: "generate: {max_files: 10}\n",
			head: "generate: {max_files: 30}\ncoverage: {targets: {patch: null}}\n",
			want: func(c *Config) { c.Generate.MaxFiles = 30 },
		},
		{
			name: "head cannot change a protected key", repo: "o/r",
			head: "version: 1\nbudget:\n  max_cost_usd_per_job: 50\n",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80) },
			violations: []string{
				"head.yml:3:3: budget.max_cost_usd_per_job: a pull request cannot change a protected key; it comes only from the default branch or the server config [head: protected]",
			},
		},
		{
			name: "head repeating the default branch's protected value is not a change", repo: "o/r",
			base: "budget: {max_cost_usd_per_job: 3}\naccess: {allow_users: [bob]}\ntriggers: {pull_request: false}\n",
			head: "budget: {max_cost_usd_per_job: 3}\naccess: {allow_users: [bob]}\ntriggers: {pull_request: []}\n",
			want: func(c *Config) {
				c.Coverage.Targets.Patch = float(80)
				c.Budget.MaxCostUSDPerJob = 3
				c.Access.AllowUsers = []string{"bob"}
			},
		},
		{
			name: "head cannot widen access even when the default branch has no file", repo: "o/r",
			head: "access:\n  allow_users: [mallory]\ntriggers:\n  pull_request: true\n",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80) },
			violations: []string{
				"head.yml:2:3: access.allow_users: a pull request cannot change a protected key; it comes only from the default branch or the server config [head: protected]",
				"head.yml:4:3: triggers.pull_request: a pull request cannot change a protected key; it comes only from the default branch or the server config [head: protected]",
			},
		},
		{
			name: "head key outside the top-level allowed_overrides names the server config", repo: "o/r",
			head: "comments: {on_success: true}\n",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80) },
			violations: []string{
				"head.yml:1:12: comments.on_success: a pull request cannot change this key: the server config's top level allows overriding only generate, coverage [head: server config]",
			},
		},
		{
			name: "a later rule's allowed_overrides replaces the earlier list and is named", repo: "acme/strict",
			base: "generate: {framework: pytest}\n",
			head: "generate:\n  framework: jest\n  paths: [src/**]\n",
			want: func(c *Config) {
				c.Coverage.Targets.Patch = float(80)
				c.Generate.Framework = "pytest"
				c.Generate.Paths = []string{"src/**"}
			},
			violations: []string{
				`head.yml:2:3: generate.framework: a pull request cannot change this key: server rule "strict" allows overriding only generate.paths [head: strict]`,
			},
		},
		{
			name: "locked key is rejected even from the default branch", repo: "acme/api",
			base: "access:\n  allow_users: [bob]\n  min_permission: maintain\n",
			want: func(c *Config) {
				c.Coverage.Targets.Patch = float(80)
				c.Access.MinPermission = PermissionMaintain
			},
			violations: []string{
				`base.yml:2:3: access.allow_users: locked by server rule "locked-access"; only the server config sets it [default_branch: locked-access]`,
			},
		},
		{
			name: "value above a limit is clamped and the limit named", repo: "o/r",
			base: "generate:\n  max_files: 400\n",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80); c.Generate.MaxFiles = 100 },
			violations: []string{
				"base.yml:2:3: generate.max_files: 400 is above the limit 100 set by the server config's top level; 100 is used [default_branch: server config]",
			},
		},
		{
			name: "default above a rule's limit points at the limit", repo: "acme/cheap",
			want: func(c *Config) { c.Coverage.Targets.Patch = float(80); c.Budget.MaxCostUSDPerJob = 0.5 },
			violations: []string{
				`server.yml:15:14: budget.max_cost_usd_per_job: 1 is above the limit 0.5 set by server rule "cheap"; 0.5 is used [server: cheap]`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := server
			if tt.noServer {
				s = nil
			}
			got, vs := Effective(s, mustRepo(t, "base.yml", tt.base), mustRepo(t, "head.yml", tt.head), tt.repo)
			want := Defaults()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			var gotV []string
			for _, v := range vs {
				gotV = append(gotV, v.Error()+" ["+v.Layer+": "+v.Rule+"]")
			}
			if diff := cmp.Diff(tt.violations, gotV); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEffectiveTreatsTheSameFileAsBaseAndHead(t *testing.T) {
	c := mustRepo(t, ".testbot.yml", "budget: {max_cost_usd_per_job: 2}\naccess: {allow_users: [bob]}\n")
	got, vs := Effective(nil, c, c, "o/r")
	if len(vs) != 0 {
		t.Errorf("violations = %v, want none: the head repeats the default branch", vs)
	}
	if got.Budget.MaxCostUSDPerJob != 2 {
		t.Errorf("max_cost_usd_per_job = %v, want 2", got.Budget.MaxCostUSDPerJob)
	}
}

// TestEffectiveJSONIsStable pins the queue message's config field names.
func TestEffectiveJSONIsStable(t *testing.T) {
	server, err := ParseServer("server.yml", []byte(effectiveServer))
	if err != nil {
		t.Fatal(err)
	}
	base := mustRepo(t, "base.yml", "triggers: {pull_request: [opened]}\ngenerate: {paths: [src/**], framework: go test}\n")
	head := mustRepo(t, "head.yml", "generate: {max_files: 7}\ncoverage: {uploads: 3, flags: [unit]}\n")
	got, vs := Effective(server, base, head, "o/r")
	if len(vs) != 0 {
		t.Fatalf("violations: %v", vs)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/effective.golden", append(b, '\n'))
}
