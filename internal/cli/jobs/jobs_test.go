package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/cli/jobs"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	jobsvc "github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store"
)

// syncBuffer is a buffer a running command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a relay with an admin key, and ppctl's jobs command wired to it
// the way cli.Main wires it.
type env struct {
	r     *relay.Relay
	admin string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "r.db"),
		QueueBackend: "db", GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })
	_, admin, err := r.Keys.Create(context.Background(), "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &env{r: r, admin: admin}
}

// exitCode is cli.Main's table from errors to exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 2
	case patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED:
		return 4
	default:
		return 1
	}
}

// start runs ppctl with args in the background; done yields the exit code.
func (e *env) start(ctx context.Context, tty bool, args ...string) (out, errOut *syncBuffer, done <-chan int) {
	out, errOut = &syncBuffer{}, &syncBuffer{}
	streams := &iostreams.IO{In: &bytes.Buffer{}, Out: iostreams.NewSanitizer(out), ErrOut: iostreams.NewSanitizer(errOut), Terminal: out, OutTTY: tty, InTTY: tty, Width: 200}
	f := &factory.Factory{IO: streams, DefaultRepo: func() string { return "" }}
	f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
		return httpapi.NewClient(cmd.String("relay"), cmd.String("token")), nil
	}
	root := &cli.Command{
		Name: "ppctl", Writer: out, ErrWriter: errOut,
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay"},
			&cli.StringFlag{Name: "token"},
		},
		Commands: []*cli.Command{jobs.New(f)},
	}
	ch := make(chan int, 1)
	go func() {
		err := root.Run(ctx, append([]string{"ppctl", "--relay", e.r.URL(), "--token", e.admin, "jobs"}, args...))
		if err != nil {
			errOut.Write([]byte("error: " + err.Error() + "\n"))
		}
		ch <- exitCode(err)
	}()
	return out, errOut, ch
}

// run runs ppctl with args to the end.
func (e *env) run(tty bool, args ...string) (code int, stdout, stderr string) {
	out, errOut, done := e.start(context.Background(), tty, args...)
	code = <-done
	return code, out.String(), errOut.String()
}

// enqueue creates a job the way dispatch does.
func (e *env) enqueue(t *testing.T, repo string, pr int, trigger patchpanda.Trigger, created time.Time) *patchpanda.Job {
	t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	j := &patchpanda.Job{Repository: patchpanda.Repository{Owner: owner, Name: name, ID: int64(pr) * 100}, InstallationID: 7,
		PullRequest: patchpanda.PullRequest{Number: pr, HeadSHA: strings.Repeat("a", 40), BaseSHA: strings.Repeat("b", 40)},
		RequestedBy: "octocat", Trigger: trigger, CreatedAt: created}
	err := e.r.DB.InTx(context.Background(), func(q *store.Queries) error {
		_, err := jobsvc.Enqueue(context.Background(), q, j, 0, "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// worker is the worker key the tests report as.
var worker = &patchpanda.Principal{Kind: patchpanda.PrincipalKey, Name: "worker", KeyID: 1, Scopes: []patchpanda.Scope{patchpanda.ScopeWorker}}

// report moves a job as its worker would, claiming it first while it is
// queued.
func (e *env) report(t *testing.T, id string, ev patchpanda.WorkerEvent) {
	t.Helper()
	ctx := context.Background()
	l, err := e.r.Jobs.Claim(ctx, id, worker)
	if err != nil && patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Fatal(err)
	}
	if l.ID != "" {
		leases.Store(id, l.ID)
	}
	lease, _ := leases.Load(id)
	if _, err := e.r.Jobs.Report(ctx, id, lease.(string), ev, worker); err != nil {
		t.Fatalf("report %s on %s: %v", ev.Type, id, err)
	}
}

// leases holds the lease of each job the tests claimed.
var leases sync.Map

// waitFor waits until s() contains want; a slow machine only makes it
// wait longer.
func waitFor(t *testing.T, what string, s func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q; it has:\n%s", what, want, s())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func firstColumn(out string) []string {
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" {
			id, _, _ := strings.Cut(line, "\t")
			ids = append(ids, id)
		}
	}
	return ids
}

func cost(usd float64) *float64 { return &usd }

func TestListFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	a := e.enqueue(t, "acme/web", 1, patchpanda.TriggerComment, now.Add(-48*time.Hour))
	b := e.enqueue(t, "acme/web", 2, patchpanda.TriggerPullRequest, now.Add(-time.Hour))
	c := e.enqueue(t, "acme/api", 3, patchpanda.TriggerComment, now.Add(-time.Minute))
	e.report(t, b.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
	e.report(t, b.ID, patchpanda.WorkerEvent{Type: patchpanda.EventSucceeded, CostUSD: cost(0.42)})
	e.report(t, c.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"lists every job newest first", nil, []string{c.ID, b.ID, a.ID}},
		{"filters by repository", []string{"--repo", "acme/api"}, []string{c.ID}},
		{"filters by state", []string{"--state", "running"}, []string{c.ID}},
		{"filters by trigger", []string{"--trigger", "pull_request"}, []string{b.ID}},
		{"filters by a duration back from now", []string{"--since", "24h"}, []string{c.ID, b.ID}},
		{"filters by days back from now", []string{"--since", "3d"}, []string{c.ID, b.ID, a.ID}},
		{"filters by an RFC 3339 time", []string{"--since", now.Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, []string{c.ID, b.ID}},
		{"stops at the limit", []string{"--limit", "2"}, []string{c.ID, b.ID}},
		{"follows the cursor through every page with --all", []string{"--all", "--limit", "1"}, []string{c.ID, b.ID, a.ID}},
		{"combines filters", []string{"--repo", "acme/web", "--trigger", "comment"}, []string{a.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := e.run(false, append([]string{"list"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(tt.want, firstColumn(out)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("prints tab-separated fields when piped", func(t *testing.T) {
		_, out, _ := e.run(false, "list", "--state", "succeeded")
		want := strings.Join([]string{b.ID, "acme/web", "2", "succeeded", "pull_request", "1", "0.42", b.CreatedAt.UTC().Format(time.RFC3339)}, "\t") + "\n"
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("line (-want +got):\n%s", diff)
		}
	})
	t.Run("prints a table with headers on a terminal", func(t *testing.T) {
		code, out, _ := e.run(true, "list")
		for _, want := range []string{"REPOSITORY", "STATE", "#2", "$0.42", "1m ago"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("table lacks %q (exit %d):\n%s", want, code, out)
			}
		}
	})
	t.Run("prints one page as a JSON array and says more match", func(t *testing.T) {
		code, out, errOut := e.run(false, "list", "--json", "--limit", "1")
		var got []patchpanda.Job
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("exit %d %q %s", code, out, errOut)
		}
		if len(got) != 1 || got[0].ID != c.ID || !strings.Contains(errOut, "More jobs match") {
			t.Errorf("got %d jobs, first %v; stderr %q", len(got), got, errOut)
		}
	})
	t.Run("picks the fields --json names", func(t *testing.T) {
		code, out, errOut := e.run(false, "list", "--json=id,state", "--limit", "1")
		var got []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 {
			t.Fatalf("exit %d %q %s", code, out, errOut)
		}
		if len(got[0]) != 2 || got[0]["id"] != c.ID || got[0]["state"] == nil {
			t.Errorf("--json=id,state printed %v", got[0])
		}
	})
	t.Run("names the fields when --json asks for an unknown one", func(t *testing.T) {
		code, _, errOut := e.run(false, "list", "--json=id,colour")
		if code != 1 || !strings.Contains(errOut, `unknown JSON field "colour"`) || !strings.Contains(errOut, "pull_request") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("lists the fields for --json alone on a terminal", func(t *testing.T) {
		code, out, errOut := e.run(true, "list", "--json")
		if code != 1 || out != "" || !strings.Contains(errOut, "Specify one or more comma-separated fields") || !strings.Contains(errOut, "\n  state\n") {
			t.Errorf("exit %d, out %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("formats JSON with --template", func(t *testing.T) {
		_, out, errOut := e.run(false, "list", "--all", "--limit", "2", "--template", `{{range .}}{{.pull_request.number}};{{end}}`)
		if diff := cmp.Diff("3;2;1;", out); diff != "" {
			t.Errorf("--template (-want +got):\n%s%s", diff, errOut)
		}
	})
	t.Run("filters JSON with --jq", func(t *testing.T) {
		_, out, _ := e.run(false, "list", "--all", "--limit", "2", "--jq", ".[].pull_request.number")
		if diff := cmp.Diff("3\n2\n1\n", out); diff != "" {
			t.Errorf("--jq (-want +got):\n%s", diff)
		}
	})
	t.Run("says so on a terminal when nothing matches", func(t *testing.T) {
		code, out, errOut := e.run(true, "list", "--repo", "acme/none")
		if code != 0 || out != "" || !strings.Contains(errOut, "No jobs match") {
			t.Errorf("exit %d out %q err %q", code, out, errOut)
		}
	})

	bad := []struct {
		name, flag, value string
	}{
		{"rejects an unknown state", "--state", "done"},
		{"rejects an unknown trigger", "--trigger", "push"},
		{"rejects a since that is neither a time nor a duration", "--since", "yesterday"},
		{"rejects a negative since", "--since", "-5h"},
		{"rejects a limit over 500", "--limit", "501"},
		{"rejects a repository without an owner", "--repo", "web"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := e.run(false, "list", tt.flag+"="+tt.value)
			if code != 1 || !strings.Contains(errOut, tt.flag) {
				t.Errorf("exit %d, stderr %q: want 1 naming %s", code, errOut, tt.flag)
			}
		})
	}
}

func TestShowAndReplay(t *testing.T) {
	e := newEnv(t)
	j := e.enqueue(t, "acme/web", 9, patchpanda.TriggerComment, time.Now().Add(-time.Hour))
	e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted, Message: "cloning"})
	e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventFailed, Message: "tests\tdid not\ncompile", CostUSD: cost(0.0042)})

	t.Run("prints fields and events as tab-separated lines when piped", func(t *testing.T) {
		code, out, errOut := e.run(false, "show", j.ID)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"id\t" + j.ID + "\n", "repository\tacme/web\n", "state\tfailed\n", "cost_usd\t0.0042\n",
			"\tstarted\tcloning\t0.00\t\n", "\tfailed\ttests did not compile\t0.0042\t\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("prints a readable layout on a terminal", func(t *testing.T) {
		_, out, _ := e.run(true, "show", j.ID)
		for _, want := range []string{"acme/web#9", "Trigger:", "comment by octocat", "head aaaaaaa", "Events", "tests did not compile", "$0.0042"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("prints the job with its events as JSON", func(t *testing.T) {
		_, out, _ := e.run(false, "show", j.ID, "--json")
		var got patchpanda.Job
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != j.ID || len(got.Events) != 2 || got.Events[1].Type != "failed" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("fails for a job that does not exist", func(t *testing.T) {
		code, _, errOut := e.run(false, "show", "job_nope")
		if code != 1 || !strings.Contains(errOut, "not_found") {
			t.Errorf("exit %d %q", code, errOut)
		}
	})
	t.Run("needs exactly one id", func(t *testing.T) {
		code, _, errOut := e.run(false, "show")
		if code != 1 || !strings.Contains(errOut, "usage: ppctl jobs show ID") {
			t.Errorf("exit %d %q", code, errOut)
		}
	})

	t.Run("replays a job and prints the new attempt's id", func(t *testing.T) {
		code, out, errOut := e.run(false, "replay", j.ID)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		id := strings.TrimSpace(out)
		if !strings.HasPrefix(id, "job_") || id == j.ID || strings.Contains(out, " ") {
			t.Fatalf("replay printed %q", out)
		}
		if !strings.Contains(errOut, "attempt 2") {
			t.Errorf("stderr %q does not name the attempt", errOut)
		}
		_, out, _ = e.run(false, "show", id, "--jq", "[.attempt, .replay_of, .trigger, .state] | @tsv")
		if diff := cmp.Diff("2\t"+j.ID+"\treplay\tqueued\n", out); diff != "" {
			t.Errorf("new attempt (-want +got):\n%s", diff)
		}
	})
}

func TestWatchOneJob(t *testing.T) {
	e := newEnv(t)
	t.Run("prints each event and exits 0 when the job succeeds", func(t *testing.T) {
		j := e.enqueue(t, "acme/web", 1, patchpanda.TriggerComment, time.Time{})
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
		out, errOut, done := e.start(context.Background(), false, "watch", "--interval", "20ms", j.ID)
		waitFor(t, "watch", out.String, "\tstarted\t")
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventProgress, Message: "writing tests"})
		waitFor(t, "watch", out.String, "\tprogress\twriting tests\t")
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventSucceeded, PullRequestURL: "https://github.com/acme/web/pull/2"})
		if code := <-done; code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if lines := strings.Count(out.String(), "\n"); lines != 3 || !strings.Contains(out.String(), "https://github.com/acme/web/pull/2") {
			t.Errorf("want 3 event lines once each, got:\n%s", out)
		}
	})
	t.Run("exits 1 when the job fails", func(t *testing.T) {
		j := e.enqueue(t, "acme/web", 2, patchpanda.TriggerComment, time.Time{})
		out, errOut, done := e.start(context.Background(), true, "watch", "--interval", "20ms", j.ID)
		waitFor(t, "watch stderr", errOut.String, "Watching "+j.ID)
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventFailed, Message: "boom"})
		if code := <-done; code != 1 || !strings.Contains(errOut.String(), "job "+j.ID+" failed: boom") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if !strings.Contains(out.String(), "failed") || strings.Contains(out.String(), "\t") {
			t.Errorf("terminal output:\n%s", out)
		}
	})
	t.Run("exits 2 when interrupted", func(t *testing.T) {
		j := e.enqueue(t, "acme/web", 3, patchpanda.TriggerComment, time.Time{})
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
		ctx, cancel := context.WithCancel(context.Background())
		out, _, done := e.start(ctx, false, "watch", "--interval", "20ms", j.ID)
		waitFor(t, "watch", out.String, "\tstarted\t")
		cancel()
		if code := <-done; code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
	t.Run("prints events as JSON", func(t *testing.T) {
		j := e.enqueue(t, "acme/web", 4, patchpanda.TriggerComment, time.Time{})
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventSucceeded})
		code, out, _ := e.run(false, "watch", j.ID, "--jq", ".type")
		if diff := cmp.Diff("started\nsucceeded\n", out); code != 0 || diff != "" {
			t.Errorf("exit %d, events (-want +got):\n%s", code, diff)
		}
	})
	t.Run("fails at once for a job that does not exist", func(t *testing.T) {
		if code, _, errOut := e.run(false, "watch", "job_nope"); code != 1 || !strings.Contains(errOut, "not_found") {
			t.Errorf("exit %d %q", code, errOut)
		}
	})
}

func TestWatchActiveJobs(t *testing.T) {
	e := newEnv(t)
	j := e.enqueue(t, "acme/web", 1, patchpanda.TriggerComment, time.Time{})

	t.Run("prints one line per change and never clears when piped", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		out, _, done := e.start(ctx, false, "watch", "--interval", "20ms")
		waitFor(t, "watch", out.String, "\t"+j.ID+"\tacme/web\t1\tqueued\n")
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted})
		waitFor(t, "watch", out.String, "\t"+j.ID+"\tacme/web\t1\trunning\n")
		e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventSucceeded})
		waitFor(t, "watch", out.String, "\t"+j.ID+"\tacme/web\t1\tsucceeded\n")
		cancel()
		if code := <-done; code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		if strings.Contains(out.String(), "\x1b") || strings.Count(out.String(), "\n") != 3 {
			t.Errorf("piped output:\n%q", out)
		}
	})
	t.Run("redraws a table on a terminal", func(t *testing.T) {
		k := e.enqueue(t, "acme/web", 2, patchpanda.TriggerComment, time.Time{})
		ctx, cancel := context.WithCancel(context.Background())
		out, _, done := e.start(ctx, true, "watch", "--interval", "20ms")
		waitFor(t, "watch", out.String, k.ID)
		cancel()
		<-done
		for _, want := range []string{"\x1b[H\x1b[2J", "Queued and running jobs", "REPOSITORY"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("terminal output lacks %q", want)
			}
		}
	})
}

func TestShowNeverPrintsAWorkersControlCharacters(t *testing.T) {
	e := newEnv(t)
	j := e.enqueue(t, "acme/web", 9, patchpanda.TriggerComment, time.Now().Add(-time.Hour))
	e.report(t, j.ID, patchpanda.WorkerEvent{Type: patchpanda.EventStarted, Message: "cloning\x1b[H\x1b[2J\x1b]8;;https://evil.example\x07click\u009b31m"})
	for _, tty := range []bool{true, false} {
		code, out, errOut := e.run(tty, "show", j.ID)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.ContainsAny(out, "\x1b\x07\u009b") {
			t.Errorf("tty=%v: a control character reached the terminal:\n%q", tty, out)
		}
		if !strings.Contains(out, "cloning^[[H^[[2J^[]8;;https://evil.example^Gclick^[[31m") {
			t.Errorf("tty=%v: the message is not shown in caret notation:\n%q", tty, out)
		}
	}
	// --jq prints strings raw, as jq -r does: sanitized too.
	_, out, _ := e.run(false, "show", j.ID, "--jq", ".events[0].message")
	if strings.ContainsRune(out, '\x1b') {
		t.Errorf("--jq printed a raw escape: %q", out)
	}
}
