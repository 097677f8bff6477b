package jobs

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ReplayOptions is what `jobs replay` runs with.
type ReplayOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ID string
}

func newReplay(f *factory.Factory, runF func(context.Context, *ReplayOptions) error) *cli.Command {
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
			opts := &ReplayOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ID: id}
			if runF != nil {
				return runF(ctx, opts)
			}
			return replayRun(ctx, opts)
		},
	}
}

func replayRun(ctx context.Context, opts *ReplayOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	j, err := c.ReplayJob(ctx, opts.ID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(j)
	}
	// The id alone on stdout so that a script can capture it; the
	// sentence on stderr.
	fmt.Fprintln(opts.IO.Out, j.ID)
	fmt.Fprintf(opts.IO.ErrOut, "Replayed %s as %s (attempt %d). Follow it with: ppctl jobs watch %s\n", opts.ID, j.ID, j.Attempt, j.ID)
	return nil
}
