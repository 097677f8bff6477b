package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ProjectsCreateOptions is what `billing projects create` runs with.
type ProjectsCreateOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	Request httpapi.CreateBillingProjectRequest
}

func newProjectsCreate(f *factory.Factory, runF func(context.Context, *ProjectsCreateOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a billing project",
		ArgsUsage: "NAME",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "budget", Usage: "monthly budget in `USD`, like 250 or 99.50 (default: no budget)"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "projects create NAME [--budget USD]"); err != nil {
				return err
			}
			opts := &ProjectsCreateOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd),
				Request: httpapi.CreateBillingProjectRequest{Name: cmd.Args().First()}}
			if cmd.IsSet("budget") {
				if _, err := patchpanda.ParseUSD(cmd.String("budget")); err != nil {
					return err
				}
				a := httpapi.Amount(cmd.String("budget"))
				opts.Request.BudgetUSD = &a
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return projectsCreateRun(ctx, opts)
		},
	}
}

func projectsCreateRun(ctx context.Context, opts *ProjectsCreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	p, err := c.CreateBillingProject(ctx, opts.Request)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(p)
	}
	fmt.Fprintf(opts.IO.Out, "Created billing project %d %q with %s\n", p.ID, p.Name, budgetSentence(p))
	return nil
}

func budgetSentence(p httpapi.BillingProject) string {
	if p.BudgetUSD == nil {
		return "no monthly budget"
	}
	return "a monthly budget of " + *p.BudgetUSD + " USD"
}
