// Package factory carries what every ppctl command needs — its streams,
// the relay client and the output options — so commands receive them
// instead of reaching for globals.
package factory

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Credential kinds, as Target.Kind names them.
const (
	NoCredential = "none"
	APIKey       = "API key"
	GitHubToken  = "GitHub token"
	OtherToken   = "token"
)

// Target is the relay a command talks to and the credential it sends.
type Target struct {
	Relay       string
	RelaySource string // where Relay came from, for messages
	// Token is the credential; never print it.
	Token       string
	TokenSource string
	// Kind is one of NoCredential, APIKey, GitHubToken, OtherToken.
	Kind string
}

// Factory is handed to each command's constructor.
type Factory struct {
	IO *iostreams.IO
	// Resolve returns the relay and the credential configured by the
	// global flags, the environment and the stored login, without
	// contacting the relay.
	Resolve func(cmd *cli.Command) (Target, error)
	// Program is how the user runs ppctl: "ppctl" or "gh patchpanda".
	Program string
	// Client returns a client of the relay configured from the global flags.
	Client func(cmd *cli.Command) (*httpapi.Client, error)
	// DefaultRepo returns the repository of the current directory when ppctl
	// runs as a gh extension or in GitHub Actions, or "".
	DefaultRepo func() string
	Version     string
}

// JSONFlags are --json, --jq and --template, added to every command
// that prints data, as gh has them.
func JSONFlags() []cli.Flag {
	return []cli.Flag{
		&cli.GenericFlag{Name: "json", Value: &jsonFields{}, Usage: "print JSON; `FIELDS` (comma-separated) picks top-level fields; alone on a terminal, lists them"},
		&cli.StringFlag{Name: "jq", Aliases: []string{"q"}, Usage: "filter JSON output with a jq `EXPRESSION` (implies --json)"},
		&cli.StringFlag{Name: "template", Aliases: []string{"t"}, Usage: "format JSON output with a Go `TEMPLATE`, as gh's --template (implies --json)"},
	}
}

// jsonFields is --json's value. The flag reads as a boolean, so that
// `--json` alone needs no value; a value comes with `--json=a,b`, or with
// `--json a,b` once Main has joined the two (see JoinJSONValue).
type jsonFields struct {
	set    bool
	fields []string
}

func (j *jsonFields) IsBoolFlag() bool { return true }
func (j *jsonFields) String() string   { return strings.Join(j.fields, ",") }
func (j *jsonFields) Get() any         { return j.fields }

func (j *jsonFields) Set(s string) error {
	j.set = true
	if s == "true" || s == "" {
		j.fields = nil
		return nil
	}
	if s == "false" {
		j.set = false
		return nil
	}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			j.fields = append(j.fields, f)
		}
	}
	return nil
}

// isFieldList reports whether s looks like a --json value: lower-case
// names (letters and _) joined by commas. Main uses it to tell
// `--json id,state` from `--json FILE`. Checked by hand rather than by a
// regular expression compiled at start-up, which every command would pay
// for.
func isFieldList(s string) bool {
	for _, name := range strings.Split(s, ",") {
		if name == "" {
			return false
		}
		for _, r := range name {
			if (r < 'a' || r > 'z') && r != '_' {
				return false
			}
		}
	}
	return true
}

// JoinJSONValue rewrites args so that `--json a,b` reads as `--json=a,b`:
// the flag is boolean to the parser, so a value given as the next word
// must be attached. Only a word that looks like a field list is taken; a
// path or an id stays an argument.
func JoinJSONValue(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			return append(out, args[i:]...)
		}
		if args[i] == "--json" && i+1 < len(args) && isFieldList(args[i+1]) {
			out = append(out, "--json="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// WantsJSON reports whether the command was asked for JSON.
func WantsJSON(cmd *cli.Command) bool {
	return cmd.IsSet("json") || cmd.String("jq") != "" || cmd.String("template") != ""
}

// PrintJSON prints v as the command's --json, --jq and --template ask.
// `--json` alone on a terminal lists v's fields instead, as gh does, and
// returns an EINVALID error; piped, it prints every field, as ppctl always
// did, so that scripts keep working.
func (f *Factory) PrintJSON(cmd *cli.Command, v any) error {
	var e iostreams.Export
	if j, ok := cmd.Value("json").([]string); ok {
		e.Fields = j
	}
	e.JQ, e.Template = cmd.String("jq"), cmd.String("template")
	if e.JQ != "" && e.Template != "" {
		return patchpanda.Errorf(patchpanda.EINVALID, "--jq and --template cannot be used together")
	}
	if cmd.IsSet("json") && len(e.Fields) == 0 && e.JQ == "" && e.Template == "" && f.IO.OutTTY {
		if fields := iostreams.Fields(v); len(fields) > 0 {
			fmt.Fprintf(f.IO.ErrOut, "Specify one or more comma-separated fields for --json:\n  %s\n", strings.Join(fields, "\n  "))
			return patchpanda.Errorf(patchpanda.EINVALID, "--json needs fields on a terminal (or pipe the output for every field)")
		}
	}
	if err := f.IO.PrintJSON(v, e); err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "%v", err)
	}
	return nil
}

// ConfirmDestructive asks before a destructive action on a terminal; off a
// terminal it requires --yes. It returns a cancelled error when refused.
func (f *Factory) ConfirmDestructive(ctx context.Context, cmd *cli.Command, question string) error {
	if cmd.Bool("yes") {
		return nil
	}
	if !f.IO.CanPrompt() {
		return patchpanda.Errorf(patchpanda.EINVALID, "refusing to %s without --yes when not on a terminal", question)
	}
	ok, err := f.IO.Confirm(question + "?")
	if err != nil {
		return err
	}
	if !ok {
		return context.Canceled
	}
	return nil
}

// YesFlag is --yes, for destructive commands.
func YesFlag() cli.Flag {
	return &cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"}
}
