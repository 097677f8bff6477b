package audit

import (
	"context"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newList(f *factory.Factory) *cli.Command {
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
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			// The relay pages oldest first; keep the last limit events.
			var evs []patchpanda.AuditEvent
			err = each(ctx, c, patchpanda.AuditFilter{Action: cmd.String("action"), Subject: cmd.String("subject")}, func(page []patchpanda.AuditEvent) error {
				evs = append(evs, page...)
				if len(evs) > limit {
					evs = append(evs[:0], evs[len(evs)-limit:]...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if evs == nil {
				evs = []patchpanda.AuditEvent{}
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, evs)
			}
			tp := f.IO.Table("ID", "AT", "ACTOR", "ACTION", "SUBJECT", "REASON")
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
		},
	}
}
