package jobs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// maxPages bounds --all, so that a relay answering the same cursor forever
// cannot keep ppctl looping.
const maxPages = 10000

// ListOptions is what `jobs list` runs with.
type ListOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Now      func() time.Time

	Filter patchpanda.JobFilter
	// All follows the cursor through every page.
	All bool
}

func newList(f *factory.Factory, runF func(context.Context, *ListOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List jobs, newest first",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "repo", Aliases: []string{"R"}, Usage: "only jobs of the repository `OWNER/NAME`"},
			&cli.StringFlag{Name: "state", Usage: "only jobs in `STATE`: queued, running, succeeded, failed or cancelled"},
			&cli.StringFlag{Name: "trigger", Usage: "only jobs caused by `TRIGGER`: comment, pull_request, replay or check_rerun"},
			&cli.StringFlag{Name: "since", Usage: "only jobs created since `TIME`: RFC 3339, a date, or a duration back from now such as 24h or 7d"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"L"}, Value: 30, Usage: "at most `N` jobs, 1 to 500 (with --all: jobs per request)"},
			&cli.BoolFlag{Name: "all", Usage: "follow the cursor through every page"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &ListOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Now: time.Now, All: cmd.Bool("all")}
			var err error
			if opts.Filter, err = listFilter(f, cmd, opts.Now()); err != nil {
				return err
			}
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
	list, err := fetch(ctx, c, opts.Filter, opts.All)
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		// An array, as every list command prints, so that
		// --jq '.[-1]' works alike everywhere.
		if err := opts.Exporter.Write(list.Jobs); err != nil {
			return err
		}
		if list.Next != "" {
			fmt.Fprintln(opts.IO.ErrOut, "More jobs match: use --all or a larger --limit.")
		}
		return nil
	}
	if len(list.Jobs) == 0 {
		if opts.IO.OutTTY {
			fmt.Fprintln(opts.IO.ErrOut, "No jobs match.")
		}
		return nil
	}
	if err := printJobs(opts.IO, list.Jobs, opts.Now()); err != nil {
		return err
	}
	if list.Next != "" && opts.IO.OutTTY {
		fmt.Fprintln(opts.IO.ErrOut, "More jobs match: use --all, a larger --limit, or narrow with --since.")
	}
	return nil
}

// listFilter reads the list flags into a filter. It returns an EINVALID
// error naming the flag at fault.
func listFilter(f *factory.Factory, cmd *cli.Command, now time.Time) (patchpanda.JobFilter, error) {
	var filter patchpanda.JobFilter
	var err error
	filter.Repository = cmd.String("repo")
	if filter.Repository == "" && f.DefaultRepo != nil {
		filter.Repository = f.DefaultRepo()
	}
	if filter.Repository != "" {
		if _, _, err := patchpanda.ParseFullName(filter.Repository); err != nil {
			return filter, patchpanda.Errorf(patchpanda.EINVALID, "--repo %q is not of the form owner/name", filter.Repository)
		}
	}
	if filter.State, err = parseState(cmd.String("state")); err != nil {
		return filter, err
	}
	if filter.Trigger, err = parseTrigger(cmd.String("trigger")); err != nil {
		return filter, err
	}
	if filter.Since, err = parseSince(cmd.String("since"), now); err != nil {
		return filter, err
	}
	filter.Limit = cmd.Int("limit")
	if filter.Limit < 1 || filter.Limit > 500 {
		return filter, patchpanda.Errorf(patchpanda.EINVALID, "--limit %d must be between 1 and 500", filter.Limit)
	}
	return filter, nil
}

// fetch returns one page of jobs, or with all every page, concatenated
// and without a cursor.
func fetch(ctx context.Context, c *httpapi.Client, filter patchpanda.JobFilter, all bool) (httpapi.JobList, error) {
	page, err := c.Jobs(ctx, filter)
	if err != nil || !all {
		if page.Jobs == nil {
			page.Jobs = []*patchpanda.Job{}
		}
		return page, err
	}
	out := httpapi.JobList{Jobs: page.Jobs}
	for n := 1; page.Next != "" && len(page.Jobs) > 0; n++ {
		if n == maxPages {
			return out, patchpanda.Errorf(patchpanda.EINTERNAL, "the relay answered more than %d pages; stopping", maxPages)
		}
		cursor := page.Next
		filter.After = cursor
		if page, err = c.Jobs(ctx, filter); err != nil {
			return out, err
		}
		if page.Next == cursor {
			return out, patchpanda.Errorf(patchpanda.EINTERNAL, "the relay answered the same cursor twice; stopping")
		}
		out.Jobs = append(out.Jobs, page.Jobs...)
	}
	if out.Jobs == nil {
		out.Jobs = []*patchpanda.Job{}
	}
	return out, nil
}

// printJobs writes jobs as a table on a terminal and as tab-separated
// lines (id, repository, pull request, state, trigger, attempt, cost in
// USD, created) otherwise.
func printJobs(ios *iostreams.IO, js []*patchpanda.Job, now time.Time) error {
	tty := ios.OutTTY
	tp := ios.Table("ID", "REPOSITORY", "PR", "STATE", "TRIGGER", "ATTEMPT", "COST", "CREATED")
	for _, j := range js {
		tp.AddField(j.ID)
		tp.AddField(j.Repository.FullName())
		pr := strconv.Itoa(j.PullRequest.Number)
		if tty {
			pr = "#" + pr
		}
		tp.AddField(pr)
		tp.AddField(string(j.State))
		tp.AddField(string(j.Trigger))
		tp.AddField(strconv.Itoa(j.Attempt))
		cost := patchpanda.FormatUSD(j.CostMicros)
		if tty {
			cost = "$" + cost
		}
		tp.AddField(cost)
		if tty {
			tp.AddField(iostreams.Ago(j.CreatedAt, now))
		} else {
			tp.AddField(stamp(j.CreatedAt, false))
		}
		tp.EndRow()
	}
	return tp.Render()
}
