package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ProviderKeysListOptions is what `billing provider-keys list` runs with.
type ProviderKeysListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
}

func newProviderKeysList(f *factory.Factory, runF func(context.Context, *ProviderKeysListOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "List a billing project's provider keys (never the keys themselves)",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "provider-keys list ID"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().First(), "project id")
			if err != nil {
				return err
			}
			opts := &ProviderKeysListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), ProjectID: id}
			if runF != nil {
				return runF(ctx, opts)
			}
			return providerKeysListRun(ctx, opts)
		},
	}
}

func providerKeysListRun(ctx context.Context, opts *ProviderKeysListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ks, err := c.ProviderKeys(ctx, opts.ProjectID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(ks)
	}
	tp := opts.IO.Table("ID", "PROVIDER", "NAME", "ENDS WITH", "STATE", "CREATED")
	for _, k := range ks {
		tp.AddField(strconv.FormatInt(k.ID, 10))
		tp.AddField(k.Provider)
		tp.AddField(k.Name)
		tp.AddField("…" + k.Hint)
		state := "active"
		if k.RevokedAt != nil {
			state = "revoked"
		}
		tp.AddField(state)
		tp.AddField(k.CreatedAt.Format(time.RFC3339))
		tp.EndRow()
	}
	return tp.Render()
}
