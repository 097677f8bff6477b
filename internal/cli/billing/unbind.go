package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newUnbind(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "unbind",
		Usage:     "Unbind a repository from a billing project (its jobs are then limited by no budget)",
		ArgsUsage: "ID OWNER/NAME",
		Flags:     []cli.Flag{factory.YesFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "unbind ID OWNER/NAME"); err != nil {
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
			// Unbound repositories run without a budget, so this is not
			// undone by accident.
			if err := f.ConfirmDestructive(ctx, cmd, fmt.Sprintf("unbind %s from billing project %d", repo, id)); err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			if err := c.UnbindRepository(ctx, id, repo); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Unbound %s from billing project %d\n", repo, id)
			return nil
		},
	}
}
