package keys

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// ListOptions is what `keys list` runs with.
type ListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Now      func() time.Time
}

func newList(f *factory.Factory, runF func(context.Context, *ListOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List API keys",
		Flags: factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &ListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Now: time.Now}
			if runF != nil {
				return runF(ctx, opts)
			}
			return listRun(ctx, opts)
		},
	}
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ks, err := c.ListKeys(ctx)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(ks)
	}
	tp := opts.IO.Table("ID", "NAME", "PREFIX", "SCOPES", "STATE", "LAST USED", "CREATED")
	for _, k := range ks {
		tp.AddField(strconv.FormatInt(k.ID, 10))
		tp.AddField(k.Name)
		tp.AddField(k.Prefix)
		scopes := make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			scopes[i] = string(s)
		}
		tp.AddField(strings.Join(scopes, ","))
		tp.AddField(k.State(opts.Now()))
		tp.AddField(when(k.LastUsedAt))
		tp.AddField(k.CreatedAt.Format(time.RFC3339))
		tp.EndRow()
	}
	return tp.Render()
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}
