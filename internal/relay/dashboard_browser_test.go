package relay_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/dashboard/oidctest"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the dashboard screenshots to docs/images/dashboard/")

// chromium finds Debian's chromium (or another Chrome); without one the
// browser test skips locally and fails in CI, where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; .ci/run installs Debian's chromium")
	}
	t.Skip("no chromium on PATH: install Debian's chromium (apt-get install chromium) to run the browser test")
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDashboardInABrowser drives headless Chromium through the dashboard
// of a relay with coverage and a job: sign-in at the identity provider,
// the repository with its trend, a commit's files (sorted by a click), a
// file's lines, the job, and its replay. It saves a screenshot of each
// page; -update-screenshots writes them where docs/dashboard.md shows them.
func TestDashboardInABrowser(t *testing.T) {
	exe := chromium(t)
	idp := oidctest.New(t, oidctest.Person{Subject: "1001", Email: "mona@example.com", Name: "Mona Lisa"})
	addr := freeAddr(t)
	w := sqliteWorld(t,
		withServerConfig(t, "dashboard:\n  roles:\n    admin: {emails: [mona@example.com]}\n"),
		func(c *relay.Config) {
			c.Addr = addr
			c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = idp.URL(), oidctest.ClientID, oidctest.ClientSecret
			c.OIDCRedirectURL = "http://" + addr + "/auth/callback"
		})
	seedDashboard(t, w)
	base := w.relay.URL()

	shots := t.TempDir()
	if *updateScreenshots {
		shots = filepath.Join("..", "..", "docs", "images", "dashboard")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Only to end a hung browser: every step below waits for what it needs.
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelT()

	shoot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			png, err := chromedp.FullScreenshot(100)(ctx, t)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
	}
	var heading, replayed, patch string
	var sortState, lineClass chromedp.AttributeResult
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"sign in and land on the repositories", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/ui/"),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/repos/acme/widgets"]`)),
			into(chromedp.Text(chromedp.CSS(`header .who span`)), &heading),
			shoot("repositories"),
		}},
		{"open the repository and its trend", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`a[href="/ui/repos/acme/widgets"]`)),
			chromedp.WaitVisible(chromedp.CSS(`svg.chart polyline`)),
			shoot("repository"),
		}},
		{"open the newest commit and sort its files", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`table a[href^="/ui/repos/acme/widgets/commits/` + mainSHAs[2] + `"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#files`)),
			// sort.js runs deferred: click only once it has taken the
			// headings, and read the state once the click has sorted.
			chromedp.WaitVisible(chromedp.CSS(`#files th.sortable-col`)),
			chromedp.Click(chromedp.CSS(`#files th:nth-child(2)`)),
			chromedp.WaitVisible(chromedp.CSS(`#files th:nth-child(2)[aria-sort]`)),
			into(chromedp.AttributeValue(chromedp.CSS(`#files th:nth-child(2)`), "aria-sort"), &sortState),
			shoot("commit"),
		}},
		{"open a file's lines", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`#files a[href$="/files/pkg/a.go"]`)),
			chromedp.WaitVisible(chromedp.CSS(`table.source`)),
			into(chromedp.AttributeValue(chromedp.CSS(`#L4`), "class"), &lineClass),
			shoot("file"),
		}},
		{"open the pull request's uncovered lines", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/ui/repos/acme/widgets/pulls/7"),
			chromedp.WaitVisible(chromedp.CSS(`a[href$="/files/pkg/a.go#L5"]`)),
			into(chromedp.Text(chromedp.CSS(`p.big`)), &patch),
			shoot("pull"),
		}},
		{"open the job", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/ui/jobs"),
			chromedp.WaitVisible(chromedp.CSS(`table a[href^="/ui/jobs/"]`)),
			chromedp.Click(chromedp.CSS(`table a[href^="/ui/jobs/"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#replay`)),
			shoot("job"),
		}},
		{"replay it", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`#replay`)),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
			into(chromedp.Text(chromedp.CSS(`p.notice`)), &replayed),
			shoot("replay"),
		}},
		{"read the repository on a phone", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/ui/repos/acme/widgets"),
			chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
			chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
			shoot("phone"),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			url, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s (at %s): %v", s.name, url, err)
		}
	}
	if heading != "Mona Lisa" {
		t.Errorf("signed in as %q, want Mona Lisa", heading)
	}
	if sortState.Value != "ascending" {
		t.Errorf("after a click the coverage column is sorted %q, want ascending", sortState.Value)
	}
	if lineClass.Value != "miss" {
		t.Errorf("line 4 of pkg/a.go (the untaken branch) is %q, want it shown missed", lineClass.Value)
	}
	if !strings.Contains(patch, "33.3%") {
		t.Errorf("pull request page says %q, want 33.3%% patch coverage (1 of 3 added lines)", patch)
	}
	if !strings.Contains(replayed, "Replay enqueued") {
		t.Errorf("after replay the page says %q", replayed)
	}
	js := w.jobs()
	if len(js) != 2 || js[0].Attempt+js[1].Attempt != 3 {
		t.Errorf("jobs after replay: %d, want the first and its second attempt", len(js))
	}
	if !strings.Contains(w.auditActions(), patchpanda.AuditJobReplayed) {
		t.Errorf("no %s audit event for the dashboard's replay: %s", patchpanda.AuditJobReplayed, w.auditActions())
	}
	for _, n := range []string{"repositories", "repository", "commit", "file", "pull", "job", "replay", "phone"} {
		if st, err := os.Stat(filepath.Join(shots, n+".png")); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot %s: %v", n, err)
		}
	}
}

// into runs a and keeps its value in dst.
func into[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

var mainSHAs = []string{
	"3f6c1a9e2b7d4c8f0a1e5b9d3c7f2a6e8b0d4f1c",
	"8d2e7b4a1c9f6e3d0b5a8c2f7e4d1a9b6c3f0e5d",
	"c41f9a2d7e5b8c3a6f0d1e9b4c7a2f5e8d3b6a0c",
}

const sourceA = `package a

func Add(a, b int) int {
	if a < 0 {
		return b
	}
	return a + b
}
`

// seedDashboard gives the dashboard something to show: three commits on
// main with rising coverage, a pull request with coverage, and a job.
func seedDashboard(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	if err := w.relay.DB.UpsertInstallation(ctx, instID, "acme", []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 7001}}); err != nil {
		t.Fatal(err)
	}
	_, key, err := w.relay.Keys.Create(ctx, "ci", []patchpanda.Scope{patchpanda.ScopeCoverageWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	ci := httpapi.NewClient(w.relay.URL(), key)
	upload := func(sha, branch string, pr int, hits ...int) {
		t.Helper()
		var b strings.Builder
		b.WriteString(coverage.FilesHeader + "pkg/a.go\npkg/b.go\n" + coverage.ReportHeader + "TN:\nSF:pkg/a.go\n")
		for i, h := range hits {
			fmt.Fprintf(&b, "DA:%d,%d\n", i+3, h)
		}
		b.WriteString("end_of_record\nSF:pkg/b.go\nDA:1,1\nDA:2,1\nend_of_record\n")
		if _, err := ci.UploadCoverage(ctx, httpapi.CoverageUploadOptions{Repo: repo, SHA: sha, Branch: branch, PR: pr, Flag: "unit",
			Retry: httpapi.Retry{Attempts: 1}}, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(b.String())), nil }); err != nil {
			t.Fatalf("upload %s: %v", sha, err)
		}
	}
	for i, sha := range mainSHAs {
		w.gh.SetFile(repo, sha, "pkg/a.go", []byte(sourceA))
		hits := []int{1, 0, 0, 0, 0}
		for j := 1; j <= i+1 && j < 5; j++ {
			hits[j] = 1
		}
		hits[1] = 0 // line 4 (the branch) stays missed
		upload(sha, "main", 0, hits...)
	}
	w.gh.AddPullRequest(repo, githubtest.PullRequest{Number: 7, Title: "Handle negative numbers", Author: "alice", HeadSHA: headSHA, BaseSHA: mainSHAs[2], HeadRef: "feature",
		Files: []githubtest.PullRequestFile{{Filename: "pkg/a.go", Additions: 3, Patch: "@@ -3,2 +3,5 @@\n func Add(a, b int) int {\n+\tif a < 0 {\n+\t\treturn b\n+\t}\n \treturn a + b"}}})
	w.gh.SetFile(repo, headSHA, "pkg/a.go", []byte(sourceA))
	upload(headSHA, "feature", 7, 1, 1, 0, 0, 1)
	w.gh.SetFile(repo, headSHA, ".testbot.yml", []byte("version: 1\n"))
	w.comment("alice", "/patchpanda generate")
	w.settle()
	// A worker ran the job: its events and cost show on the job's page.
	m := w.receive()
	cost := 0.42
	for _, ev := range []patchpanda.WorkerEvent{
		{Type: "started"},
		{Type: "progress", Message: "wrote 3 tests for pkg/a.go"},
		{Type: "succeeded", Message: "opened a pull request with the tests", CostUSD: &cost},
	} {
		if _, err := w.report(m.ID, ev); err != nil {
			t.Fatalf("report %s: %v", ev.Type, err)
		}
	}
}
