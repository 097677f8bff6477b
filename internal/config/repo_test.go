package config

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/*.golden and docs/testbot.schema.json)")

// problems returns err's problems as strings, failing when err is not a
// ValidationErrors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs ValidationErrors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, not ValidationErrors: %v", err, err)
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func TestParseRepoConfigReportsEveryProblemWithItsPosition(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty file sets nothing", "", nil},
		{"comments only set nothing", "# nothing here\n", nil},
		{"null document sets nothing", "~\n", nil},
		{"empty sections are allowed", "generate:\ncoverage:\n", nil},
		{"value out of range names key path and value",
			"version: 1\ngenerate:\n  max_files: 9000\n",
			[]string{".testbot.yml:3:3: generate.max_files: must be between 1 and 500, got 9000"}},
		{"unknown key lists the known keys",
			"generate:\n  max_file: 3\n",
			[]string{".testbot.yml:2:3: generate.max_file: unknown key; the keys here are paths, exclude, framework, max_files, instructions"}},
		{"unknown top-level key",
			"tirggers: {}\n",
			[]string{".testbot.yml:1:1: tirggers: unknown key; the keys here are version, triggers, generate, access, budget, coverage, comments"}},
		{"duplicate key points at the second one",
			"comments:\n  on_success: true\ncomments: {}\n",
			[]string{".testbot.yml:3:1: comments: duplicate key (first at line 1)"}},
		{"wrong types are each reported",
			"triggers:\n  comment: \"yes\"\ngenerate:\n  max_files: \"5\"\n  paths: src/**\n  framework: 3\n",
			[]string{
				`.testbot.yml:2:3: triggers.comment: must be true or false, got "yes"`,
				`.testbot.yml:4:3: generate.max_files: must be a whole number, got "5"`,
				`.testbot.yml:5:3: generate.paths: must be a list, got "src/**"`,
				`.testbot.yml:6:3: generate.framework: must be a string, got integer 3`,
			}},
		{"yes is not a boolean",
			"comments: {on_success: yes}\n",
			[]string{`.testbot.yml:1:12: comments.on_success: must be true or false, got "yes"`}},
		{"fractional max_files",
			"generate: {max_files: 2.5}\n",
			[]string{".testbot.yml:1:12: generate.max_files: must be a whole number, got number 2.5"}},
		{"list items are checked one by one",
			"generate:\n  paths: [src/**, /abs, src/**, 7]\n",
			[]string{
				`.testbot.yml:2:19: generate.paths[1]: must be relative to the repository root (no leading /), got "/abs"`,
				`.testbot.yml:2:25: generate.paths[2]: "src/**" is listed twice`,
				`.testbot.yml:2:33: generate.paths[3]: must be a string, got integer 7`,
			}},
		{"bad glob",
			"generate: {exclude: ['a[']}\n",
			[]string{`.testbot.yml:1:22: generate.exclude[0]: is not a valid glob, got "a["`}},
		{"unknown pull_request action",
			"triggers:\n  pull_request: [opened, closed]\n",
			[]string{`.testbot.yml:2:26: triggers.pull_request[1]: must be one of opened, synchronize, reopened, ready_for_review, got "closed"`}},
		{"pull_request must be a boolean or a list",
			"triggers:\n  pull_request: opened\n",
			[]string{`.testbot.yml:2:3: triggers.pull_request: must be true, false or a list of opened, synchronize, reopened, ready_for_review; got "opened"`}},
		{"enum string",
			"access:\n  min_permission: owner\n",
			[]string{`.testbot.yml:2:3: access.min_permission: must be one of read, triage, write, maintain, admin, got "owner"`}},
		{"bad login and team",
			"access:\n  allow_users: [-bad]\n  allow_teams: [acme/qa, 'a b']\n",
			[]string{
				`.testbot.yml:2:17: access.allow_users[0]: must be a GitHub login, got "-bad"`,
				`.testbot.yml:3:26: access.allow_teams[1]: must be a team slug, optionally prefixed with its organization (org/slug), got "a b"`,
			}},
		{"coverage target above 100 and NaN",
			"coverage:\n  targets:\n    project: 101\n    patch: .nan\n",
			[]string{
				".testbot.yml:3:5: coverage.targets.project: must be between 0 and 100, got 101",
				".testbot.yml:4:5: coverage.targets.patch: must be a finite number, got number .nan",
			}},
		{"version must be 1",
			"version: 2\n",
			[]string{".testbot.yml:1:1: version: must be 1, got 2"}},
		{"huge integer reports what was written",
			"coverage: {uploads: 99999999999999999999999}\n",
			[]string{".testbot.yml:1:12: coverage.uploads: must be between 1 and 100, got 99999999999999999999999"}},
		{"top level must be a mapping",
			"- generate\n",
			[]string{".testbot.yml:1:1: must be a mapping, got a list"}},
		{"section must be a mapping",
			"generate: [a]\n",
			[]string{".testbot.yml:1:1: generate: must be a mapping, got a list"}},
		{"syntax error gives the line",
			"generate:\n  paths: [a\nbudget: 1\n",
			[]string{".testbot.yml:2:1: invalid YAML: did not find expected ',' or ']'"}},
		{"tabs are a syntax error",
			"generate:\n\tmax_files: 3\n",
			[]string{".testbot.yml:2:1: invalid YAML: found character that cannot start any token"}},
		{"two documents",
			"version: 1\n---\nversion: 1\n",
			[]string{`.testbot.yml:2:1: only one YAML document is allowed; remove the second "---"`}},
		{"merge keys are rejected",
			"base: &b {on_success: true}\ncomments:\n  <<: *b\n",
			[]string{
				".testbot.yml:1:1: base: unknown key; the keys here are version, triggers, generate, access, budget, coverage, comments",
				".testbot.yml:3:3: comments: keys must be strings, got a merge key (<<), which is not supported",
			}},
		{"non-string keys",
			"1: a\n",
			[]string{".testbot.yml:1:1: keys must be strings, got integer 1"}},
		{"instructions too long",
			"generate:\n  instructions: " + strings.Repeat("x", 4001) + "\n",
			[]string{".testbot.yml:2:3: generate.instructions: must be at most 4000 characters, got 4001"}},
		{"invalid UTF-8",
			"generate: {framework: \"\xff\"}\n",
			[]string{".testbot.yml:1:1: file is not valid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseRepoConfig(".testbot.yml", []byte(tt.src))
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if (err == nil) != (c != nil) {
				t.Errorf("got config %v with error %v; want exactly one", c, err)
			}
		})
	}
}

func TestParseRepoConfigAcceptsAliasesToValues(t *testing.T) {
	src := "generate:\n  paths: &p [src/**]\n  exclude: *p\n"
	c, err := ParseRepoConfig(".testbot.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config().Generate
	if diff := cmp.Diff([]string{"src/**"}, got.Exclude); diff != "" {
		t.Errorf("exclude (-want +got):\n%s", diff)
	}
}

func TestValidationErrorsAreInvalidErrors(t *testing.T) {
	_, err := ParseRepoConfig("x.yml", []byte("bogus: 1\n"))
	if got := patchpanda.ErrorCode(err); got != patchpanda.EINVALID {
		t.Errorf("ErrorCode = %q, want %q", got, patchpanda.EINVALID)
	}
	if got, want := patchpanda.ErrorMessage(err), "x.yml:1:1: bogus: unknown key; the keys here are version, triggers, generate, access, budget, coverage, comments"; got != want {
		t.Errorf("ErrorMessage = %q, want %q", got, want)
	}
}

func TestParseRepoConfigStopsAfterTooManyProblems(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(": 1\n")
	}
	_, err := ParseRepoConfig(".testbot.yml", []byte(b.String()))
	got := problems(t, err)
	if len(got) != maxErrors+1 || !strings.HasSuffix(got[len(got)-1], "too many problems; stopped here") {
		t.Errorf("got %d problems ending in %q; want %d ending in the stop notice", len(got), got[len(got)-1], maxErrors+1)
	}
}

func TestParseRepoConfigGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/repo/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			c, err := ParseRepoConfig(".testbot.yml", data)
			if err != nil {
				got = []byte(err.Error() + "\n")
			} else {
				got, _ = json.MarshalIndent(c.Config(), "", "  ")
				got = append(got, '\n')
			}
			golden(t, strings.TrimSuffix(file, ".yml")+".golden", got)
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}
