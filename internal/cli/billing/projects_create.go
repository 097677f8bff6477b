package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newProjectsCreate(f *factory.Factory) *cli.Command {
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
			req := httpapi.CreateBillingProjectRequest{Name: cmd.Args().First()}
			if cmd.IsSet("budget") {
				if _, err := patchpanda.ParseUSD(cmd.String("budget")); err != nil {
					return err
				}
				a := httpapi.Amount(cmd.String("budget"))
				req.BudgetUSD = &a
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			p, err := c.CreateBillingProject(ctx, req)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, p)
			}
			fmt.Fprintf(f.IO.Out, "Created billing project %d %q with %s\n", p.ID, p.Name, budgetSentence(p))
			return nil
		},
	}
}

func budgetSentence(p httpapi.BillingProject) string {
	if p.BudgetUSD == nil {
		return "no monthly budget"
	}
	return "a monthly budget of " + *p.BudgetUSD + " USD"
}
