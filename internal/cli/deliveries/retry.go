package deliveries

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newRetry(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "retry",
		Usage:     "Process failed deliveries again (after fixing what failed them)",
		ArgsUsage: "ID…",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() == 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl deliveries retry ID… (the ID column of ppctl deliveries list)")
			}
			var ids []int64
			for _, a := range cmd.Args().Slice() {
				id, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
				if err != nil || id <= 0 {
					return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a delivery id (the ID column of ppctl deliveries list)", a)
				}
				ids = append(ids, id)
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			var out []patchpanda.Delivery
			for _, id := range ids {
				d, err := c.RetryDelivery(ctx, id)
				if err != nil {
					return fmt.Errorf("delivery %d: %w", id, err)
				}
				out = append(out, d)
				if !factory.WantsJSON(cmd) {
					fmt.Fprintf(f.IO.ErrOut, "Delivery %d (%s, %s) will be processed again.\n", d.ID, d.DeliveryID, d.Event)
				}
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, out)
			}
			return nil
		},
	}
}
