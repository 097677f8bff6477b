package jobs

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newReplay(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "Enqueue a job's work again as a new attempt and print the new attempt's id",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			id, err := jobArg(cmd, "ppctl jobs replay ID")
			if err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			j, err := c.ReplayJob(ctx, id)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, j)
			}
			// The id alone on stdout so that a script can capture it; the
			// sentence on stderr.
			fmt.Fprintln(f.IO.Out, j.ID)
			fmt.Fprintf(f.IO.ErrOut, "Replayed %s as %s (attempt %d). Follow it with: ppctl jobs watch %s\n", id, j.ID, j.Attempt, j.ID)
			return nil
		},
	}
}
