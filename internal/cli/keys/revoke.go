package keys

import (
	"context"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// RevokeOptions is what `keys revoke` runs with.
type RevokeOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Confirm  factory.ConfirmFunc

	ID int64
}

func newRevoke(f *factory.Factory, runF func(context.Context, *RevokeOptions) error) *cli.Command {
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
			opts := &RevokeOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Confirm: f.ConfirmFor(cmd), ID: id}
			if runF != nil {
				return runF(ctx, opts)
			}
			return revokeRun(ctx, opts)
		},
	}
}

func revokeRun(ctx context.Context, opts *RevokeOptions) error {
	if err := opts.Confirm(ctx, fmt.Sprintf("revoke key %d", opts.ID)); err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	k, err := c.RevokeKey(ctx, opts.ID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(k)
	}
	fmt.Fprintf(opts.IO.Out, "Revoked key %d %q\n", k.ID, k.Name)
	return nil
}
