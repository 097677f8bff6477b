package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, glob string, extra ...string) {
	files, _ := filepath.Glob(glob)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzParseRepoConfig checks that no input panics, that failures always
// carry a position, and that whatever parses also merges and serialises.
func FuzzParseRepoConfig(f *testing.F) {
	addSeeds(f, "testdata/repo/*.yml",
		"", "~", "a: [\n", "generate: &g {max_files: 3}\ncoverage: *g\n", "{<<: {a: 1}}",
		"triggers: {pull_request: true}", "coverage: {targets: {patch: .inf}}", "version: 0x1",
		"generate:\n  paths: [&a x, *a]\n", "!!binary YQ==", "? [a]\n: 1\n")
	server, err := ParseServer("server.yml", []byte(effectiveServer))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseRepoConfig(".testbot.yml", data)
		if err != nil {
			checkProblems(t, err, data)
			return
		}
		cfg, vs := Effective(nil, c, c, "acme/strict")
		if len(vs) != 0 {
			t.Fatalf("the same file as base and head gave violations: %v", vs)
		}
		if _, err := json.Marshal(cfg); err != nil {
			t.Fatal(err)
		}
		for _, v := range func() []Violation { _, vs := Effective(server, nil, c, "acme/cheap"); return vs }() {
			if v.Line < 1 || v.Column < 1 || v.Path == "" || v.Rule == "" {
				t.Fatalf("violation without a position, path or rule: %+v", v)
			}
		}
	})
}

// FuzzParseServer checks that no server config input panics.
func FuzzParseServer(f *testing.F) {
	addSeeds(f, "testdata/repo/*.yml", fullServer, effectiveServer, "rules: [*x]", "rbac: {rules: [{}]}")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseServer("server.yml", data)
		if err != nil {
			checkProblems(t, err, data)
			return
		}
		_, _ = Effective(s, nil, nil, "acme/api")
	})
}

// checkProblems fails t unless err is a non-empty ValidationErrors whose
// every problem has a position and a message without a fmt error (%!),
// unless the input itself holds "%!" for a message to quote.
func checkProblems(t *testing.T, err error, input []byte) {
	t.Helper()
	errs, ok := err.(ValidationErrors)
	if !ok || len(errs) == 0 {
		t.Fatalf("error %T %v is not a non-empty ValidationErrors", err, err)
	}
	for _, e := range errs {
		if e.Line < 1 || e.Column < 1 || e.Message == "" || strings.Contains(e.Message, "%!") && !bytes.Contains(input, []byte("%!")) {
			t.Fatalf("bad problem: %+v", e)
		}
	}
}
