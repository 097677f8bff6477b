package ghenv

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/patchpanda/patchpanda/internal/coverage"
)

// Caps on what one upload writes into a workflow run: GitHub shows at most
// 10 warning and 10 error annotations per step, and a long summary buries
// the point.
const (
	MaxUnmappedAnnotations  = 5
	MaxUncoveredAnnotations = 10
	MaxSummaryFiles         = 10
)

// Outcome is what the GitHub Action reports about an upload.
type Outcome struct {
	// Totals is the coverage of every report uploaded, merged.
	Totals coverage.Totals
	// Patch is the coverage of the lines the pull request adds; nil when
	// not a pull request or when the base commit is not in the checkout.
	Patch *coverage.Patch
	// PatchProblem says why Patch is nil on a pull request.
	PatchProblem string
	// ReportURL is where the relay shows the commit's coverage.
	ReportURL string
	// Unmapped lists report paths that match no file of the repository.
	Unmapped []string
}

// Publish writes o into the workflow run whose environment getenv reads:
// the step outputs coverage, patch-coverage and report-url (GITHUB_OUTPUT),
// a job summary (GITHUB_STEP_SUMMARY), and warning annotations, capped, on
// stdout for unmapped paths and for uncovered added lines. Failures to
// write a file become warnings on stdout.
func Publish(getenv func(string) string, stdout io.Writer, o Outcome) {
	a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	// go-githubactions panics when a file command cannot be written (or
	// its variable is unset, outside a runner); a missing output must not
	// fail an upload that went through.
	fileCommand := func(env string, fn func()) {
		if getenv(env) == "" {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				a.Warningf("could not write %s: %v", env, r)
			}
		}()
		fn()
	}
	fileCommand("GITHUB_OUTPUT", func() {
		a.SetOutput("coverage", pct(o.Totals.Percent))
		if o.Patch != nil && o.Patch.Coverable > 0 {
			a.SetOutput("patch-coverage", pct(o.Patch.Percent))
		}
		if o.ReportURL != "" {
			a.SetOutput("report-url", o.ReportURL)
		}
	})
	fileCommand("GITHUB_STEP_SUMMARY", func() { a.AddStepSummary(summary(o)) })
	for i, p := range o.Unmapped {
		if i == MaxUnmappedAnnotations {
			a.Warningf("%d more report paths match no file of the repository", len(o.Unmapped)-i)
			break
		}
		a.WithFieldsMap(map[string]string{"title": "Coverage path not in the repository"}).
			Warningf("%s matches no file of the repository: its coverage is not shown (set root or prefix)", p)
	}
	if o.Patch == nil {
		return
	}
	n := 0
	for _, f := range o.Patch.LeastCovered(-1) {
		for _, r := range coverage.Runs(f.Missed) {
			if n == MaxUncoveredAnnotations {
				a.Warningf("more added lines are not covered by tests: see the job summary")
				return
			}
			n++
			fields := map[string]string{"file": f.Path, "line": strconv.Itoa(r[0]), "title": "Not covered by tests"}
			msg := fmt.Sprintf("Added line %d is not covered by tests", r[0])
			if r[1] > r[0] {
				fields["endLine"] = strconv.Itoa(r[1])
				msg = fmt.Sprintf("Added lines %d–%d are not covered by tests", r[0], r[1])
			}
			a.WithFieldsMap(fields).Warningf("%s", msg)
		}
	}
}

func pct(p float64) string { return strconv.FormatFloat(p, 'f', 2, 64) }

// summary is the job summary's Markdown.
func summary(o Outcome) string {
	var b strings.Builder
	t := o.Totals
	b.WriteString("### PatchPanda coverage\n\n")
	b.WriteString("| | covered | total | % |\n| --- | ---: | ---: | ---: |\n")
	fmt.Fprintf(&b, "| lines | %d | %d | %s |\n", t.LinesHit, t.LinesFound, ratio(t.LinesHit, t.LinesFound))
	if t.BranchesFound > 0 {
		fmt.Fprintf(&b, "| branches | %d | %d | %s |\n", t.BranchesHit, t.BranchesFound, ratio(t.BranchesHit, t.BranchesFound))
	}
	fmt.Fprintf(&b, "\n**Coverage: %s%%** over %d files", pct(t.Percent), t.Files)
	if o.ReportURL != "" {
		fmt.Fprintf(&b, " · [report](%s)", o.ReportURL)
	}
	b.WriteString("\n\n")
	switch {
	case o.Patch != nil && o.Patch.Coverable > 0:
		p := o.Patch
		fmt.Fprintf(&b, "**Patch coverage: %s%%** (%d of %d coverable added lines)\n\n", pct(p.Percent), p.Covered, p.Coverable)
		if least := p.LeastCovered(MaxSummaryFiles); len(least) > 0 {
			b.WriteString("Files with the most uncovered added lines:\n\n| file | uncovered | covered | % |\n| --- | ---: | ---: | ---: |\n")
			for _, f := range least {
				fmt.Fprintf(&b, "| `%s` | %d | %d/%d | %s |\n", cell(f.Path), f.Coverable-f.Covered, f.Covered, f.Coverable, pct(f.Percent))
			}
			b.WriteString("\n")
		}
	case o.Patch != nil:
		b.WriteString("Patch coverage: the pull request adds no line the reports cover.\n\n")
	case o.PatchProblem != "":
		fmt.Fprintf(&b, "Patch coverage: not computed (%s).\n\n", o.PatchProblem)
	}
	if len(o.Unmapped) > 0 {
		fmt.Fprintf(&b, "%d report path(s) match no file of the repository; set `root` or `prefix`.\n", len(o.Unmapped))
	}
	return b.String()
}

func ratio(hit, found int64) string {
	if found == 0 {
		return "-"
	}
	return pct(float64(hit) * 100 / float64(found))
}

// cell keeps a path from breaking the Markdown table.
func cell(s string) string { return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s) }

// ErrorAnnotation writes msg as an ::error annotation on stdout when
// getenv is a GitHub Actions job's environment, so that a failed ppctl
// step says why on the run's page; elsewhere it does nothing.
func ErrorAnnotation(getenv func(string) string, stdout io.Writer, msg string) {
	if !InActions(getenv) {
		return
	}
	githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout)).
		WithFieldsMap(map[string]string{"title": "PatchPanda"}).Errorf("%s", msg)
}
