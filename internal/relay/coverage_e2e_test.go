package relay_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// TestCoverageOnAPullRequestEndToEnd uploads coverage for PR #7's head from
// several CI jobs and checks what GitHub shows: nothing until the expected
// uploads have arrived, then one sticky comment (edited, never duplicated)
// and a "PatchPanda / coverage" check run held to the patch target.
func TestCoverageOnAPullRequestEndToEnd(t *testing.T) {
	eachDB(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, "db", dbURL)
		ctx := context.Background()
		if err := w.relay.DB.UpsertInstallation(ctx, instID, "acme", []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 7001}}); err != nil {
			t.Fatal(err)
		}
		w.gh.SetFile(repo, headSHA, ".testbot.yml", []byte("version: 1\ncoverage:\n  uploads: 2\n  targets:\n    patch: 60\n"))
		w.gh.AddPullRequest(repo, githubtest.PullRequest{Number: 7, Author: "alice", HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "feature",
			Files: []githubtest.PullRequestFile{
				{Filename: "pkg/a.go", Status: "added", Additions: 4, Patch: "@@ -0,0 +1,4 @@\n+one\n+two\n+three\n+four"},
				{Filename: "README.md", Additions: 1, Patch: "@@ -1,1 +1,2 @@\n title\n+more"},
			}})
		_, key, err := w.relay.Keys.Create(ctx, "ci", []patchpanda.Scope{patchpanda.ScopeCoverageWrite}, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		ci := httpapi.NewClient(w.relay.URL(), key)
		upload := func(flag string, hits ...int) coverage.Upload {
			t.Helper()
			var b strings.Builder
			b.WriteString(coverage.FilesHeader + "pkg/a.go\nREADME.md\n" + coverage.ReportHeader + "TN:\nSF:/runner/work/widgets/pkg/a.go\n")
			for i, h := range hits {
				fmt.Fprintf(&b, "DA:%d,%d\n", i+1, h)
			}
			b.WriteString("end_of_record\n")
			res, err := ci.UploadCoverage(ctx, httpapi.CoverageUploadOptions{Repo: repo, SHA: headSHA, Branch: "feature", PR: 7, Flag: flag,
				Retry: httpapi.Retry{Attempts: 1}}, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(b.String())), nil })
			if err != nil {
				t.Fatalf("upload %s: %v", flag, err)
			}
			if res.Mapped != 1 || res.UnmappedCount != 0 {
				t.Fatalf("upload %s mapped %d, unmapped %v", flag, res.Mapped, res.Unmapped)
			}
			return res
		}
		coverageChecks := func() []githubtest.CheckRun {
			var out []githubtest.CheckRun
			for _, cr := range w.checkRuns() {
				if cr.Name == feedback.CoverageCheckName {
					out = append(out, cr)
				}
			}
			return out
		}
		sticky := func() []githubtest.Comment {
			var out []githubtest.Comment
			for _, c := range w.gh.Comments(repo, 7) {
				if strings.Contains(c.Body, feedback.CoverageMarker) {
					out = append(out, c)
				}
			}
			return out
		}

		upload("unit", 1, 0, 0, 0)
		w.settle()
		if n, m := len(sticky()), len(coverageChecks()); n != 0 || m != 0 {
			t.Fatalf("after 1 of 2 uploads: %d comments and %d check runs, want none", n, m)
		}

		upload("integration", 0, 1, 0, 0) // merged: lines 1 and 2 of 4 → 50%
		w.settle()
		comments, checks := sticky(), coverageChecks()
		if len(comments) != 1 || len(checks) != 1 {
			t.Fatalf("after 2 of 2 uploads: %d comments and %d check runs, want 1 and 1", len(comments), len(checks))
		}
		if !strings.Contains(comments[0].Body, "50.00% (2/4 changed lines)") || !strings.Contains(comments[0].Body, "`pkg/a.go`") {
			t.Errorf("comment does not show 50%% patch coverage and the least covered file:\n%s", comments[0].Body)
		}
		if cr := checks[0]; cr.Status != "completed" || cr.Conclusion != "failure" || cr.HeadSHA != headSHA ||
			!strings.Contains(cr.Output.Title, "patch coverage 50.00% is below the target 60.00%") {
			t.Errorf("check run %s/%s on %s: %q; want a failure below the 60%% patch target", cr.Status, cr.Conclusion, cr.HeadSHA, cr.Output.Title)
		}

		upload("e2e", 0, 0, 1, 0) // a late extra upload: 75%
		w.settle()
		comments, checks = sticky(), coverageChecks()
		if len(comments) != 1 || comments[0].Edits != 1 || !strings.Contains(comments[0].Body, "75.00% (3/4 changed lines)") {
			t.Errorf("after a third upload: %d sticky comments (edits %v), want the same one edited to 75%%", len(comments), comments)
		}
		if len(checks) != 1 || checks[0].Conclusion != "success" || !strings.Contains(checks[0].Output.Title, "patch 75.00%") {
			t.Errorf("check runs after a third upload: %+v; want the one run updated to success", checks)
		}
	})
}
