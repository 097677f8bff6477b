package jobs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// clearScreen moves the cursor home and clears the terminal. It is only
// ever written to a terminal.
const clearScreen = "\x1b[H\x1b[2J"

// WatchOptions is what `jobs watch` runs with.
type WatchOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	Now      func() time.Time

	// ID is the job to follow; without it, the queued and running jobs
	// (of Repo, when set) are.
	ID       string
	Repo     string
	Interval time.Duration
}

func newWatch(f *factory.Factory, runF func(context.Context, *WatchOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "Follow a job's events until it ends, or, without ID, the queued and running jobs",
		Description: "With ID, prints each new event of the job and exits 0 when it succeeds, 1 when it fails\n" +
			"or is cancelled, and 2 when interrupted. Without ID, refreshes the list of queued and\n" +
			"running jobs on a terminal, and prints one line per change of state when piped.",
		ArgsUsage: "[ID]",
		Flags: append([]cli.Flag{
			&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Value: 2 * time.Second, Usage: "how often to ask the relay"},
			&cli.StringFlag{Name: "repo", Aliases: []string{"R"}, Usage: "without ID: only jobs of the repository `OWNER/NAME`"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() > 1 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl jobs watch [ID]")
			}
			every := cmd.Duration("interval")
			if every <= 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "--interval %s must be positive", every)
			}
			repo := cmd.String("repo")
			if repo == "" && cmd.NArg() == 0 && f.DefaultRepo != nil {
				repo = f.DefaultRepo()
			}
			if repo != "" {
				if _, _, err := patchpanda.ParseFullName(repo); err != nil {
					return patchpanda.Errorf(patchpanda.EINVALID, "--repo %q is not of the form owner/name", repo)
				}
			}
			opts := &WatchOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd), Now: time.Now,
				Repo: repo, Interval: every}
			if cmd.NArg() == 1 {
				opts.ID = strings.TrimSpace(cmd.Args().First())
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return watchRun(ctx, opts)
		},
	}
}

func watchRun(ctx context.Context, opts *WatchOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	w := &watcher{opts: opts, io: opts.IO, c: c, every: opts.Interval, json: opts.Exporter != nil}
	if opts.ID != "" {
		return w.job(ctx, opts.ID)
	}
	return w.active(ctx, opts.Repo)
}

// watcher polls the relay for one run of `jobs watch`.
type watcher struct {
	opts  *WatchOptions
	io    *iostreams.IO
	c     *httpapi.Client
	every time.Duration
	json  bool
	// reached is true once the relay answered; warned is true while a
	// warning about it being unreachable stands.
	reached, warned bool
}

// retry decides what a failed poll means: it returns nil (after warning
// once) when the relay was reached before and is now unavailable, so that
// a relay restart does not end a watch, and the error otherwise.
func (w *watcher) retry(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !w.reached || patchpanda.ErrorCode(err) != patchpanda.EUNAVAILABLE {
		return err
	}
	if !w.warned {
		fmt.Fprintf(w.io.ErrOut, "warning: %s; still trying\n", patchpanda.ErrorMessage(err))
		w.warned = true
	}
	return nil
}

func (w *watcher) ok() {
	if w.warned {
		fmt.Fprintln(w.io.ErrOut, "The relay answers again.")
	}
	w.reached, w.warned = true, false
}

// job prints each new event of job id until the job ends. It returns nil
// when the job succeeded, an error when it failed or was cancelled, and
// the context's error when interrupted.
func (w *watcher) job(ctx context.Context, id string) error {
	seen := map[int64]bool{}
	for {
		j, err := w.c.Job(ctx, id)
		if err != nil {
			if err := w.retry(ctx, err); err != nil {
				return err
			}
		} else {
			if !w.reached && w.io.OutTTY && !w.json {
				fmt.Fprintf(w.io.ErrOut, "Watching %s (%s#%d) every %s. Ctrl+C to stop.\n", j.ID, j.Repository.FullName(), j.PullRequest.Number, w.every)
			}
			w.ok()
			for _, ev := range j.Events {
				if seen[ev.ID] {
					continue
				}
				seen[ev.ID] = true
				if err := w.event(ev); err != nil {
					return err
				}
			}
			if j.State.Terminal() {
				return w.ended(j)
			}
		}
		if err := sleep(ctx, w.every); err != nil {
			return err
		}
	}
}

func (w *watcher) event(ev patchpanda.JobEvent) error {
	switch {
	case w.json:
		return w.opts.Exporter.Write(ev)
	case w.io.OutTTY:
		_, err := fmt.Fprintf(w.io.Out, "%s  %-10s %s\n", stamp(ev.CreatedAt, true), ev.Type, eventDetail(ev))
		return err
	default:
		_, err := fmt.Fprintln(w.io.Out, eventRecord(ev))
		return err
	}
}

// ended reports how job j ended: nil when it succeeded, an *EndedError
// otherwise.
func (w *watcher) ended(j *patchpanda.Job) error {
	if j.State != patchpanda.JobSucceeded {
		return &EndedError{Job: j}
	}
	if w.io.OutTTY && !w.json {
		fmt.Fprintf(w.io.ErrOut, "✓ Job %s succeeded", j.ID)
		if j.ResultURL != "" {
			fmt.Fprintf(w.io.ErrOut, ": %s", j.ResultURL)
		}
		fmt.Fprintln(w.io.ErrOut)
	}
	return nil
}

// EndedError is what `jobs watch ID` returns for a job that ended without
// succeeding: failed or cancelled. ppctl exits 1 on it.
type EndedError struct {
	Job *patchpanda.Job
}

// Error says how the job ended and why, when the job says.
func (e *EndedError) Error() string {
	verb := "ended " + string(e.Job.State)
	switch e.Job.State {
	case patchpanda.JobFailed:
		verb = "failed"
	case patchpanda.JobCancelled:
		verb = "was cancelled"
	}
	if m := oneLine(e.Job.Message); m != "" {
		return fmt.Sprintf("job %s %s: %s", e.Job.ID, verb, m)
	}
	return fmt.Sprintf("job %s %s", e.Job.ID, verb)
}

// active follows the queued and running jobs until interrupted: a
// refreshed table on a terminal, a JSON list whenever it changes with
// --json, and otherwise one line per job whose state changed. It returns
// the context's error when interrupted.
func (w *watcher) active(ctx context.Context, repo string) error {
	var prev map[string]*patchpanda.Job
	lastKey := "none yet" // never a listKey, so the first list prints
	for {
		js, err := activeJobs(ctx, w.c, repo)
		if err != nil {
			if err := w.retry(ctx, err); err != nil {
				return err
			}
		} else {
			w.ok()
			switch {
			case w.json:
				if key := listKey(js); key != lastKey {
					lastKey = key
					if err := w.opts.Exporter.Write(js); err != nil {
						return err
					}
				}
			case w.io.OutTTY:
				if err := w.refresh(js, repo); err != nil {
					return err
				}
			default:
				if err := w.changes(ctx, prev, js); err != nil {
					return err
				}
			}
			prev = make(map[string]*patchpanda.Job, len(js))
			for _, j := range js {
				prev[j.ID] = j
			}
		}
		if err := sleep(ctx, w.every); err != nil {
			return err
		}
	}
}

// refresh redraws the terminal with the current jobs.
func (w *watcher) refresh(js []*patchpanda.Job, repo string) error {
	now := w.opts.Now()
	of := ""
	if repo != "" {
		of = " of " + repo
	}
	fmt.Fprint(w.io.Raw(), clearScreen)
	fmt.Fprintf(w.io.Out, "Queued and running jobs%s · %s · every %s · Ctrl+C to stop\n\n", of, now.Format("15:04:05"), w.every)
	if len(js) == 0 {
		_, err := fmt.Fprintln(w.io.Out, "No queued or running jobs.")
		return err
	}
	return printJobs(w.io, js, now)
}

// changes prints "time, id, repository, pull request, state" for each job
// that appeared or changed state since prev, and for each that left the
// list its final state.
func (w *watcher) changes(ctx context.Context, prev map[string]*patchpanda.Job, js []*patchpanda.Job) error {
	now := stamp(w.opts.Now(), false)
	line := func(j *patchpanda.Job) error {
		_, err := fmt.Fprintf(w.io.Out, "%s\t%s\t%s\t%d\t%s\n", now, j.ID, j.Repository.FullName(), j.PullRequest.Number, j.State)
		return err
	}
	current := map[string]bool{}
	for _, j := range slices.Backward(js) {
		current[j.ID] = true
		if p, ok := prev[j.ID]; ok && p.State == j.State {
			continue
		}
		if err := line(j); err != nil {
			return err
		}
	}
	gone := make([]string, 0)
	for id := range prev {
		if !current[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		j, err := w.c.Job(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The job left the list but its end is unknown for now.
			j = prev[id]
			j.State = "unknown"
		}
		if err := line(j); err != nil {
			return err
		}
	}
	return nil
}

// activeJobs returns the running jobs, then the queued ones, each newest
// first, at most 100 of each.
func activeJobs(ctx context.Context, c *httpapi.Client, repo string) ([]*patchpanda.Job, error) {
	out := []*patchpanda.Job{}
	for _, st := range []patchpanda.JobState{patchpanda.JobRunning, patchpanda.JobQueued} {
		page, err := c.Jobs(ctx, patchpanda.JobFilter{Repository: repo, State: st, Limit: 100})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Jobs...)
	}
	return out, nil
}

// listKey identifies a list's content, to print JSON only on change.
func listKey(js []*patchpanda.Job) string {
	var b strings.Builder
	for _, j := range js {
		b.WriteString(j.ID + "|" + string(j.State) + "|" + strconv.FormatInt(j.UpdatedAt.UnixNano(), 10) + ";")
	}
	return b.String()
}

// sleep waits d, or returns the context's error when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
