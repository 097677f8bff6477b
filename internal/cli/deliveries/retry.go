package deliveries

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// RetryOptions is what `deliveries retry` runs with.
type RetryOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	IDs []int64
}

func newRetry(f *factory.Factory, runF func(context.Context, *RetryOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "retry",
		Usage:     "Process failed deliveries again (after fixing what failed them)",
		ArgsUsage: "ID…",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() == 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl deliveries retry ID… (the ID column of ppctl deliveries list)")
			}
			opts := &RetryOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd)}
			for _, a := range cmd.Args().Slice() {
				id, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
				if err != nil || id <= 0 {
					return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a delivery id (the ID column of ppctl deliveries list)", a)
				}
				opts.IDs = append(opts.IDs, id)
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return retryRun(ctx, opts)
		},
	}
}

func retryRun(ctx context.Context, opts *RetryOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	var out []patchpanda.Delivery
	for _, id := range opts.IDs {
		d, err := c.RetryDelivery(ctx, id)
		if err != nil {
			return fmt.Errorf("delivery %d: %w", id, err)
		}
		out = append(out, d)
		if opts.Exporter == nil {
			fmt.Fprintf(opts.IO.ErrOut, "Delivery %d (%s, %s) will be processed again.\n", d.ID, d.DeliveryID, d.Event)
		}
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(out)
	}
	return nil
}
