package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
)

func newProjectsRename(f *factory.Factory) *cli.Command {
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
			name := cmd.Args().Get(1)
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			p, err := c.UpdateBillingProject(ctx, id, httpapi.UpdateBillingProjectRequest{Name: &name})
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, p)
			}
			fmt.Fprintf(f.IO.Out, "Renamed billing project %d to %q\n", p.ID, p.Name)
			return nil
		},
	}
}
