package billing

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newProjectsList(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List billing projects with this month's spending",
		Flags: factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 0, "projects list"); err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			ps, err := c.BillingProjects(ctx)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, ps)
			}
			return printProjects(f, ps)
		},
	}
}
