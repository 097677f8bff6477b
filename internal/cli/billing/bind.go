package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// BindOptions is what `billing bind` runs with.
type BindOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
	Repo      string
}

func newBind(f *factory.Factory, runF func(context.Context, *BindOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "bind",
		Usage:     "Bind a repository to a billing project: its jobs are paid by it and limited by its budget",
		ArgsUsage: "ID OWNER/NAME",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "bind ID OWNER/NAME"); err != nil {
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
			opts := &BindOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ProjectID: id, Repo: repo}
			if runF != nil {
				return runF(ctx, opts)
			}
			return bindRun(ctx, opts)
		},
	}
}

func bindRun(ctx context.Context, opts *BindOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	b, err := c.BindRepository(ctx, opts.ProjectID, opts.Repo)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(b)
	}
	fmt.Fprintf(opts.IO.Out, "Bound %s to billing project %d\n", b.Repository, b.ProjectID)
	return nil
}
