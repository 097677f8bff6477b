package coverage

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cov "github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/ghenv"
	"github.com/patchpanda/patchpanda/internal/httpapi"
)

// maxDiffBytes bounds the pull request diff read for patch coverage.
const maxDiffBytes = 64 << 20

// actionsOutcome computes what the GitHub Action reports after an upload:
// the reports merged and mapped to repository paths as the relay maps
// them, the patch coverage of the pull request's added lines (from `git
// diff` between its base and head, when the base commit was fetched), and
// the paths that match no file. It returns an error naming the report
// that cannot be read.
func actionsOutcome(ctx context.Context, d deps, co checkout, o httpapi.CoverageUploadOptions, act ghenv.Actions, paths, formats []string, results []uploaded) (ghenv.Outcome, error) {
	var out ghenv.Outcome
	for _, r := range results {
		if r.URL != "" {
			out.ReportURL = r.URL
		}
	}
	var mapper *cov.Mapper
	if co.top != "" {
		files, _ := d.git(ctx, "-C", co.top, "ls-files", "-z")
		opts := cov.MapperOptions{Root: o.Root, Prefix: o.Prefix}
		if gomod, err := os.ReadFile(filepath.Join(co.top, "go.mod")); err == nil {
			opts.ModulePath, _ = cov.ModulePath(gomod)
		}
		mapper = cov.NewMapper(strings.Split(strings.TrimRight(string(files), "\x00"), "\x00"), opts)
	}
	var reports []*cov.Report
	for i, p := range paths {
		f, err := openReport(p)
		if err != nil {
			return out, err
		}
		r, closeZ, err := plain(f)
		if err != nil {
			f.Close()
			return out, fmt.Errorf("%s: %w", p, err)
		}
		rep, _, err := cov.Collect(r, cov.Format(formats[i]))
		closeZ()
		f.Close()
		if err != nil {
			return out, fmt.Errorf("%s: %w", p, err)
		}
		if mapper != nil {
			var unmapped []string
			rep, unmapped = mapper.MapReport(rep)
			out.Unmapped = append(out.Unmapped, unmapped...)
		}
		reports = append(reports, rep)
	}
	merged := cov.Merge(reports...)
	for _, f := range merged.Files {
		out.Totals = out.Totals.Add(cov.FileTotals(f))
	}
	if act.PR == 0 {
		return out, nil
	}
	if act.BaseSHA == "" || co.top == "" {
		out.PatchProblem = "the event names no base commit"
		return out, nil
	}
	diff, err := d.git(ctx, "-C", co.top, "diff", "--no-color", "--no-ext-diff", "--unified=0", "--no-renames", act.BaseSHA+"..."+o.SHA)
	if err != nil {
		out.PatchProblem = "the base commit is not in the checkout: check out with `fetch-depth: 0`"
		return out, nil
	}
	if len(diff) > maxDiffBytes {
		out.PatchProblem = fmt.Sprintf("the diff is over %d MB", maxDiffBytes>>20)
		return out, nil
	}
	p, err := cov.PatchCoverage(merged, splitDiff(string(diff)))
	if err != nil {
		out.PatchProblem = err.Error()
		return out, nil
	}
	out.Patch = &p
	return out, nil
}

// splitDiff turns `git diff` output into one change per file: its path in
// the new commit and its hunks. Deleted files are left out.
func splitDiff(diff string) []cov.FileChange {
	var out []cov.FileChange
	var cur *cov.FileChange
	var hunks strings.Builder
	flush := func() {
		if cur != nil && cur.Path != "" {
			cur.Patch = hunks.String()
			out = append(out, *cur)
		}
		cur = nil
		hunks.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(diff))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "diff --git "):
			flush()
			cur = &cov.FileChange{}
		case cur == nil:
		case hunks.Len() == 0 && strings.HasPrefix(line, "+++ "):
			if p, ok := strings.CutPrefix(line, "+++ b/"); ok {
				cur.Path = p
			}
		case strings.HasPrefix(line, "@@") || hunks.Len() > 0:
			hunks.WriteString(line)
			hunks.WriteByte('\n')
		}
	}
	flush()
	return out
}
