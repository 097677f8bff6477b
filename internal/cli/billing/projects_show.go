package billing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ProjectsShowOptions is what `billing projects show` runs with.
type ProjectsShowOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
}

func newProjectsShow(f *factory.Factory, runF func(context.Context, *ProjectsShowOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "Show a billing project: budget, this month's spending and repositories",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "projects show ID"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().First(), "project id")
			if err != nil {
				return err
			}
			opts := &ProjectsShowOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ProjectID: id}
			if runF != nil {
				return runF(ctx, opts)
			}
			return projectsShowRun(ctx, opts)
		},
	}
}

func projectsShowRun(ctx context.Context, opts *ProjectsShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	p, err := c.BillingProject(ctx, opts.ProjectID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(p)
	}
	repos := strings.Join(p.Repositories, ", ")
	if repos == "" {
		repos = "none"
	}
	tp := opts.IO.Table("FIELD", "VALUE")
	for _, row := range [][2]string{
		{"id", strconv.FormatInt(p.ID, 10)},
		{"name", p.Name},
		{"budget_usd", budgetText(p)},
		{"spent_usd", p.SpentUSD},
		{"month", p.Month},
		{"state", stateText(p)},
		{"repositories", repos},
		{"created_at", p.CreatedAt.Format(time.RFC3339)},
	} {
		tp.AddField(row[0])
		tp.AddField(row[1])
		tp.EndRow()
	}
	return tp.Render()
}
