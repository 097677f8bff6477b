// Package tui is `ppctl tui`: the terminal UI for jobs, API keys and
// billing projects. The UI itself lives in internal/tui; this package only
// checks for a terminal and wires the relay client in.
package tui

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	termui "github.com/patchpanda/patchpanda/internal/tui"
)

// New returns the `tui` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "tui",
		Usage: "Browse jobs, API keys and billing projects in a terminal UI",
		Description: "Tabs for jobs (enter: details, r: replay), API keys (n: create, x: revoke) and\n" +
			"billing projects. Needs a terminal; scripts use the other commands with --json.",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if !f.IO.OutTTY || !f.IO.InTTY {
				return patchpanda.Errorf(patchpanda.EINVALID, "ppctl tui needs a terminal, and stdin or stdout is not one; in scripts use `ppctl jobs`, `ppctl keys` and `ppctl billing` with --json")
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			return termui.Run(ctx, c, f.IO.In, f.IO.Raw(), termui.Options{Relay: c.BaseURL})
		},
	}
}
