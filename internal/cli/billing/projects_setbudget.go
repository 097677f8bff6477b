package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newProjectsSetBudget(f *factory.Factory) *cli.Command {
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
			a := httpapi.Amount(usd)
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			p, err := c.UpdateBillingProject(ctx, id, httpapi.UpdateBillingProjectRequest{BudgetUSD: &a})
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, p)
			}
			fmt.Fprintf(f.IO.Out, "Billing project %d %q now has %s (spent %s USD in %s)\n", p.ID, p.Name, budgetSentence(p), p.SpentUSD, p.Month)
			return nil
		},
	}
}
