package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newVerify(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "Have the relay verify the audit chain; exit 1 at the first bad event, gap or cut tail",
		Description: "The relay holds the chain key, so it does the checking: every event's seal, id\n" +
			"continuity, and the signed checkpoints of the head. --head EVENT_ID:HASH adds a\n" +
			"head copied from the relay's \"audit checkpoint\" log line, which catches a tail cut\n" +
			"together with the checkpoints that vouched for it.",
		Flags: append(factory.JSONFlags(), &cli.StringFlag{Name: "head", Usage: "a head `EVENT_ID:HASH` from the relay's log that the chain must contain"}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl audit verify [--head EVENT_ID:HASH]")
			}
			var expect *patchpanda.AuditHead
			if v := cmd.String("head"); v != "" {
				h, err := httpapi.ParseAuditHead(v)
				if err != nil {
					return err
				}
				expect = &h
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			rep, err := c.VerifyAudit(ctx, expect)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				if err := f.PrintJSON(cmd, rep); err != nil {
					return err
				}
			} else if rep.Verified {
				printReport(f, rep)
			}
			if p := rep.Problem; p != nil {
				return fmt.Errorf("audit chain is broken after %d good events: %s (%s at event %d)", rep.Events, p.Message, p.Kind, p.EventID)
			}
			if !rep.Verified {
				return fmt.Errorf("audit chain did not verify")
			}
			return nil
		},
	}
}

func printReport(f *factory.Factory, rep patchpanda.AuditReport) {
	out := f.IO.Out
	fmt.Fprintf(out, "audit chain verified: %d events\n", rep.Events)
	if rep.Head != nil {
		fmt.Fprintf(out, "head: %d:%s\n", rep.Head.ID, rep.Head.Hash)
	}
	switch {
	case !rep.Keyed:
		fmt.Fprintln(out, "keyed: no (the relay has no secrets keeper; anyone who can write to its database can rewrite the chain)")
	case rep.KeyedAfter > 0:
		fmt.Fprintf(out, "keyed: after event %d (earlier events are plain SHA-256, pinned by event %d)\n", rep.KeyedAfter, rep.KeyedAfter)
	default:
		fmt.Fprintln(out, "keyed: yes")
	}
	if cp := rep.Checkpoint; cp != nil {
		fmt.Fprintf(out, "last checkpoint: event %d (%s, %s)\n", cp.EventID, cp.Reason, cp.At.Format(time.RFC3339))
	} else {
		fmt.Fprintln(out, "last checkpoint: none")
	}
}
