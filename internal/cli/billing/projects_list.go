package billing

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ProjectsListOptions is what `billing projects list` runs with.
type ProjectsListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
}

func newProjectsList(f *factory.Factory, runF func(context.Context, *ProjectsListOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List billing projects with this month's spending",
		Flags: factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 0, "projects list"); err != nil {
				return err
			}
			opts := &ProjectsListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd)}
			if runF != nil {
				return runF(ctx, opts)
			}
			return projectsListRun(ctx, opts)
		},
	}
}

func projectsListRun(ctx context.Context, opts *ProjectsListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ps, err := c.BillingProjects(ctx)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(ps)
	}
	return printProjects(opts.IO, ps)
}
