package jobs

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ShowOptions is what `jobs show` runs with.
type ShowOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Now      func() time.Time

	ID string
}

func newShow(f *factory.Factory, runF func(context.Context, *ShowOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "Show a job and its events",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			id, err := jobArg(cmd, "ppctl jobs show ID")
			if err != nil {
				return err
			}
			opts := &ShowOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Now: time.Now, ID: id}
			if runF != nil {
				return runF(ctx, opts)
			}
			return showRun(ctx, opts)
		},
	}
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	j, err := c.Job(ctx, opts.ID)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(j)
	}
	if opts.IO.OutTTY {
		return showTTY(opts.IO.Out, j, opts.Now())
	}
	return showPiped(opts.IO.Out, j)
}

// showTTY writes a job for a person: a title, aligned fields, then its
// events.
func showTTY(w io.Writer, j *patchpanda.Job, now time.Time) error {
	fmt.Fprintf(w, "%s  %s#%d  %s\n", j.ID, j.Repository.FullName(), j.PullRequest.Number, j.State)
	if j.ReplayOf != "" {
		fmt.Fprintf(w, "attempt %d, a replay of %s\n", j.Attempt, j.ReplayOf)
	} else {
		fmt.Fprintf(w, "attempt %d\n", j.Attempt)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", name, value)
		}
	}
	field("Trigger:", fmt.Sprintf("%s by %s", j.Trigger, orDash(j.RequestedBy)))
	field("Commits:", fmt.Sprintf("head %s, base %s", orDash(short(j.PullRequest.HeadSHA)), orDash(short(j.PullRequest.BaseSHA))))
	field("Billing:", j.BillingProject)
	field("Cost:", "$"+patchpanda.FormatUSD(j.CostMicros))
	field("Result:", j.ResultURL)
	field("Message:", oneLine(j.Message))
	field("Created:", fmt.Sprintf("%s (%s)", stamp(j.CreatedAt, true), iostreams.Ago(j.CreatedAt, now)))
	if j.StartedAt != nil {
		field("Started:", stamp(*j.StartedAt, true))
	}
	if j.FinishedAt != nil {
		took := ""
		if j.StartedAt != nil {
			took = fmt.Sprintf(" (took %s)", j.FinishedAt.Sub(*j.StartedAt).Round(time.Second))
		}
		field("Finished:", stamp(*j.FinishedAt, true)+took)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(j.Events) == 0 {
		fmt.Fprintln(w, "No events yet.")
		return nil
	}
	fmt.Fprintln(w, "Events")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range j.Events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", stamp(ev.CreatedAt, true), ev.Type, eventDetail(ev))
	}
	return tw.Flush()
}

// showPiped writes a job for a program: "field<TAB>value" lines, then one
// "event<TAB>time<TAB>type<TAB>message<TAB>cost<TAB>url" line per event.
func showPiped(w io.Writer, j *patchpanda.Job) error {
	kv := [][2]string{
		{"id", j.ID}, {"root_id", j.RootID}, {"attempt", strconv.Itoa(j.Attempt)}, {"replay_of", j.ReplayOf},
		{"repository", j.Repository.FullName()}, {"pull_request", strconv.Itoa(j.PullRequest.Number)},
		{"head_sha", j.PullRequest.HeadSHA}, {"base_sha", j.PullRequest.BaseSHA},
		{"state", string(j.State)}, {"trigger", string(j.Trigger)}, {"requested_by", j.RequestedBy},
		{"billing_project", j.BillingProject}, {"cost_usd", patchpanda.FormatUSD(j.CostMicros)}, {"result_url", j.ResultURL},
		{"message", oneLine(j.Message)}, {"created_at", stamp(j.CreatedAt, false)},
	}
	if j.StartedAt != nil {
		kv = append(kv, [2]string{"started_at", stamp(*j.StartedAt, false)})
	}
	if j.FinishedAt != nil {
		kv = append(kv, [2]string{"finished_at", stamp(*j.FinishedAt, false)})
	}
	for _, p := range kv {
		if _, err := fmt.Fprintf(w, "%s\t%s\n", p[0], p[1]); err != nil {
			return err
		}
	}
	for _, ev := range j.Events {
		if _, err := fmt.Fprintf(w, "event\t%s\n", eventRecord(ev)); err != nil {
			return err
		}
	}
	return nil
}

// eventRecord is an event as tab-separated fields: time, type, message,
// cost in USD and URL.
func eventRecord(ev patchpanda.JobEvent) string {
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s", stamp(ev.CreatedAt, false), ev.Type, oneLine(ev.Message), patchpanda.FormatUSD(ev.CostMicros), ev.URL)
}

// eventDetail is what an event says beyond its type, for people.
func eventDetail(ev patchpanda.JobEvent) string {
	s := oneLine(ev.Message)
	add := func(part string) {
		if s != "" {
			s += "  "
		}
		s += part
	}
	if ev.CostMicros != 0 {
		add("$" + patchpanda.FormatUSD(ev.CostMicros))
	}
	if ev.URL != "" {
		add(ev.URL)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
