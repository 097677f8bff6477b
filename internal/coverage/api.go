package coverage

import "time"

// The shapes of the relay's coverage API (docs/coverage.md): what an upload
// sends and gets back, and the stored reports, commits and pull requests
// the relay serves. The relay's service (internal/coveragesvc) returns
// them, its HTTP layer (internal/httpapi) encodes them as they are, and
// ppctl decodes them, so all three share one definition.

// The body of an upload (POST /api/coverage) is the raw report. It may start
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

// UploadParams describe one upload: the query parameters of
// POST /api/coverage, as the relay's handler read them.
type UploadParams struct {
	Repo   string // owner/name
	SHA    string
	Branch string
	PR     int
	Flag   string
	Format string // "" detects it from the content
	Root   string // stripped from the front of report paths
	Prefix string // put in front of relative report paths
	CIJob  string
	// Module is the Go module path (module=), for Go coverprofiles when
	// the relay cannot read go.mod itself; ModuleDir (module_dir=) is the
	// repository directory holding that go.mod.
	Module    string
	ModuleDir string
	// ContentEncoding is the request's Content-Encoding ("" or "gzip").
	ContentEncoding string
}

// ListParams are the filters of a list of stored reports
// (GET /api/coverage), with keyset pagination: Cursor is the Next of the
// previous page, "" for the first.
type ListParams struct {
	Repo, Branch, SHA, Flag string
	Cursor                  string
	Limit                   int
}

// Upload is the answer to an upload: the stored report's id and where it
// can be read, what was mapped, and whether it repeated an earlier upload
// (Duplicate, with the first upload's id).
type Upload struct {
	ID         int64  `json:"id"`
	URL        string `json:"url"`
	Repository string `json:"repository"`
	SHA        string `json:"sha"`
	Branch     string `json:"branch,omitempty"`
	PR         int    `json:"pr,omitempty"`
	Flag       string `json:"flag,omitempty"`
	Format     string `json:"format"`
	Duplicate  bool   `json:"duplicate"`
	Totals     Totals `json:"totals"`
	// Mapped counts report files matched to repository paths; Unmapped
	// lists the report paths that matched none (at most 100 of them).
	Mapped   int      `json:"mapped"`
	Unmapped []string `json:"unmapped,omitempty"`
	// UnmappedCount is the number of unmapped files, listed or not.
	UnmappedCount int       `json:"unmapped_count"`
	CreatedAt     time.Time `json:"created_at"`
}

// StoredReport is one stored report (an upload: a session) in lists and
// on its own (GET /api/coverage/{id}), which adds Files.
type StoredReport struct {
	ID         int64     `json:"id"`
	Repository string    `json:"repository"`
	SHA        string    `json:"sha"`
	Branch     string    `json:"branch,omitempty"`
	PR         int       `json:"pr,omitempty"`
	Flag       string    `json:"flag,omitempty"`
	Format     string    `json:"format"`
	CIJob      string    `json:"ci_job,omitempty"`
	Totals     Totals    `json:"totals"`
	CreatedAt  time.Time `json:"created_at"`
	// Files holds per-file totals; asked with lines, each also has its
	// per-line hits, one page at a time.
	Files []StoredFile `json:"files,omitempty"`
	// Next is the cursor of the next page of lines; empty on the last. A
	// file too long for one page continues, under the same path, on the
	// next.
	Next string `json:"next,omitempty"`
}

// StoredFile is one file of a stored report, or of a commit's merged
// coverage.
type StoredFile struct {
	Path   string `json:"path"`
	Totals Totals `json:"totals"`
	Lines  []Line `json:"lines,omitempty"`
}

// List is one page of stored reports (GET /api/coverage), and for each
// commit listed its merged coverage and the change against its base.
type List struct {
	Reports []StoredReport `json:"reports"`
	Commits []Commit       `json:"commits,omitempty"`
	Next    string         `json:"next,omitempty"`
}

// Commit is a commit's coverage merged over its sessions, compared with
// its base commit when that has coverage.
type Commit struct {
	Repository string   `json:"repository"`
	SHA        string   `json:"sha"`
	Sessions   int      `json:"sessions"`
	Flags      []string `json:"flags,omitempty"`
	Totals     Totals   `json:"totals"`
	BaseSHA    string   `json:"base_sha,omitempty"`
	// Delta is Totals.Percent minus the base's, when the base has coverage.
	Delta *float64 `json:"delta,omitempty"`
}

// CommitFiles is a commit's coverage merged over its uploads, with each
// file's totals (GET /api/coverage/commits/{owner}/{name}/{sha}).
type CommitFiles struct {
	Commit
	Files []StoredFile `json:"files"` // sorted by path, without lines
}

// FileView is one file's merged line hits at a commit and, when GitHub
// could serve it through the App, its source at that commit
// (GET /api/coverage/commits/{owner}/{name}/{sha}/file).
type FileView struct {
	Repository string `json:"repository"`
	SHA        string `json:"sha"`
	Path       string `json:"path"`
	Totals     Totals `json:"totals"`
	Lines      []Line `json:"lines"`
	// Source is the file's text at SHA, one string per line; absent with
	// SourceError saying why when it could not be fetched.
	Source      []string `json:"source,omitempty"`
	SourceError string   `json:"source_error,omitempty"`
}

// PullRequest is the coverage of the newest commit uploaded for a pull
// request, and the patch coverage of the lines it adds
// (GET /api/coverage/pulls/{owner}/{name}/{number}).
type PullRequest struct {
	Repository string `json:"repository"`
	Number     int    `json:"number"`
	Title      string `json:"title,omitempty"`
	State      string `json:"state,omitempty"` // "open" or "closed"; absent when GitHub was not asked
	HTMLURL    string `json:"html_url,omitempty"`
	Commit     Commit `json:"commit"`
	// Patch is absent with PatchError saying why when the changed files
	// could not be listed.
	Patch      *Patch `json:"patch,omitempty"`
	PatchError string `json:"patch_error,omitempty"`
}
