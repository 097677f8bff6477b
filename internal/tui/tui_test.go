package tui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/tui"
)

// fakeRelay is a hand-written tui.Client holding its state in memory.
// fail, when set for a method's name, makes that method return the error.
type fakeRelay struct {
	mu       sync.Mutex
	jobs     []*patchpanda.Job
	keys     []patchpanda.APIKey
	projects []httpapi.BillingProject
	fail     map[string]error
	created  []httpapi.CreateKeyRequest
	replays  []string
}

var now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func newFake() *fakeRelay {
	ev := func(id int64, typ, msg string, min int) patchpanda.JobEvent {
		return patchpanda.JobEvent{ID: id, Type: typ, Message: msg, CreatedAt: now.Add(time.Duration(min) * time.Minute)}
	}
	budget := "50.00"
	return &fakeRelay{
		jobs: []*patchpanda.Job{
			{ID: "job_2", RootID: "job_2", Attempt: 1, Repository: patchpanda.Repository{Owner: "acme", Name: "api"},
				PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: strings.Repeat("c", 40)}, Trigger: patchpanda.TriggerPullRequest,
				State: patchpanda.JobRunning, RequestedBy: "hubot", CreatedAt: now.Add(-time.Minute),
				Events: []patchpanda.JobEvent{ev(3, "started", "cloning acme/api", -1)}},
			{ID: "job_1", RootID: "job_1", Attempt: 1, Repository: patchpanda.Repository{Owner: "acme", Name: "web"},
				PullRequest: patchpanda.PullRequest{Number: 12, HeadSHA: strings.Repeat("a", 40), BaseSHA: strings.Repeat("b", 40)},
				Trigger:     patchpanda.TriggerComment, State: patchpanda.JobSucceeded, RequestedBy: "octocat", CostMicros: 420000,
				ResultURL: "https://github.com/acme/web/pull/13", CreatedAt: now.Add(-time.Hour),
				Events: []patchpanda.JobEvent{ev(1, "started", "cloning acme/web", -59), ev(2, "succeeded", "wrote 4 tests", -50)}},
		},
		keys: []patchpanda.APIKey{
			{ID: 1, Name: "ci-coverage", Prefix: "ppk_abcd", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite}, CreatedAt: now.Add(-48 * time.Hour)},
		},
		projects: []httpapi.BillingProject{
			{ID: 1, Name: "acme-platform", BudgetMicros: 50e6, BudgetUSD: &budget, Month: "2026-03", SpentMicros: 12.5e6, SpentUSD: "12.50",
				Repositories: []string{"acme/web", "acme/api"}},
			{ID: 2, Name: "side-project", Month: "2026-03", SpentMicros: 3e6, SpentUSD: "3.00", Repositories: []string{}},
		},
		fail: map[string]error{},
	}
}

func (f *fakeRelay) err(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[method]
}

func (f *fakeRelay) Jobs(ctx context.Context, filter patchpanda.JobFilter) (httpapi.JobList, error) {
	if err := f.err("Jobs"); err != nil {
		return httpapi.JobList{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := httpapi.JobList{Jobs: []*patchpanda.Job{}}
	for _, j := range f.jobs {
		if filter.State == "" || j.State == filter.State {
			out.Jobs = append(out.Jobs, j)
		}
	}
	return out, nil
}

func (f *fakeRelay) Job(ctx context.Context, id string) (*patchpanda.Job, error) {
	if err := f.err("Job"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, patchpanda.Errorf(patchpanda.ENOTFOUND, "job %s not found", id)
}

func (f *fakeRelay) ReplayJob(ctx context.Context, id string) (*patchpanda.Job, error) {
	if err := f.err("ReplayJob"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replays = append(f.replays, id)
	j := &patchpanda.Job{ID: fmt.Sprintf("job_%d", len(f.jobs)+1), RootID: id, Attempt: 2, ReplayOf: id, Trigger: patchpanda.TriggerReplay,
		State: patchpanda.JobQueued, Repository: patchpanda.Repository{Owner: "acme", Name: "web"}, CreatedAt: now}
	f.jobs = append([]*patchpanda.Job{j}, f.jobs...)
	return j, nil
}

func (f *fakeRelay) ListKeys(ctx context.Context) ([]patchpanda.APIKey, error) {
	if err := f.err("ListKeys"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]patchpanda.APIKey(nil), f.keys...), nil
}

func (f *fakeRelay) CreateKey(ctx context.Context, req httpapi.CreateKeyRequest) (httpapi.CreateKeyResponse, error) {
	if err := f.err("CreateKey"); err != nil {
		return httpapi.CreateKeyResponse{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, req)
	k := patchpanda.APIKey{ID: int64(len(f.keys) + 1), Name: req.Name, Prefix: "ppk_new1", Scopes: req.Scopes, CreatedAt: now}
	f.keys = append(f.keys, k)
	return httpapi.CreateKeyResponse{APIKey: k, Key: "ppk_new1SECRETSECRETSECRET"}, nil
}

func (f *fakeRelay) RevokeKey(ctx context.Context, id int64) (patchpanda.APIKey, error) {
	if err := f.err("RevokeKey"); err != nil {
		return patchpanda.APIKey{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.keys {
		if f.keys[i].ID == id {
			t := now
			f.keys[i].RevokedAt = &t
			return f.keys[i], nil
		}
	}
	return patchpanda.APIKey{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "key %d not found", id)
}

func (f *fakeRelay) BillingProjects(ctx context.Context) ([]httpapi.BillingProject, error) {
	if err := f.err("BillingProjects"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.projects, nil
}

// ui is a running terminal UI under test. Its output, a stream of
// partial redraws, is played into a virtual terminal, so that tests look
// at the screen a person would see.
type ui struct {
	t      *testing.T
	tm     *teatest.TestModel
	screen *vt.Emulator
	raw    []byte // everything drawn, escapes included
}

func start(t *testing.T, f *fakeRelay) *ui {
	t.Helper()
	m := tui.New(f, tui.Options{Relay: "http://relay.test", Now: func() time.Time { return now }})
	return drive(t, m, 130, 40)
}

func drive(t *testing.T, m tea.Model, width, height int, opts ...tea.ProgramOption) *ui {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height), teatest.WithProgramOptions(opts...))
	screen := vt.NewEmulator(width, height)
	// The emulator answers terminal queries on a pipe that must be drained.
	go func() { _, _ = io.Copy(io.Discard, screen) }()
	t.Cleanup(func() { _ = tm.Quit(); _ = screen.Close() })
	return &ui{t: t, tm: tm, screen: screen}
}

// read plays what the UI drew since the last read into the screen.
func (u *ui) read() {
	buf := make([]byte, 64<<10)
	for {
		n, _ := u.tm.Output().Read(buf)
		if n == 0 {
			return
		}
		u.raw = append(u.raw, buf[:n]...)
		// A terminal's line discipline turns a newline into a carriage
		// return and a line feed (ONLCR); the emulator needs it done.
		_, _ = u.screen.Write(bytes.ReplaceAll(buf[:n], []byte("\n"), []byte("\r\n")))
	}
}

// waitFor waits until the screen shows every one of wants.
func (u *ui) waitFor(wants ...string) {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		u.read()
		shown := u.screen.String()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(shown, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("the screen never showed %q; it shows:\n%s", missing, shown)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (u *ui) keys(ks ...string) {
	u.read()
	for _, k := range ks {
		switch k {
		case "enter":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		case "tab":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
		case "shift+tab":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
		case "down":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
		case "ctrl+r":
			u.tm.Send(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
		case "space":
			u.tm.Send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
		default:
			u.tm.Type(k)
		}
	}
}

// final quits and returns the last screen.
func (u *ui) final() string {
	u.t.Helper()
	u.keys("q")
	return u.tm.FinalModel(u.t, teatest.WithFinalTimeout(30*time.Second)).(tui.Model).Render()
}

func TestSwitchingTabs(t *testing.T) {
	u := start(t, newFake())
	u.waitFor("[1 Jobs]", "job_2", "acme/api", "running", "job_1", "$0.42")
	u.keys("2")
	u.waitFor("[2 API keys]", "ci-coverage", "coverage:write", "active")
	u.keys("tab")
	u.waitFor("[3 Billing]", "acme-platform", "$50.00", "$12.50", "25%", "side-project", "none")
	u.keys("tab")
	u.waitFor("[1 Jobs]")
	u.keys("shift+tab")
	u.waitFor("[3 Billing]")
	if got := u.final(); !strings.Contains(got, "acme-platform") {
		t.Errorf("final screen is not the billing tab:\n%s", got)
	}
}

func TestJobDetailAndFilter(t *testing.T) {
	u := start(t, newFake())
	u.waitFor("job_1")
	u.keys("down", "enter")
	u.waitFor("acme/web#12", "comment by octocat", "head aaaaaaa, base bbbbbbb", "https://github.com/acme/web/pull/13", "Events", "wrote 4 tests")
	u.keys("esc")
	u.waitFor("TRIGGER")
	u.keys("f")
	u.waitFor("No jobs that are queued.")
	u.keys("f")
	u.waitFor("job_2", "Jobs that are running")
	if got := u.final(); strings.Contains(got, "Events") || strings.Contains(got, "job_1") {
		t.Errorf("esc did not close the detail, or the filter let job_1 through:\n%s", got)
	}
}

func TestReplayAsksFirst(t *testing.T) {
	f := newFake()
	u := start(t, f)
	u.waitFor("job_2")
	u.keys("r")
	u.waitFor("Replay job_2?")
	u.keys("n")
	u.waitFor("Replay cancelled")
	u.keys("down", "r")
	u.waitFor("Replay job_1?")
	u.keys("y")
	u.waitFor("Replayed job_1 as job_3 (attempt 2)")
	u.waitFor("job_3")
	u.final()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replays) != 1 || f.replays[0] != "job_1" {
		t.Errorf("replays = %v, want [job_1]", f.replays)
	}
}

func TestCreateKeyShowsItOnce(t *testing.T) {
	f := newFake()
	u := start(t, f)
	u.waitFor("job_1")
	u.keys("2")
	u.waitFor("ci-coverage")
	u.keys("n")
	u.waitFor("New API key", "[ ] coverage:write")
	u.keys("enter")
	u.waitFor("Give the key a name.")
	u.keys("nightly q") // q is text here, not quit
	u.keys("down", "down", "down", "space", "down", "space")
	u.waitFor("[x] jobs:read", "[x] jobs:write")
	u.keys("enter")
	u.waitFor("ppk_new1SECRETSECRETSECRET", "shown only this once")
	u.waitFor("Created key 2")
	u.keys("enter")
	u.waitFor("nightly q", "jobs:read,jobs:write")
	if got := u.final(); strings.Contains(got, "SECRET") {
		t.Errorf("the key is still on screen after it was dismissed:\n%s", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.created) != 1 || f.created[0].Name != "nightly q" || len(f.created[0].Scopes) != 2 {
		t.Errorf("created %+v", f.created)
	}
}

func TestRevokeKeyAsksFirst(t *testing.T) {
	f := newFake()
	u := start(t, f)
	u.waitFor("job_1")
	u.keys("2")
	u.waitFor("ci-coverage")
	u.keys("x")
	u.waitFor(`Revoke key 1 "ci-coverage"?`)
	u.keys("esc")
	u.waitFor("Revocation cancelled")
	u.keys("x")
	u.waitFor(`Revoke key 1 "ci-coverage"?`)
	u.keys("y")
	u.waitFor(`Revoked key 1 "ci-coverage"`)
	u.waitFor("revoked")
	u.keys("x")
	u.waitFor("Key 1 is already revoked")
	u.final()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[0].RevokedAt == nil {
		t.Error("key 1 was not revoked")
	}
}

func TestErrorsShowInTheStatusLine(t *testing.T) {
	f := newFake()
	f.fail["Jobs"] = patchpanda.Errorf(patchpanda.EFORBIDDEN, "this API key lacks the jobs:read scope")
	f.fail["CreateKey"] = patchpanda.Errorf(patchpanda.EINVALID, `expires_in "soon" is not a duration`)
	u := start(t, f)
	u.waitFor("✗ list jobs: this API key lacks the jobs:read scope (this key lacks the scope)")
	u.keys("2")
	u.waitFor("ci-coverage")
	u.keys("n", "ci", "down", "space", "enter")
	u.waitFor(`✗ create key: expires_in "soon" is not a duration`)
	// The form stays open to be corrected (esc closes it), and the UI
	// keeps working.
	u.keys("esc")
	u.waitFor("Key creation cancelled")
	u.keys("3")
	u.waitFor("acme-platform")
	u.final()
}

func TestUnreachableRelay(t *testing.T) {
	f := newFake()
	f.fail["BillingProjects"] = patchpanda.Errorf(patchpanda.EUNAVAILABLE, "cannot reach the relay at http://relay.test: connection refused")
	u := start(t, f)
	u.waitFor("job_1")
	u.keys("3")
	u.waitFor("✗ list billing projects: cannot reach the relay")
	f.mu.Lock()
	delete(f.fail, "BillingProjects")
	f.mu.Unlock()
	u.keys("ctrl+r")
	u.waitFor("acme-platform")
	u.final()
}

func TestDialogsFitTheTerminal(t *testing.T) {
	f := newFake()
	for i := 0; i < 30; i++ {
		f.jobs[1].Events = append(f.jobs[1].Events, patchpanda.JobEvent{ID: int64(10 + i), Type: "progress", Message: fmt.Sprintf("step %d", i), CreatedAt: now})
	}
	m := tui.New(f, tui.Options{Now: func() time.Time { return now }})
	u := drive(t, m, 90, 20)
	tm := u.tm
	u.waitFor("job_1")
	u.keys("down", "enter")
	u.waitFor("step 1")
	u.keys("r")
	u.waitFor("Replay job_1?")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	got := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(tui.Model).Render())
	if lines := strings.Count(got, "\n") + 1; lines > 20 || !strings.HasPrefix(got, "PatchPanda") || !strings.Contains(got, "y replay") {
		t.Errorf("a %d-line screen for a 20-line terminal, or title or dialog missing:\n%s", lines, got)
	}
}

func TestNoColorStillMarksTheSelectedRow(t *testing.T) {
	m := tui.New(newFake(), tui.Options{Now: func() time.Time { return now }})
	// On a terminal, NO_COLOR selects the ASCII profile: no colours, text
	// attributes kept (colorprofile.Env). teatest's output is no terminal,
	// so the test sets that profile itself.
	u := drive(t, m, 130, 40, tea.WithColorProfile(colorprofile.ASCII))
	u.waitFor("job_2", "job_1")
	u.final()
	// Reverse video (SGR 7, alone or with bold) survives NO_COLOR, which
	// strips colours but keeps text attributes.
	if !regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m[^\x1b]*job_2`).Match(u.raw) {
		t.Errorf("no reverse-video selection marker on job_2 with NO_COLOR; drew:\n%q", u.raw)
	}
	if regexp.MustCompile(`\x1b\[[0-9;]*38;`).Match(u.raw) {
		t.Errorf("colours drawn despite NO_COLOR:\n%q", u.raw)
	}
}

func TestServerStringsCannotDriveTheTerminal(t *testing.T) {
	f := newFake()
	f.jobs[1].Message = "done\x1b[2J\x1b]0;owned\x07"
	f.jobs[1].Repository.Name = "web\x1b[31m"
	u := start(t, f)
	u.waitFor("job_1")
	u.keys("down", "enter")
	u.waitFor("done^[[2J^[]0;owned^G")
	u.final()
	if bytes.Contains(u.raw, []byte("done\x1b")) || bytes.Contains(u.raw, []byte("\x1b]0;owned")) || bytes.Contains(u.raw, []byte("web\x1b[31m")) {
		t.Errorf("a server string reached the terminal raw:\n%q", u.raw)
	}
}

func TestARefusedCredentialEndsTheUI(t *testing.T) {
	f := newFake()
	f.fail["Jobs"] = patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key must start with \"ppk_\"")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// No key is ever pressed: the UI must close by itself, so that ppctl
	// exits 4 as for any command the relay refuses.
	err := tui.Run(ctx, f, &bytes.Buffer{}, io.Discard, tui.Options{Now: func() time.Time { return now }})
	if patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED || ctx.Err() != nil {
		t.Errorf("Run = %v (ctx %v), want the EUNAUTHORIZED error", err, ctx.Err())
	}
}
