package config

import (
	"path"
	"regexp"
	"strings"
	"sync"
)

// kind is the type of a key's value in .testbot.yml.
type kind int

const (
	kindObject     kind = iota // a mapping of the children
	kindBool                   // true or false
	kindInt                    // a whole number in [min, max]
	kindNumber                 // any finite number in [min, max]
	kindString                 // a string, at most maxLen characters, maybe from enum
	kindStringList             // a list of distinct strings, at most maxLen items
	kindActions                // false, true, or a list of distinct enum values
)

// field describes one key of .testbot.yml. The tree of fields is the single
// source of truth for parsing, merging, the Config struct and the JSON
// Schema. It is built once and never changed.
type field struct {
	name     string
	path     string // dotted, from the root; set by index
	kind     kind
	doc      string
	children []*field

	// protected keys widen who may trigger or what may be spent: a pull
	// request's own change never sets them. Set on an object, it covers
	// every key below it.
	protected bool
	// limitable keys are numbers the server config can cap in limits.
	limitable bool
	// nullable keys accept null, meaning "none"; their default is nil.
	nullable bool

	def      any // the built-in default of a leaf
	min, max float64
	maxLen   int
	enum     []string
	// item checks each string of a list (or a string itself): it returns
	// "" for a good value, or what is wrong.
	item    func(string) string
	pattern string // the JSON Schema pattern that item enforces, if any
}

func (f *field) leaf() bool { return f.kind != kindObject }

func (f *field) child(name string) *field {
	for _, c := range f.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (f *field) childNames() []string {
	names := make([]string, len(f.children))
	for i, c := range f.children {
		names[i] = c.name
	}
	return names
}

// Patterns of the names a config holds. They are the JSON Schema's
// patterns too.
const (
	loginPattern = `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$`
	teamPattern  = `^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`
	flagPattern  = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`
)

var (
	loginRE = lazyRegexp(loginPattern)
	teamRE  = lazyRegexp(teamPattern)
	flagRE  = lazyRegexp(flagPattern)
)

// lazyRegexp returns a function that compiles pattern on its first call
// and returns that one *regexp.Regexp on every call; it panics, as
// regexp.MustCompile does, on a bad pattern. A counted repetition such as
// {0,99} compiles to that many copies of its operand, so these patterns
// take hundreds of kilobytes and most of a millisecond to compile: ppctl
// links this package for `config validate`, and compiling them at start-up
// made every command, even `ppctl version`, pay for them.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// globPattern is the JSON Schema pattern documenting what checkGlob accepts.
const globPattern = `^[^/\\][^\\]*$`

func matchItem(re func() *regexp.Regexp, what string) func(string) string {
	return func(s string) string {
		if !re().MatchString(s) {
			return "must be " + what
		}
		return ""
	}
}

// checkGlob accepts a relative slash-separated glob. "**" is allowed and
// matches any number of directories.
func checkGlob(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 256:
		return "must be at most 256 characters"
	case strings.HasPrefix(s, "/"):
		return "must be relative to the repository root (no leading /)"
	case strings.ContainsAny(s, "\\\x00"):
		return "must use / as separator and contain no backslash"
	}
	if _, err := path.Match(s, ""); err != nil {
		return "is not a valid glob"
	}
	return ""
}

// pullRequestActions are the pull_request webhook actions a job can follow.
var pullRequestActions = []string{"opened", "synchronize", "reopened", "ready_for_review"}

// defaultPullRequestActions is what "pull_request: true" means.
var defaultPullRequestActions = []string{"opened", "synchronize", "reopened"}

// schema is the tree of .testbot.yml keys, version 1.
var schema = index(&field{kind: kindObject, doc: "PatchPanda's per-repository configuration (.testbot.yml), version 1.", children: []*field{
	{name: "version", kind: kindInt, min: 1, max: 1, def: 1,
		doc: "Version of this file's format; only 1 exists."},
	{name: "triggers", kind: kindObject, protected: true,
		doc: "Which events start a job. Protected: a pull request cannot change it.", children: []*field{
			{name: "comment", kind: kindBool, def: true,
				doc: "Whether a \"/patchpanda\" comment on a pull request starts a job."},
			{name: "pull_request", kind: kindActions, enum: pullRequestActions, def: []string{},
				doc: "Pull request actions that start a job: false for none, true for opened, synchronize and reopened, or a list."},
		}},
	{name: "generate", kind: kindObject,
		doc: "What the worker writes tests for.", children: []*field{
			{name: "paths", kind: kindStringList, maxLen: 100, item: checkGlob, pattern: globPattern, def: []string{},
				doc: "Globs of changed files to write tests for; empty means every changed file."},
			{name: "exclude", kind: kindStringList, maxLen: 100, item: checkGlob, pattern: globPattern, def: []string{},
				doc: "Globs of changed files never to write tests for."},
			{name: "framework", kind: kindString, maxLen: 64, def: "",
				doc: "Test framework to use (for example \"pytest\" or \"go test\"); empty means detect it."},
			{name: "max_files", kind: kindInt, min: 1, max: 500, def: 20, limitable: true,
				doc: "Most test files one job may write."},
			{name: "instructions", kind: kindString, maxLen: 4000, def: "",
				doc: "Free-text guidance passed to the test writer."},
		}},
	{name: "access", kind: kindObject, protected: true,
		doc: "Who may trigger a job, beyond the server's RBAC. Protected: only the default branch's file or the server sets it.", children: []*field{
			{name: "min_permission", kind: kindString, enum: []string{"read", "triage", "write", "maintain", "admin"}, def: "write",
				doc: "Repository permission that lets a person trigger a job."},
			{name: "allow_users", kind: kindStringList, maxLen: 200, item: matchItem(loginRE, "a GitHub login"), pattern: loginPattern, def: []string{},
				doc: "GitHub logins given the developer role on this repository; bots must be listed here (for example \"renovate[bot]\") to trigger."},
			{name: "allow_teams", kind: kindStringList, maxLen: 100, item: matchItem(teamRE, "a team slug, optionally prefixed with its organization (org/slug)"), pattern: teamPattern, def: []string{},
				doc: "Team slugs (\"slug\" in the repository's organization, or \"org/slug\") whose members get the developer role on this repository."},
		}},
	{name: "budget", kind: kindObject, protected: true,
		doc: "Spending caps. Protected: only the default branch's file or the server sets it.", children: []*field{
			{name: "max_cost_usd_per_job", kind: kindNumber, min: 0, max: 1000, def: 1.0, limitable: true,
				doc: "Most one job may spend, in US dollars."},
			{name: "max_jobs_per_pr_per_day", kind: kindInt, min: 0, max: 1000, def: 10, limitable: true,
				doc: "Most jobs one pull request may start in a UTC day."},
		}},
	{name: "coverage", kind: kindObject,
		doc: "The \"PatchPanda / coverage\" check run.", children: []*field{
			{name: "uploads", kind: kindInt, min: 1, max: 100, def: 1, limitable: true,
				doc: "Coverage reports expected for a commit before it is summarised."},
			{name: "targets", kind: kindObject,
				doc: "Percentages the check run must reach.", children: []*field{
					{name: "project", kind: kindNumber, min: 0, max: 100, nullable: true,
						doc: "Coverage of the whole project, in percent; null for no target."},
					{name: "patch", kind: kindNumber, min: 0, max: 100, nullable: true,
						doc: "Coverage of the lines the pull request changes, in percent; null for no target."},
				}},
			{name: "flags", kind: kindStringList, maxLen: 50, item: matchItem(flagRE, "a flag name of letters, digits, '_', '.' or '-'"), pattern: flagPattern, def: []string{},
				doc: "Coverage flags to summarise; empty means all."},
		}},
	{name: "comments", kind: kindObject,
		doc: "Which comments PatchPanda writes on a pull request.", children: []*field{
			{name: "on_success", kind: kindBool, def: false,
				doc: "Also comment when a job succeeds (the check run always reports it)."},
		}},
}})

// fields maps every key path ("generate", "generate.max_files", ...) to
// its field. It is filled once, from schema.
var fields = map[string]*field{}

func index(root *field) *field {
	var walk func(f *field, prefix string, protected bool)
	walk = func(f *field, prefix string, protected bool) {
		for _, c := range f.children {
			c.path = c.name
			if prefix != "" {
				c.path = prefix + "." + c.name
			}
			c.protected = c.protected || protected
			fields[c.path] = c
			walk(c, c.path, c.protected)
		}
	}
	walk(root, "", false)
	return root
}

// leaves returns the leaf fields in schema order.
func leaves() []*field {
	var out []*field
	var walk func(f *field)
	walk = func(f *field) {
		for _, c := range f.children {
			if c.leaf() {
				out = append(out, c)
			} else {
				walk(c)
			}
		}
	}
	walk(schema)
	return out
}

// KeyPaths returns the dotted path of every key .testbot.yml knows, objects
// and leaves, in schema order.
func KeyPaths() []string {
	var out []string
	var walk func(f *field)
	walk = func(f *field) {
		for _, c := range f.children {
			out = append(out, c.path)
			walk(c)
		}
	}
	walk(schema)
	return out
}

// Protected reports whether the key at path (or a key above it) is
// protected: one that widens who may trigger or what may be spent, and so is
// never taken from a pull request's own change. It returns false for an
// unknown path.
func Protected(path string) bool {
	f := fields[path]
	return f != nil && f.protected
}
