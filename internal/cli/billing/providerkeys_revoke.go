package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newProviderKeysRevoke(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "Revoke a billing project's provider key",
		ArgsUsage: "ID KEYID",
		Flags:     append([]cli.Flag{factory.YesFlag()}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 2, "provider-keys revoke ID KEYID"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().Get(0), "project id")
			if err != nil {
				return err
			}
			keyID, err := parseID(cmd.Args().Get(1), "key id")
			if err != nil {
				return err
			}
			if err := f.ConfirmDestructive(ctx, cmd, fmt.Sprintf("revoke provider key %d of billing project %d", keyID, id)); err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			k, err := c.RevokeProviderKey(ctx, id, keyID)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, k)
			}
			fmt.Fprintf(f.IO.Out, "Revoked %s key %d %q of billing project %d\n", k.Provider, k.ID, k.Name, k.ProjectID)
			return nil
		},
	}
}
