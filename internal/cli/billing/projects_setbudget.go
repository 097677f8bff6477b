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

// ProjectsSetBudgetOptions is what `billing projects set-budget` runs
// with.
type ProjectsSetBudgetOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
	// BudgetUSD is the new monthly budget; "0" is none.
	BudgetUSD httpapi.Amount
}

func newProjectsSetBudget(f *factory.Factory, runF func(context.Context, *ProjectsSetBudgetOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "set-budget",
		Usage:     "Set a project's monthly budget in USD (0 or none: no budget)",
		ArgsUsage: "ID USD",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "projects set-budget ID USD"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().Get(0), "project id")
			if err != nil {
				return err
			}
			usd := cmd.Args().Get(1)
			if usd == "none" {
				usd = "0"
			}
			if _, err := patchpanda.ParseUSD(usd); err != nil {
				return err
			}
			opts := &ProjectsSetBudgetOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ProjectID: id, BudgetUSD: httpapi.Amount(usd)}
			if runF != nil {
				return runF(ctx, opts)
			}
			return projectsSetBudgetRun(ctx, opts)
		},
	}
}

func projectsSetBudgetRun(ctx context.Context, opts *ProjectsSetBudgetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	a := opts.BudgetUSD
	p, err := c.UpdateBillingProject(ctx, opts.ProjectID, httpapi.UpdateBillingProjectRequest{BudgetUSD: &a})
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(p)
	}
	fmt.Fprintf(opts.IO.Out, "Billing project %d %q now has %s (spent %s USD in %s)\n", p.ID, p.Name, budgetSentence(p), p.SpentUSD, p.Month)
	return nil
}
