package feedback

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CoverageCheckName is the check run that reports a commit's coverage.
const CoverageCheckName = "PatchPanda / coverage"

// CoverageMarker is the hidden HTML comment that finds the sticky coverage
// comment of a pull request, so it is edited and never posted twice.
const CoverageMarker = "<!-- patchpanda:coverage -->"

// The coverage action types.
const (
	ActionCoverageComment = "coverage_comment"
	ActionCoverageCheck   = "coverage_check"
)

// CoverageRef names the commit a coverage action reports on and the
// targets it is held to; what it says is rendered from the database when
// the action is carried out, so carrying it out twice changes nothing.
type CoverageRef struct {
	SHA string `json:"sha"`
	// Project and Patch are the targets in percent (nil: none).
	Project *float64 `json:"project,omitempty"`
	Patch   *float64 `json:"patch,omitempty"`
}

// CoverageComment returns the action of writing (or editing) the sticky
// coverage comment on pull request pr for repo@ref.SHA.
func CoverageComment(inst int64, repo string, pr int, ref CoverageRef) Action {
	return Action{Type: ActionCoverageComment, InstallationID: inst, Repository: repo, Number: pr, Coverage: &ref}
}

// CoverageCheck returns the action of bringing the "PatchPanda / coverage"
// check run of repo@ref.SHA up to date; pr (0 for none) gives the changed
// lines for patch coverage.
func CoverageCheck(inst int64, repo string, pr int, ref CoverageRef) Action {
	return Action{Type: ActionCoverageCheck, InstallationID: inst, Repository: repo, Number: pr, Coverage: &ref}
}

// coverageGitHub is the part of the GitHub client coverage feedback needs
// beyond GitHub.
type coverageGitHub interface {
	Comments(ctx context.Context, installationID int64, owner, repo string, number int) ([]githubapp.Comment, error)
	UpdateComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, body string) (*githubapp.Comment, error)
	PullRequestFiles(ctx context.Context, installationID int64, owner, repo string, number int) ([]githubapp.PullRequestFile, error)
}

// CoverageSummary is what the comment and the check run show.
type CoverageSummary struct {
	Repository string
	SHA        string
	Sessions   int
	Flags      []string
	Project    coverage.Totals
	// BaseSHA is the commit compared with; Diff is set when it has coverage.
	BaseSHA string
	Diff    *coverage.Diff
	// Patch is set when a pull request gave the changed lines.
	Patch   *coverage.Patch
	Targets CoverageRef
}

// Failures returns why the summary misses its targets, empty when it meets
// them. A patch with no coverable changed line meets any patch target.
func (c CoverageSummary) Failures() []string {
	var out []string
	if t := c.Targets.Project; t != nil && c.Project.Percent < *t {
		out = append(out, fmt.Sprintf("project coverage %s is below the target %s", pct(c.Project.Percent), pct(*t)))
	}
	if t := c.Targets.Patch; t != nil && c.Patch != nil && c.Patch.Coverable > 0 && c.Patch.Percent < *t {
		out = append(out, fmt.Sprintf("patch coverage %s is below the target %s", pct(c.Patch.Percent), pct(*t)))
	}
	return out
}

// Delta is head's coverage minus base's, in percentage points, rounded as
// coverage.Compare rounds it.
func Delta(base, head coverage.Totals) float64 {
	return math.Round((head.Percent-base.Percent)*1e9) / 1e9
}

// coverageSummary renders the DB state of the action's commit. It reads
// the stored merged totals and, for patch coverage, only the merged files
// the pull request changes: never every report of the commit.
func (s *Sender) coverageSummary(ctx context.Context, a Action, owner, name string) (*CoverageSummary, error) {
	if a.Coverage == nil || a.Coverage.SHA == "" {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "feedback: %s action without a commit", a.Type)
	}
	head, err := s.DB.CommitCoverage(ctx, a.Repository, a.Coverage.SHA)
	if err != nil {
		return nil, err
	}
	sum := &CoverageSummary{Repository: a.Repository, SHA: a.Coverage.SHA, Sessions: len(head.Sessions), Flags: head.Flags(),
		Project: head.Totals, BaseSHA: head.BaseSHA(), Targets: *a.Coverage}
	if sum.BaseSHA != "" {
		base, err := s.DB.CommitCoverage(ctx, a.Repository, sum.BaseSHA)
		if err != nil {
			return nil, err
		}
		if len(base.Sessions) > 0 {
			sum.Diff = &coverage.Diff{Base: base.Totals, Head: head.Totals, Delta: Delta(base.Totals, head.Totals)}
		}
	}
	if a.Number > 0 {
		gh, ok := s.GitHub.(coverageGitHub)
		if !ok {
			return nil, patchpanda.Errorf(patchpanda.EINTERNAL, "feedback: the GitHub client cannot list pull request files")
		}
		files, err := gh.PullRequestFiles(ctx, a.InstallationID, owner, name, a.Number)
		if err != nil {
			return nil, err
		}
		changes := make([]coverage.FileChange, 0, len(files))
		paths := make([]string, 0, len(files))
		for _, f := range files {
			if f.Status == "removed" {
				continue
			}
			changes = append(changes, coverage.FileChange{Path: f.Filename, Patch: f.Patch})
			paths = append(paths, f.Filename)
		}
		changed, err := s.DB.CommitFiles(ctx, a.Repository, a.Coverage.SHA, paths)
		if err != nil {
			return nil, err
		}
		p, err := coverage.PatchCoverage(changed, changes)
		if err != nil {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "feedback: pull request %d: %v", a.Number, err)
		}
		sum.Patch = &p
	}
	return sum, nil
}

// sendCoverageComment writes the sticky comment, editing the one that
// carries CoverageMarker when there is one.
func (s *Sender) sendCoverageComment(ctx context.Context, a Action, owner, name string) error {
	gh, ok := s.GitHub.(coverageGitHub)
	if !ok {
		return patchpanda.Errorf(patchpanda.EINTERNAL, "feedback: the GitHub client cannot edit comments")
	}
	sum, err := s.coverageSummary(ctx, a, owner, name)
	if err != nil {
		return err
	}
	body := CoverageCommentBody(*sum)
	comments, err := gh.Comments(ctx, a.InstallationID, owner, name, a.Number)
	if err != nil {
		return err
	}
	for _, c := range comments {
		if strings.Contains(c.Body, CoverageMarker) && (c.AuthorType == "" || c.AuthorType == "Bot") {
			if c.Body == body {
				return nil
			}
			_, err := gh.UpdateComment(ctx, a.InstallationID, owner, name, c.ID, body)
			return err
		}
	}
	_, err = s.GitHub.CreateComment(ctx, a.InstallationID, owner, name, a.Number, body)
	return err
}

// sendCoverageCheck creates the commit's coverage check run, or updates the
// one recorded for it.
func (s *Sender) sendCoverageCheck(ctx context.Context, a Action, owner, name string) error {
	sum, err := s.coverageSummary(ctx, a, owner, name)
	if err != nil {
		return err
	}
	opts := CoverageCheckRun(*sum)
	id, err := s.DB.CoverageCheckRun(ctx, a.Repository, sum.SHA)
	if err != nil {
		return err
	}
	if id != 0 {
		_, err = s.GitHub.UpdateCheckRun(ctx, a.InstallationID, owner, name, id, opts)
		return err
	}
	cr, err := s.GitHub.CreateCheckRun(ctx, a.InstallationID, owner, name, opts)
	if err != nil {
		return err
	}
	if cr == nil || cr.ID == 0 { // no GitHub App configured: logged, not made
		return nil
	}
	return s.DB.SetCoverageCheckRun(ctx, a.Repository, sum.SHA, cr.ID)
}

// CoverageCheckRun returns the completed check run showing sum: success
// when it meets its targets, failure otherwise.
func CoverageCheckRun(sum CoverageSummary) githubapp.CheckRunOptions {
	opts := githubapp.CheckRunOptions{Name: CoverageCheckName, HeadSHA: sum.SHA, Status: "completed", Conclusion: "success"}
	title := "Project " + pct(sum.Project.Percent)
	if sum.Patch != nil && sum.Patch.Coverable > 0 {
		title += ", patch " + pct(sum.Patch.Percent)
	}
	if fails := sum.Failures(); len(fails) > 0 {
		opts.Conclusion = "failure"
		title = "Below target: " + strings.Join(fails, "; ")
	}
	opts.Output = &githubapp.CheckRunOutput{Title: title, Summary: summaryTable(sum)}
	if sum.Patch != nil {
		for _, f := range sum.Patch.LeastCovered(50) {
			for _, r := range coverage.Runs(f.Missed) {
				msg := fmt.Sprintf("Lines %d-%d were added but are not covered by tests.", r[0], r[1])
				if r[0] == r[1] {
					msg = fmt.Sprintf("Line %d was added but is not covered by tests.", r[0])
				}
				opts.Output.Annotations = append(opts.Output.Annotations, githubapp.Annotation{
					Path: f.Path, StartLine: r[0], EndLine: r[1], Level: "warning", Title: "Not covered", Message: msg,
				})
				if len(opts.Output.Annotations) >= 50 {
					return opts
				}
			}
		}
	}
	return opts
}

// CoverageCommentBody returns the sticky comment for sum, starting with
// CoverageMarker.
func CoverageCommentBody(sum CoverageSummary) string {
	var b strings.Builder
	b.WriteString(CoverageMarker + "\n### PatchPanda coverage\n\n")
	if fails := sum.Failures(); len(fails) > 0 {
		fmt.Fprintf(&b, "**Below target:** %s.\n\n", strings.Join(fails, "; "))
	}
	b.WriteString(summaryTable(sum))
	if sum.Patch != nil {
		if least := sum.Patch.LeastCovered(5); len(least) > 0 {
			b.WriteString("\n**Least covered changed files**\n\n| file | patch coverage | lines not covered |\n| --- | ---: | --- |\n")
			for _, f := range least {
				fmt.Fprintf(&b, "| `%s` | %s (%d/%d) | %s |\n", f.Path, pct(f.Percent), f.Covered, f.Coverable, lineList(f.Missed, 10))
			}
		}
	}
	fmt.Fprintf(&b, "\n<sub>Commit `%s`, %d upload%s", short(sum.SHA), sum.Sessions, plural(sum.Sessions))
	if len(sum.Flags) > 0 {
		fmt.Fprintf(&b, " (flags: %s)", strings.Join(sum.Flags, ", "))
	}
	b.WriteString(". This comment is updated as coverage arrives.</sub>\n")
	return b.String()
}

func summaryTable(sum CoverageSummary) string {
	var b strings.Builder
	b.WriteString("| | coverage | change | target |\n| --- | ---: | ---: | ---: |\n")
	change := "no base coverage"
	if sum.Diff != nil {
		change = fmt.Sprintf("%s vs `%s`", points(sum.Diff.Delta), short(sum.BaseSHA))
	}
	fmt.Fprintf(&b, "| Project | %s (%d/%d lines) | %s | %s |\n", pct(sum.Project.Percent), sum.Project.LinesHit, sum.Project.LinesFound, change, target(sum.Targets.Project))
	if sum.Patch != nil {
		cov := "no coverable changed lines"
		if sum.Patch.Coverable > 0 {
			cov = fmt.Sprintf("%s (%d/%d changed lines)", pct(sum.Patch.Percent), sum.Patch.Covered, sum.Patch.Coverable)
		}
		fmt.Fprintf(&b, "| Patch | %s | | %s |\n", cov, target(sum.Targets.Patch))
	}
	return b.String()
}

func pct(p float64) string { return strconv.FormatFloat(p, 'f', 2, 64) + "%" }

func points(d float64) string {
	s := strconv.FormatFloat(d, 'f', 2, 64)
	if d >= 0 {
		s = "+" + s
	}
	return s + " pts"
}

func target(t *float64) string {
	if t == nil {
		return "none"
	}
	return pct(*t)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func lineList(lines []int, limit int) string {
	var parts []string
	for _, r := range coverage.Runs(lines) {
		if len(parts) == limit {
			parts = append(parts, "…")
			break
		}
		if r[0] == r[1] {
			parts = append(parts, strconv.Itoa(r[0]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
	}
	return strings.Join(parts, ", ")
}
