// Package jobs is `ppctl jobs`: list, show, replay and watch the relay's
// jobs. Each verb has its own file; this one holds the command and the
// formatting the verbs share.
package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// New returns the `jobs` command and its verbs.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "jobs",
		Usage:    "List, inspect, replay and watch jobs (needs jobs:read; replay needs jobs:write)",
		Commands: []*cli.Command{newList(f, nil), newShow(f, nil), newReplay(f, nil), newWatch(f, nil)},
	}
}

// jobArg returns the one job id a command takes, or an EINVALID error
// showing usage.
func jobArg(cmd *cli.Command, usage string) (string, error) {
	if cmd.NArg() != 1 || strings.TrimSpace(cmd.Args().First()) == "" {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "usage: %s", usage)
	}
	return strings.TrimSpace(cmd.Args().First()), nil
}

// parseState returns s as a job state, or an EINVALID error listing the
// states. An empty s is no filter.
func parseState(s string) (patchpanda.JobState, error) {
	if s == "" {
		return "", nil
	}
	st, err := patchpanda.ParseJobState(s)
	if err != nil {
		return "", fmt.Errorf("--state: %w", err)
	}
	return st, nil
}

// parseTrigger returns s as a trigger, or an EINVALID error listing the
// triggers. An empty s is no filter.
func parseTrigger(s string) (patchpanda.Trigger, error) {
	if s == "" {
		return "", nil
	}
	t, err := patchpanda.ParseTrigger(s)
	if err != nil {
		return "", fmt.Errorf("--trigger: %w", err)
	}
	return t, nil
}

// parseSince reads --since: an RFC 3339 time, a date (UTC midnight), or a
// positive duration back from now such as 90m, 24h or 7d. It returns an
// EINVALID error for anything else.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		if n > 36500 {
			n = -1
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return time.Time{}, patchpanda.Errorf(patchpanda.EINVALID, "--since %q is neither an RFC 3339 time (2026-01-01T00:00:00Z) nor a duration such as 24h or 7d", s)
	}
	return now.Add(-d), nil
}

// short cuts a commit sha to the length people read.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// stamp formats t for a machine (piped output) or a person (a terminal).
func stamp(t time.Time, tty bool) string {
	if t.IsZero() {
		return ""
	}
	if tty {
		return t.Local().Format("2006-01-02 15:04:05")
	}
	return t.UTC().Format(time.RFC3339)
}

// oneLine keeps a message on one line, so that it cannot break a table or
// a tab-separated record.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
