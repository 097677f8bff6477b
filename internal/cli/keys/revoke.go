package keys

import (
	"context"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newRevoke(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "Revoke an API key",
		ArgsUsage: "ID",
		Flags:     append([]cli.Flag{factory.YesFlag()}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 1 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl keys revoke ID")
			}
			id, err := strconv.ParseInt(cmd.Args().First(), 10, 64)
			if err != nil || id <= 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "key id %q is not a positive number", cmd.Args().First())
			}
			if err := f.ConfirmDestructive(ctx, cmd, fmt.Sprintf("revoke key %d", id)); err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			k, err := c.RevokeKey(ctx, id)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, k)
			}
			fmt.Fprintf(f.IO.Out, "Revoked key %d %q\n", k.ID, k.Name)
			return nil
		},
	}
}
