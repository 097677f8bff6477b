package config

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	schemaFile = "../../docs/testbot.schema.json"
	docFile    = "../../docs/testbot-config.md"
)

func TestJSONSchemaFileIsGeneratedFromTheParserSchema(t *testing.T) {
	golden(t, schemaFile, JSONSchema())
}

// TestJSONSchemaPropertiesMatchParserKeys reads the checked-in schema on its
// own terms, so a hand edit that drifts from the parser fails even before
// the golden comparison is looked at.
func TestJSONSchemaPropertiesMatchParserKeys(t *testing.T) {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	if got := root["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	var paths, protected []string
	var walk func(node map[string]any, prefix string)
	walk = func(node map[string]any, prefix string) {
		props, _ := node["properties"].(map[string]any)
		if props == nil {
			return
		}
		if node["additionalProperties"] != false {
			t.Errorf("%q: additionalProperties must be false so unknown keys are rejected", prefix)
		}
		for name, sub := range props {
			p := joinPath(prefix, name)
			paths = append(paths, p)
			m := sub.(map[string]any)
			if m["x-patchpanda-protected"] == true {
				protected = append(protected, p)
			}
			walk(m, p)
		}
	}
	walk(root, "")

	var wantProtected []string
	for _, p := range KeyPaths() {
		if Protected(p) {
			wantProtected = append(wantProtected, p)
		}
	}
	slices.Sort(paths)
	slices.Sort(protected)
	want := slices.Sorted(slices.Values(KeyPaths()))
	slices.Sort(wantProtected)
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("schema key paths (-parser +schema file):\n%s", diff)
	}
	if diff := cmp.Diff(wantProtected, protected); diff != "" {
		t.Errorf("protected key paths (-parser +schema file):\n%s", diff)
	}
}

func TestEveryKeyHasAConfigFieldAndBack(t *testing.T) {
	var c Config
	for _, f := range leaves() {
		if !setPath(reflect.ValueOf(&c).Elem(), strings.Split(f.path, "."), f.def) {
			t.Errorf("Config has no field of the right type for %s (default %#v)", f.path, f.def)
		}
	}
	// Every leaf of Config's JSON form must be a schema leaf.
	var tree map[string]any
	b, _ := json.Marshal(Defaults())
	if err := json.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	var got []string
	var walk func(m map[string]any, prefix string)
	walk = func(m map[string]any, prefix string) {
		for k, v := range m {
			p := joinPath(prefix, k)
			if sub, ok := v.(map[string]any); ok {
				walk(sub, p)
				continue
			}
			got = append(got, p)
		}
	}
	walk(tree, "")
	var want []string
	for _, f := range leaves() {
		want = append(want, f.path)
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Config JSON leaves (-schema +Config):\n%s", diff)
	}
}

func TestDefaultsAreValidValues(t *testing.T) {
	for _, f := range leaves() {
		switch v := f.def.(type) {
		case int:
			if float64(v) < f.min || float64(v) > f.max {
				t.Errorf("%s: default %d outside [%v, %v]", f.path, v, f.min, f.max)
			}
		case float64:
			if v < f.min || v > f.max {
				t.Errorf("%s: default %v outside [%v, %v]", f.path, v, f.min, f.max)
			}
		case string:
			if msg := f.checkString(v); msg != "" && (v != "" || len(f.enum) > 0) {
				t.Errorf("%s: default %q: %s", f.path, v, msg)
			}
		case nil:
			if !f.nullable {
				t.Errorf("%s: nil default on a key that is not nullable", f.path)
			}
		}
	}
}

func TestDocsDescribeEveryKey(t *testing.T) {
	data, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range KeyPaths() {
		if !strings.Contains(string(data), "`"+p+"`") {
			t.Errorf("%s does not mention `%s`", docFile, p)
		}
	}
}

// TestPatternsCompile compiles every pattern the package compiles lazily,
// so that a mistake in one fails here rather than panicking in the first
// relay that reads a config using it.
func TestPatternsCompile(t *testing.T) {
	for name, re := range map[string]func() *regexp.Regexp{
		"login": loginRE, "team": teamRE, "flag": flagRE,
		"rule name": ruleNameRE, "team org/slug": teamOrgRE, "yaml error line": yamlLineRE,
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("pattern does not compile: %v", r)
				}
			}()
			if first := re(); re() != first {
				t.Error("compiled twice: the first *regexp.Regexp is not kept")
			}
		})
	}
}
