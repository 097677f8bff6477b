package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ProjectsRenameOptions is what `billing projects rename` runs with.
type ProjectsRenameOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
	Name      string
}

func newProjectsRename(f *factory.Factory, runF func(context.Context, *ProjectsRenameOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "Rename a billing project (its jobs and spending follow it)",
		ArgsUsage: "ID NAME",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "projects rename ID NAME"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().Get(0), "project id")
			if err != nil {
				return err
			}
			opts := &ProjectsRenameOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ProjectID: id, Name: cmd.Args().Get(1)}
			if runF != nil {
				return runF(ctx, opts)
			}
			return projectsRenameRun(ctx, opts)
		},
	}
}

func projectsRenameRun(ctx context.Context, opts *ProjectsRenameOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	p, err := c.UpdateBillingProject(ctx, opts.ProjectID, httpapi.UpdateBillingProjectRequest{Name: &opts.Name})
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(p)
	}
	fmt.Fprintf(opts.IO.Out, "Renamed billing project %d to %q\n", p.ID, p.Name)
	return nil
}
