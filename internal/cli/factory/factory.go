// Package factory carries what every ppctl command needs — its streams,
// the relay client and the output options — so commands receive them
// instead of reaching for globals.
package factory

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Factory is handed to each command's constructor.
type Factory struct {
	IO *iostreams.IO
	// Client returns a client of the relay configured from the global flags.
	Client func(cmd *cli.Command) (*httpapi.Client, error)
	// DefaultRepo returns the repository of the current directory when ppctl
	// runs as a gh extension or in GitHub Actions, or "".
	DefaultRepo func() string
	Version     string
}

// JSONFlags are --json and --jq, added to every command that prints data.
func JSONFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
		&cli.StringFlag{Name: "jq", Aliases: []string{"q"}, Usage: "filter JSON output with a jq `EXPRESSION` (implies --json)"},
	}
}

// WantsJSON reports whether the command was asked for JSON.
func WantsJSON(cmd *cli.Command) bool { return cmd.Bool("json") || cmd.String("jq") != "" }

// PrintJSON prints v as JSON through the command's --jq filter.
func (f *Factory) PrintJSON(cmd *cli.Command, v any) error {
	return f.IO.JSON(v, cmd.String("jq"))
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
