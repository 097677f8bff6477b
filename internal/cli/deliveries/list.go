package deliveries

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ListOptions is what `deliveries list` runs with.
type ListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Now      func() time.Time

	// State is a delivery state, or "" for all.
	State string
	Limit int
}

func newList(f *factory.Factory, runF func(context.Context, *ListOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List recorded deliveries, newest first",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "state", Value: "failed", Usage: "only deliveries in `STATE`: pending, done, failed, or all"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"L"}, Value: 30, Usage: "at most `N` deliveries, 1 to 500"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			state := cmd.String("state")
			switch state {
			case "all":
				state = ""
			case patchpanda.DeliveryPending, patchpanda.DeliveryDone, patchpanda.DeliveryFailed:
			default:
				return patchpanda.Errorf(patchpanda.EINVALID, "--state %q is not one of pending, done, failed, all", state)
			}
			limit := int(cmd.Int("limit"))
			if limit < 1 || limit > 500 {
				return patchpanda.Errorf(patchpanda.EINVALID, "--limit %d is not between 1 and 500", limit)
			}
			opts := &ListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Now: time.Now, State: state, Limit: limit}
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
	list, err := c.Deliveries(ctx, opts.State, 0, opts.Limit)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(list.Deliveries)
	}
	if len(list.Deliveries) == 0 {
		if opts.IO.OutTTY {
			fmt.Fprintln(opts.IO.ErrOut, "No deliveries match.")
		}
		return nil
	}
	return printDeliveries(opts.IO, list.Deliveries, opts.Now())
}

func printDeliveries(ios *iostreams.IO, ds []patchpanda.Delivery, now time.Time) error {
	tty := ios.OutTTY
	tp := ios.Table("ID", "GUID", "EVENT", "REPOSITORY", "STATE", "ATTEMPTS", "RECEIVED", "REASON")
	for _, d := range ds {
		tp.AddField(strconv.FormatInt(d.ID, 10))
		tp.AddField(d.DeliveryID)
		ev := d.Event
		if d.Action != "" {
			ev += "." + d.Action
		}
		tp.AddField(ev)
		tp.AddField(d.Repository)
		tp.AddField(d.State)
		tp.AddField(strconv.Itoa(d.Attempts))
		if tty {
			tp.AddField(iostreams.Ago(d.ReceivedAt, now))
		} else {
			tp.AddField(d.ReceivedAt.UTC().Format(time.RFC3339))
		}
		tp.AddField(strings.Join(strings.Fields(d.LastError), " "))
		tp.EndRow()
	}
	return tp.Render()
}
