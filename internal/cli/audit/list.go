package audit

import (
	"context"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ListOptions is what `audit list` runs with.
type ListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	Filter patchpanda.AuditFilter
	// Limit is how many of the most recent events to show.
	Limit int
}

func newList(f *factory.Factory, runF func(context.Context, *ListOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List the most recent audit events, oldest first",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "action", Usage: "only events of this `ACTION`, like key.created or budget.changed"},
			&cli.StringFlag{Name: "subject", Usage: "only events about this `SUBJECT`, like billing_project:1"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"L"}, Value: 50, Usage: "show at most the `N` most recent events"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl audit list [--action ACTION] [--subject SUBJECT] [--limit N]")
			}
			limit := cmd.Int("limit")
			if limit < 1 {
				return patchpanda.Errorf(patchpanda.EINVALID, "--limit %d: must be at least 1", limit)
			}
			opts := &ListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd),
				Filter: patchpanda.AuditFilter{Action: cmd.String("action"), Subject: cmd.String("subject")}, Limit: limit}
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
	// The relay pages oldest first; keep the last limit events.
	var evs []patchpanda.AuditEvent
	err = each(ctx, c, opts.Filter, func(page []patchpanda.AuditEvent) error {
		evs = append(evs, page...)
		if len(evs) > opts.Limit {
			evs = append(evs[:0], evs[len(evs)-opts.Limit:]...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []patchpanda.AuditEvent{}
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(evs)
	}
	tp := opts.IO.Table("ID", "AT", "ACTOR", "ACTION", "SUBJECT", "REASON")
	for _, e := range evs {
		tp.AddField(strconv.FormatInt(e.ID, 10))
		tp.AddField(e.At.Format(time.RFC3339))
		tp.AddField(e.Actor)
		tp.AddField(e.Action)
		tp.AddField(e.Subject)
		tp.AddField(e.Reason)
		tp.EndRow()
	}
	return tp.Render()
}
