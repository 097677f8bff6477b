package httpapi

import (
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
)

// The wire contract of coverage uploads, shared by the relay and ppctl.
//
// POST /api/coverage?repo=OWNER/NAME&sha=SHA[&branch=B][&pr=N][&flag=F][&format=F][&root=DIR][&prefix=DIR][&ci_job=ID]
//
// The body is the raw report (Content-Encoding: gzip allowed). It may start
// with the repository's file list, so that report paths can be mapped:
//
//	# patchpanda-files v1
//	path/one.go
//	path/two.go
//	# patchpanda-report
//	<the report>
const (
	// FilesHeader opens the optional file-list block of an upload.
	FilesHeader = "# patchpanda-files v1\n"
	// ReportHeader ends the file-list block; the report follows.
	ReportHeader = "# patchpanda-report\n"
)

// CoverageUpload answers POST /api/coverage: 201 for a new report, 200 for
// an identical re-upload (Duplicate, and the first upload's id).
type CoverageUpload struct {
	ID         int64           `json:"id"`
	URL        string          `json:"url"`
	Repository string          `json:"repository"`
	SHA        string          `json:"sha"`
	Branch     string          `json:"branch,omitempty"`
	PR         int             `json:"pr,omitempty"`
	Flag       string          `json:"flag,omitempty"`
	Format     string          `json:"format"`
	Duplicate  bool            `json:"duplicate"`
	Totals     coverage.Totals `json:"totals"`
	// Mapped counts report files matched to repository paths; Unmapped
	// lists the report paths that matched none (at most 100 of them).
	Mapped   int      `json:"mapped"`
	Unmapped []string `json:"unmapped,omitempty"`
	// UnmappedCount is the number of unmapped files, listed or not.
	UnmappedCount int       `json:"unmapped_count"`
	CreatedAt     time.Time `json:"created_at"`
}

// CoverageReport is one stored report (an upload: a session) in lists and
// in GET /api/coverage/{id}, which adds Files.
type CoverageReport struct {
	ID         int64           `json:"id"`
	Repository string          `json:"repository"`
	SHA        string          `json:"sha"`
	Branch     string          `json:"branch,omitempty"`
	PR         int             `json:"pr,omitempty"`
	Flag       string          `json:"flag,omitempty"`
	Format     string          `json:"format"`
	CIJob      string          `json:"ci_job,omitempty"`
	Totals     coverage.Totals `json:"totals"`
	CreatedAt  time.Time       `json:"created_at"`
	// Files holds per-file totals (GET /api/coverage/{id}); with ?lines=1
	// each also has its per-line hits, one page at a time.
	Files []CoverageFile `json:"files,omitempty"`
	// Next is the cursor of the next page of lines (?lines=1&cursor=…);
	// empty on the last. A file too long for one page continues, under the
	// same path, on the next.
	Next string `json:"next,omitempty"`
}

// CoverageFile is one file of a stored report.
type CoverageFile struct {
	Path   string          `json:"path"`
	Totals coverage.Totals `json:"totals"`
	Lines  []coverage.Line `json:"lines,omitempty"`
}

// CoverageList answers GET /api/coverage (filters repo, branch, sha, flag;
// keyset pagination with cursor): the reports, and for each commit listed
// its merged coverage and the change against its base.
type CoverageList struct {
	Reports []CoverageReport `json:"reports"`
	Commits []CommitCoverage `json:"commits,omitempty"`
	Next    string           `json:"next,omitempty"`
}

// CommitCoverage is a commit's coverage merged over its sessions, compared
// with its base commit when that has coverage.
type CommitCoverage struct {
	Repository string          `json:"repository"`
	SHA        string          `json:"sha"`
	Sessions   int             `json:"sessions"`
	Flags      []string        `json:"flags,omitempty"`
	Totals     coverage.Totals `json:"totals"`
	BaseSHA    string          `json:"base_sha,omitempty"`
	// Delta is Totals.Percent minus the base's, when the base has coverage.
	Delta *float64 `json:"delta,omitempty"`
}
