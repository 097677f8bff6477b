package audit

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// VerifyOptions is what `audit verify` runs with.
type VerifyOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	// Head, when set, is a head the chain must contain.
	Head *patchpanda.AuditHead
}

func newVerify(f *factory.Factory, runF func(context.Context, *VerifyOptions) error) *cli.Command {
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
			opts := &VerifyOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd)}
			if v := cmd.String("head"); v != "" {
				h, err := httpapi.ParseAuditHead(v)
				if err != nil {
					return err
				}
				opts.Head = &h
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return verifyRun(ctx, opts)
		},
	}
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	rep, err := c.VerifyAudit(ctx, opts.Head)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		if err := opts.Exporter.Write(rep); err != nil {
			return err
		}
	} else if rep.Verified {
		printReport(opts.IO.Out, rep)
	}
	if p := rep.Problem; p != nil {
		return fmt.Errorf("audit chain is broken after %d good events: %s (%s at event %d)", rep.Events, p.Message, p.Kind, p.EventID)
	}
	if !rep.Verified {
		return fmt.Errorf("audit chain did not verify")
	}
	return nil
}

func printReport(out io.Writer, rep patchpanda.AuditReport) {
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
