package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// UnbindOptions is what `billing unbind` runs with.
type UnbindOptions struct {
	IO      *iostreams.IO
	Client  factory.ClientFunc
	Confirm factory.ConfirmFunc

	ProjectID int64
	Repo      string
}

func newUnbind(f *factory.Factory, runF func(context.Context, *UnbindOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "unbind",
		Usage:     "Unbind a repository from a billing project (its jobs are then limited by no budget)",
		ArgsUsage: "ID OWNER/NAME",
		Flags:     []cli.Flag{factory.YesFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "unbind ID OWNER/NAME"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().Get(0), "project id")
			if err != nil {
				return err
			}
			repo := cmd.Args().Get(1)
			if _, _, err := patchpanda.ParseFullName(repo); err != nil {
				return err
			}
			opts := &UnbindOptions{IO: f.IO, Client: f.ClientFor(cmd), Confirm: f.ConfirmFor(cmd), ProjectID: id, Repo: repo}
			if runF != nil {
				return runF(ctx, opts)
			}
			return unbindRun(ctx, opts)
		},
	}
}

func unbindRun(ctx context.Context, opts *UnbindOptions) error {
	// Unbound repositories run without a budget, so this is not
	// undone by accident.
	if err := opts.Confirm(ctx, fmt.Sprintf("unbind %s from billing project %d", opts.Repo, opts.ProjectID)); err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if err := c.UnbindRepository(ctx, opts.ProjectID, opts.Repo); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Unbound %s from billing project %d\n", opts.Repo, opts.ProjectID)
	return nil
}
