package arch

// The rules of docs/architecture.md ("Layering"), checked over
// `go list -deps -json` of the whole module. A rule today's code breaks is
// a named exception in the exceptions table below, with its reason; an
// exception that no longer applies fails the test too, so the table only
// ever shrinks.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/patchpanda/patchpanda"

// services decide and record; they reach HTTP only through the interfaces
// httpapi declares, so they never import httpapi. The request and response
// types they share with it live with the domain (internal/patchpanda,
// internal/coverage), which both sides import.
var services = []string{
	"internal/dispatch",
	"internal/jobs",
	"internal/feedback",
	"internal/coveragesvc",
	"internal/billing",
	"internal/intake",
	"internal/outbox",
	"internal/audit",
	"internal/keys",
}

// adapters each face one outside system (the database, a queue backend,
// GitHub, HTTP clients); internal/relay wires them, so they never import
// each other.
var adapters = []string{
	"internal/store",
	"internal/httpapi",
	"internal/queue/redisqueue",
	"internal/queue/sqsqueue",
	"internal/queue/dbqueue",
	"internal/githubapp",
}

// stdlibOnly packages import the standard library and nothing else (not
// even other packages of this module).
var stdlibOnly = []string{
	"internal/patchpanda",
	"internal/coverage",
	"internal/spelling",
}

// notLinked: the command (key) must not link the package (value). ppctl
// stays pure Go and small: no database driver in it.
var notLinked = map[string][]string{
	"cmd/ppctl": {"internal/store"},
}

// exceptions are today's known breaches: "from -> to" (paths relative to
// the module) with the reason. Remove a row when the code is fixed; the
// test fails while a row names an arrow that no longer exists.
var exceptions = map[string]string{
	"internal/queue/dbqueue -> internal/store": "by design: dbqueue keeps each message on its job's row in the relay's own database, through store's queries (docs/queue.md)",
}

type pkg struct {
	ImportPath string
	Standard   bool
	Deps       []string
	Error      *struct{ Err string }
}

// load runs go list -deps -json over the module and returns every package
// it names (the module's and the standard library's) by import path.
func load(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -json %s/...: %v\n%s", module, err, stderr.Bytes())
	}
	pkgs := make(map[string]*pkg)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// get returns the module's package name (a module-relative path).
func get(t *testing.T, pkgs map[string]*pkg, name string) *pkg {
	t.Helper()
	p, ok := pkgs[module+"/"+name]
	if !ok {
		t.Fatalf("%s is not a package of the module any more: update the layering tables in %s", name, "internal/arch/arch_test.go")
	}
	return p
}

func dependsOn(p *pkg, to string) bool {
	for _, d := range p.Deps {
		if d == module+"/"+to {
			return true
		}
	}
	return false
}

func TestLayering(t *testing.T) {
	pkgs := load(t)
	used := make(map[string]bool)
	// check reports the arrow from -> to unless it is a listed exception.
	check := func(rule, from, to string) {
		t.Helper()
		if !dependsOn(get(t, pkgs, from), to) {
			return
		}
		key := from + " -> " + to
		if _, ok := exceptions[key]; ok {
			used[key] = true
			return
		}
		t.Errorf("%s: %s imports %s (directly or through another package); see docs/architecture.md", rule, from, to)
	}

	for _, s := range services {
		check("services never import httpapi", s, "internal/httpapi")
	}
	for _, a := range adapters {
		for _, b := range adapters {
			if a != b {
				check("adapters never import each other", a, b)
			}
		}
	}
	for cmd, banned := range notLinked {
		for _, b := range banned {
			check(cmd+" must not link "+b, cmd, b)
		}
	}
	for _, name := range stdlibOnly {
		var bad []string
		for _, d := range get(t, pkgs, name).Deps {
			if dp, ok := pkgs[d]; !ok || !dp.Standard {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s imports only the standard library, but depends on %s", name, strings.Join(bad, ", "))
		}
	}

	var stale []string
	for key := range exceptions {
		if !used[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	for _, key := range stale {
		t.Errorf("exception %q no longer applies (or no rule checks it): remove it from the table", key)
	}
}

// TestExceptionsAreExplained keeps every exception's reason a sentence.
func TestExceptionsAreExplained(t *testing.T) {
	for key, why := range exceptions {
		if strings.TrimSpace(why) == "" {
			t.Errorf("exception %q has no reason", key)
		}
		if f := strings.Fields(key); len(f) != 3 || f[1] != "->" {
			t.Errorf("exception %q: want \"from -> to\"", key)
		}
	}
}
