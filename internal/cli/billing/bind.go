package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newBind(f *factory.Factory) *cli.Command {
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
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			b, err := c.BindRepository(ctx, id, repo)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, b)
			}
			fmt.Fprintf(f.IO.Out, "Bound %s to billing project %d\n", b.Repository, b.ProjectID)
			return nil
		},
	}
}
