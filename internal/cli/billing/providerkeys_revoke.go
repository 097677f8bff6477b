package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ProviderKeysRevokeOptions is what `billing provider-keys revoke` runs
// with.
type ProviderKeysRevokeOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Confirm  factory.ConfirmFunc

	ProjectID int64
	KeyID     int64
}

func newProviderKeysRevoke(f *factory.Factory, runF func(context.Context, *ProviderKeysRevokeOptions) error) *cli.Command {
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
			opts := &ProviderKeysRevokeOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Confirm: f.ConfirmFor(cmd), ProjectID: id, KeyID: keyID}
			if runF != nil {
				return runF(ctx, opts)
			}
			return providerKeysRevokeRun(ctx, opts)
		},
	}
}

func providerKeysRevokeRun(ctx context.Context, opts *ProviderKeysRevokeOptions) error {
	if err := opts.Confirm(ctx, fmt.Sprintf("revoke provider key %d of billing project %d", opts.KeyID, opts.ProjectID)); err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	k, err := c.RevokeProviderKey(ctx, opts.ProjectID, opts.KeyID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(k)
	}
	fmt.Fprintf(opts.IO.Out, "Revoked %s key %d %q of billing project %d\n", k.Provider, k.ID, k.Name, k.ProjectID)
	return nil
}
