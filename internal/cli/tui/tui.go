// Package tui is `ppctl tui`: the terminal UI for jobs, API keys and
// billing projects. The UI itself lives in internal/tui; this package only
// checks for a terminal and wires the relay client in.
package tui

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	termui "github.com/patchpanda/patchpanda/internal/tui"
)

// Options is what `tui` runs with. It takes no flags of its own.
type Options struct {
	IO     *iostreams.IO
	Client factory.ClientFunc
}

// New returns the `tui` command.
func New(f *factory.Factory) *cli.Command { return newTUI(f, nil) }

func newTUI(f *factory.Factory, runF func(context.Context, *Options) error) *cli.Command {
	return &cli.Command{
		Name:  "tui",
		Usage: "Browse jobs, API keys and billing projects in a terminal UI",
		Description: "Tabs for jobs (enter: details, r: replay), API keys (n: create, x: revoke) and\n" +
			"billing projects. Needs a terminal; scripts use the other commands with --json.",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &Options{IO: f.IO, Client: f.ClientFor(cmd)}
			if runF != nil {
				return runF(ctx, opts)
			}
			return run(ctx, opts)
		},
	}
}

func run(ctx context.Context, opts *Options) error {
	if !opts.IO.OutTTY || !opts.IO.InTTY {
		return patchpanda.Errorf(patchpanda.EINVALID, "ppctl tui needs a terminal, and stdin or stdout is not one; in scripts use `ppctl jobs`, `ppctl keys` and `ppctl billing` with --json")
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return termui.Run(ctx, c, opts.IO.In, opts.IO.Raw(), termui.Options{Relay: c.BaseURL})
}
