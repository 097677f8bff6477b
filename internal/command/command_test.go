package command_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/command"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestParseFindsCommands(t *testing.T) {
	tests := []struct {
		name string
		body string
		want command.Command
	}{
		{"generate alone", "/patchpanda generate", command.Command{Name: command.Generate, Line: 1}},
		{
			"generate with paths",
			"/patchpanda generate internal/money cmd/relay",
			command.Command{Name: command.Generate, Paths: []string{"internal/money", "cmd/relay"}, Line: 1},
		},
		{
			"a quoted path with spaces, double and single",
			`/patchpanda generate "docs/user guide" 'it''s/x' "say \"hi\"\\"`,
			command.Command{Name: command.Generate, Paths: []string{"docs/user guide", "its/x", `say "hi"\`}, Line: 1},
		},
		{
			"curly quotes from a phone keyboard",
			"/patchpanda generate “docs/user guide” ‘a b’",
			command.Command{Name: command.Generate, Paths: []string{"docs/user guide", "a b"}, Line: 1},
		},
		{
			"--framework NAME",
			"/patchpanda generate pkg --framework Testify",
			command.Command{Name: command.Generate, Paths: []string{"pkg"}, Framework: "Testify", Line: 1},
		},
		{
			"--framework=NAME before paths",
			"/patchpanda generate --framework=pytest src/a.py",
			command.Command{Name: command.Generate, Paths: []string{"src/a.py"}, Framework: "pytest", Line: 1},
		},
		{
			"-- ends the flags so a path may start with a dash",
			"/patchpanda generate --framework jest -- -weird/dir",
			command.Command{Name: command.Generate, Paths: []string{"-weird/dir"}, Framework: "jest", Line: 1},
		},
		{"help", "/patchpanda help", command.Command{Name: command.Help, Line: 1}},
		{"cancel", "/patchpanda cancel", command.Command{Name: command.Cancel, Line: 1}},
		{"retry", "/patchpanda retry", command.Command{Name: command.Retry, Line: 1}},
		{"a bare keyword asks for help", "/patchpanda", command.Command{Name: command.Help, Line: 1}},
		{"--help on a command asks for help", "/patchpanda generate --help", command.Command{Name: command.Help, Line: 1}},
		{"-h in place of a command asks for help", "/patchpanda -h", command.Command{Name: command.Help, Line: 1}},
		{
			"keyword and command ignore case but arguments keep it",
			"/PatchPanda GENERATE Src/Main.java --framework JUnit5",
			command.Command{Name: command.Generate, Paths: []string{"Src/Main.java"}, Framework: "JUnit5", Line: 1},
		},
		{"leading spaces up to three", "   /patchpanda retry", command.Command{Name: command.Retry, Line: 1}},
		{"trailing spaces and CRLF", "/patchpanda  cancel  \r\nthanks", command.Command{Name: command.Cancel, Line: 1}},
		{"tabs and non-breaking spaces separate words", "/patchpanda\tgenerate\u00a0a", command.Command{Name: command.Generate, Paths: []string{"a"}, Line: 1}},
		{
			"after prose, on its own line",
			"Nice work!\n\n/patchpanda generate pkg/x\n",
			command.Command{Name: command.Generate, Paths: []string{"pkg/x"}, Line: 3},
		},
		{
			"the first command wins",
			"/patchpanda retry\n/patchpanda cancel",
			command.Command{Name: command.Retry, Line: 1},
		},
		{
			"the first command wins even when malformed",
			"/patchpanda generate --frobnicate\n/patchpanda generate",
			command.Command{Name: command.Generate, Line: 1, Err: `unknown flag "--frobnicate" for generate (known flags: --framework)`},
		},
		{
			"after a closed code fence",
			"```\n/patchpanda cancel\n```\n/patchpanda retry",
			command.Command{Name: command.Retry, Line: 4},
		},
		{
			"after a closed tilde fence",
			"~~~~ text\n/patchpanda cancel\n~~~\n~~~~\n/patchpanda retry",
			command.Command{Name: command.Retry, Line: 5},
		},
		{
			"after a quote",
			"> /patchpanda cancel\n\n/patchpanda retry",
			command.Command{Name: command.Retry, Line: 3},
		},
		{
			"after a multi-line HTML comment",
			"<!--\n/patchpanda cancel\n-->\n/patchpanda retry",
			command.Command{Name: command.Retry, Line: 4},
		},
		{
			"with an inline HTML comment removed",
			"/patchpanda generate a <!-- not b --> c",
			command.Command{Name: command.Generate, Paths: []string{"a", "c"}, Line: 1},
		},
		{
			"inline code on one line is not a fence",
			"```/patchpanda cancel```\n/patchpanda retry",
			command.Command{Name: command.Retry, Line: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := command.Parse(tt.body)
			if !ok {
				t.Fatalf("Parse(%q) found no command", tt.body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestParseFindsNoCommand(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"an empty comment", ""},
		{"prose", "LGTM, ship it"},
		{"the keyword mid-line", "please run /patchpanda generate"},
		{"the keyword in inline code", "try `/patchpanda generate`"},
		{"a longer word", "/patchpandas generate"},
		{"the keyword with punctuation", "/patchpanda: generate"},
		{"a list item", "- /patchpanda generate"},
		{"a backtick fence", "```\n/patchpanda generate\n```"},
		{"a backtick fence with an info string", "```sh\n/patchpanda generate\n```"},
		{"a tilde fence", "~~~\n/patchpanda generate\n~~~"},
		{"an unclosed fence", "```\n/patchpanda generate"},
		{"a fence closed only by a longer fence of the same kind", "````\n```\n/patchpanda generate\n````"},
		{"a tilde fence not closed by backticks", "~~~\n```\n/patchpanda generate"},
		{"an indented fence", "  ```\n  /patchpanda generate\n  ```"},
		{"an indented code block", "    /patchpanda generate"},
		{"a tab-indented code block", "\t/patchpanda generate"},
		{"a quote", "> /patchpanda generate"},
		{"an indented quote", "  > /patchpanda generate"},
		{"a nested quote", ">> /patchpanda generate"},
		{"an HTML comment on one line", "<!-- /patchpanda generate -->"},
		{"a multi-line HTML comment", "<!--\n/patchpanda generate\n-->"},
		{"an HTML comment opened mid-line", "note <!-- hidden\n/patchpanda generate\n-->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := command.Parse(tt.body); ok {
				t.Errorf("Parse(%q) = %+v, true; want no command", tt.body, got)
			}
		})
	}
}

func TestParseReportsMistakes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want command.Command
	}{
		{
			"an unknown command with a suggestion",
			"/patchpanda generte",
			command.Command{Unknown: "generte", Suggestion: command.Generate, Line: 1, Err: `unknown command "generte"; did you mean "generate"?`},
		},
		{
			"swapped letters count as one edit",
			"/patchpanda rtery",
			command.Command{Unknown: "rtery", Suggestion: command.Retry, Line: 1, Err: `unknown command "rtery"; did you mean "retry"?`},
		},
		{
			"a prefix suggests the whole word, keeping the case typed",
			"/patchpanda Gen",
			command.Command{Unknown: "Gen", Suggestion: command.Generate, Line: 1, Err: `unknown command "Gen"; did you mean "generate"?`},
		},
		{
			"an unknown command with nothing close",
			"/patchpanda deploy",
			command.Command{Unknown: "deploy", Line: 1, Err: `unknown command "deploy"`},
		},
		{
			"a long unknown word is clipped",
			"/patchpanda " + strings.Repeat("x", 100),
			command.Command{Unknown: strings.Repeat("x", 64) + "…", Line: 1, Err: `unknown command "` + strings.Repeat("x", 64) + `…"`},
		},
		{
			"a misspelt flag with a suggestion",
			"/patchpanda generate --framwork jest",
			command.Command{Name: command.Generate, Line: 1, Err: `unknown flag "--framwork" for generate; did you mean "--framework"?`},
		},
		{
			"a misspelt flag with a value attached",
			"/patchpanda generate --framewrok=jest",
			command.Command{Name: command.Generate, Line: 1, Err: `unknown flag "--framewrok" for generate; did you mean "--framework"?`},
		},
		{
			"a short flag",
			"/patchpanda generate -f jest",
			command.Command{Name: command.Generate, Line: 1, Err: `unknown flag "-f" for generate (known flags: --framework)`},
		},
		{
			"--framework without a value at the end",
			"/patchpanda generate --framework",
			command.Command{Name: command.Generate, Line: 1, Err: "--framework needs a value, as in --framework NAME"},
		},
		{
			"--framework followed by another flag",
			"/patchpanda generate --framework --help",
			command.Command{Name: command.Generate, Line: 1, Err: "--framework needs a value, as in --framework NAME"},
		},
		{
			"an empty --framework=",
			"/patchpanda generate --framework=",
			command.Command{Name: command.Generate, Line: 1, Err: "--framework needs a value, as in --framework NAME"},
		},
		{
			"--framework twice",
			"/patchpanda generate --framework a --framework=b",
			command.Command{Name: command.Generate, Line: 1, Err: "--framework is given more than once"},
		},
		{
			"an unterminated quote",
			`/patchpanda generate "docs/user guide`,
			command.Command{Line: 1, Err: `a quote (") is not closed`},
		},
		{
			"an absolute path",
			"/patchpanda generate /etc/passwd",
			command.Command{Name: command.Generate, Line: 1, Err: `path "/etc/passwd" must be relative to the repository root`},
		},
		{
			"a path leaving the repository",
			"/patchpanda generate src/../../secrets",
			command.Command{Name: command.Generate, Line: 1, Err: `path "src/../../secrets" leaves the repository`},
		},
		{
			"an empty quoted path",
			`/patchpanda generate ""`,
			command.Command{Name: command.Generate, Line: 1, Err: "a path is empty"},
		},
		{
			"too many paths",
			"/patchpanda generate" + strings.Repeat(" p", command.MaxPaths+1),
			command.Command{Name: command.Generate, Line: 1, Err: "generate takes at most 50 paths"},
		},
		{
			"arguments to cancel",
			"/patchpanda cancel now",
			command.Command{Name: command.Cancel, Line: 1, Err: `cancel takes no arguments, got "now"`},
		},
		{
			"a flag to retry",
			"/patchpanda retry --framework jest",
			command.Command{Name: command.Retry, Line: 1, Err: `unknown flag "--framework" for retry (retry takes no flags)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := command.Parse(tt.body)
			if !ok {
				t.Fatalf("Parse(%q) found no command", tt.body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestCommandString(t *testing.T) {
	tests := []struct {
		name string
		cmd  command.Command
		want string
	}{
		{"a plain command", command.Command{Name: command.Retry}, "/patchpanda retry"},
		{
			"generate quotes what needs quoting",
			command.Command{Name: command.Generate, Paths: []string{"a", "docs/user guide", "it's"}, Framework: "jest"},
			`/patchpanda generate --framework jest a 'docs/user guide' "it's"`,
		},
		{
			"a path starting with a dash comes after --",
			command.Command{Name: command.Generate, Paths: []string{"-x"}},
			"/patchpanda generate -- -x",
		},
		{"an unknown command", command.Command{Unknown: "generte"}, "/patchpanda generte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmd.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, ok := command.Parse(tt.want)
			back.Line = 0
			if tt.cmd.Unknown != "" {
				back.Suggestion, back.Err = "", ""
			}
			if !ok {
				t.Fatalf("Parse(String()) found no command")
			}
			if diff := cmp.Diff(tt.cmd, back); diff != "" {
				t.Errorf("Parse(String()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelpTextMatchesGolden(t *testing.T) {
	const golden = "testdata/help.md"
	got := command.HelpText()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("HelpText mismatch (-want +got):\n%s", diff)
	}
}

func TestHelpTextNamesEveryCommand(t *testing.T) {
	for _, n := range command.Names() {
		if !strings.Contains(command.HelpText(), "`/patchpanda "+string(n)) {
			t.Errorf("HelpText does not show %q", n)
		}
	}
}

// The help text's own examples must not run when PatchPanda replies with it:
// its comment is not a command.
func TestHelpTextHoldsNoCommand(t *testing.T) {
	if c, ok := command.Parse(command.HelpText()); ok {
		t.Errorf("Parse(HelpText()) = %+v, want no command", c)
	}
}
