package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CoverageReport is one stored coverage upload (a session of a commit).
type CoverageReport struct {
	ID             int64
	Repository     string // owner/name
	SHA            string
	Branch         string
	PR             int
	Flag           string
	Format         string
	CIJob          string
	ContentSHA256  string
	BlobKey        string // "" until the raw upload is stored
	BaseSHA        string // the commit to compare with, "" when unknown
	InstallationID int64  // 0 when the App is not installed on Repository
	// RepositoryID is GitHub's id of Repository, 0 when the relay does not
	// know it; the report's series is the id when known (see seriesKey).
	RepositoryID int64
	// Totals are the report's own totals, as the coverage tool counts them.
	Totals        coverage.Totals
	Mapped        int
	UnmappedCount int
	Unmapped      []string // at most 100
	CheckRunID    int64
	UploadedBy    string
	CreatedAt     time.Time
}

// CoverageFilter selects stored reports, newest first.
type CoverageFilter struct {
	Repository, Branch, SHA, Flag string
	// Before is the keyset cursor: only reports with a smaller id.
	Before int64
	// Limit defaults to 50 and is at most 500.
	Limit int
}

const coverageColumns = `id, repository, sha, branch, pr_number, flag, format, ci_job, content_sha256, blob_key, base_sha,
	installation_id, files, lines_found, lines_hit, branches_found, branches_hit, statements_found, statements_hit,
	functions_found, functions_hit, by_statements, mapped, unmapped_count, unmapped, check_run_id, uploaded_by, created_at,
	repository_id`

type rowScanner interface{ Scan(dest ...any) error }

func scanCoverageReport(row rowScanner) (*CoverageReport, error) {
	var r CoverageReport
	var unmapped string
	t := &r.Totals
	err := row.Scan(&r.ID, &r.Repository, &r.SHA, &r.Branch, &r.PR, &r.Flag, &r.Format, &r.CIJob, &r.ContentSHA256,
		&r.BlobKey, &r.BaseSHA, &r.InstallationID, &t.Files, &t.LinesFound, &t.LinesHit, &t.BranchesFound, &t.BranchesHit,
		&t.StatementsFound, &t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit, &t.Statements, &r.Mapped,
		&r.UnmappedCount, &unmapped, &r.CheckRunID, &r.UploadedBy, &r.CreatedAt, &r.RepositoryID)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = r.CreatedAt.UTC()
	if unmapped != "" {
		r.Unmapped = strings.Split(unmapped, "\n")
	}
	r.Totals = recomputePercent(r.Totals)
	return &r, nil
}

// recomputePercent fills Percent from the stored counts, as coverage does.
func recomputePercent(t coverage.Totals) coverage.Totals {
	return t.Add(coverage.Totals{})
}

// AddCoverageReport stores a report and its files (paths already mapped to
// repository paths), setting r.ID and r.CreatedAt. It returns an ECONFLICT
// error when the same content was already stored for the commit and flag
// (see CoverageReportByContent).
func (q *Queries) AddCoverageReport(ctx context.Context, r *CoverageReport, files []*coverage.File) error {
	r.CreatedAt = q.now()
	t := r.Totals
	if len(r.Unmapped) > 100 {
		r.Unmapped = r.Unmapped[:100]
	}
	if r.RepositoryID == 0 {
		id, err := q.RepositoryID(ctx, r.Repository)
		if err != nil {
			return fmt.Errorf("store: add coverage report for %s@%s: %w", r.Repository, r.SHA, err)
		}
		r.RepositoryID = id
	}
	err := q.queryRow(ctx, `INSERT INTO coverage_reports (repository, sha, branch, pr_number, flag, format, ci_job,
		content_sha256, blob_key, base_sha, installation_id, files, lines_found, lines_hit, branches_found, branches_hit,
		statements_found, statements_hit, functions_found, functions_hit, by_statements, mapped, unmapped_count, unmapped,
		uploaded_by, created_at, repository_id, series)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
		ON CONFLICT (repository, sha, flag, content_sha256) DO NOTHING RETURNING id`,
		r.Repository, r.SHA, r.Branch, r.PR, r.Flag, r.Format, r.CIJob, r.ContentSHA256, r.BlobKey, r.BaseSHA,
		r.InstallationID, t.Files, t.LinesFound, t.LinesHit, t.BranchesFound, t.BranchesHit, t.StatementsFound,
		t.StatementsHit, t.FunctionsFound, t.FunctionsHit, t.Statements, r.Mapped, r.UnmappedCount,
		strings.Join(r.Unmapped, "\n"), r.UploadedBy, r.CreatedAt, r.RepositoryID, seriesKey(r.RepositoryID, r.Repository)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: add coverage report for %s@%s: %w", r.Repository, r.SHA,
			notFoundAs(err, patchpanda.Errorf(patchpanda.ECONFLICT, "this report was already uploaded for %s@%s", r.Repository, r.SHA)))
	}
	for _, f := range files {
		ft := coverage.FileTotals(f)
		if _, err := q.exec(ctx, `INSERT INTO coverage_files (report_id, path, lines_found, lines_hit, branches_found,
			branches_hit, statements_found, statements_hit, functions_found, functions_hit, line_data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.ID, f.Path, ft.LinesFound, ft.LinesHit, f.BranchesFound, f.BranchesHit, f.StatementsFound,
			f.StatementsHit, f.FunctionsFound, f.FunctionsHit, EncodeLines(f.Lines)); err != nil {
			return fmt.Errorf("store: add coverage file %s of report %d: %w", f.Path, r.ID, err)
		}
	}
	return nil
}

// notFoundAs maps sql.ErrNoRows (an INSERT … DO NOTHING that inserted
// nothing) to e.
func notFoundAs(err error, e *patchpanda.Error) error {
	if patchpanda.ErrorCode(notFound(err, "")) == patchpanda.ENOTFOUND {
		return e
	}
	return err
}

// FinishCoverageReport records where a report's raw upload is kept and
// the base commit it is compared with.
func (q *Queries) FinishCoverageReport(ctx context.Context, id int64, blobKey, baseSHA string) error {
	if _, err := q.exec(ctx, `UPDATE coverage_reports SET blob_key = $1, base_sha = $2 WHERE id = $3`, blobKey, baseSHA, id); err != nil {
		return fmt.Errorf("store: finish coverage report %d: %w", id, err)
	}
	return nil
}

// LockCommitCoverage serialises, until the transaction ends, writers that
// add reports to one commit, so that exactly one of them sees the commit
// become complete. SQLite transactions are serialised already.
func (q *Queries) LockCommitCoverage(ctx context.Context, repo, sha string) error {
	if q.dialect != Postgres {
		return nil
	}
	if _, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "coverage:"+strings.ToLower(repo)+"@"+sha); err != nil {
		return fmt.Errorf("store: lock coverage of %s@%s: %w", repo, sha, err)
	}
	return nil
}

// CoverageReport returns one report. It returns an ENOTFOUND error when
// there is none.
func (q *Queries) CoverageReport(ctx context.Context, id int64) (*CoverageReport, error) {
	r, err := scanCoverageReport(q.queryRow(ctx, `SELECT `+coverageColumns+` FROM coverage_reports WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: coverage report %d: %w", id, notFound(err, "no coverage report %d", id))
	}
	return r, nil
}

// CoverageReportByContent returns the report of repo@sha and flag whose
// content hash is sum. It returns an ENOTFOUND error when there is none.
func (q *Queries) CoverageReportByContent(ctx context.Context, repo, sha, flag, sum string) (*CoverageReport, error) {
	r, err := scanCoverageReport(q.queryRow(ctx, `SELECT `+coverageColumns+` FROM coverage_reports
		WHERE series IN (`+seriesOf("$1")+`) AND sha = $2 AND flag = $3 AND content_sha256 = $4`, repo, sha, flag, sum))
	if err != nil {
		return nil, fmt.Errorf("store: coverage report by content: %w", notFound(err, "no such coverage report"))
	}
	return r, nil
}

// CoverageReports lists reports newest first, one page of f.Limit, and
// returns the cursor (the Before of the next page; 0 on the last page).
func (q *Queries) CoverageReports(ctx context.Context, f CoverageFilter) ([]*CoverageReport, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Repository != "" {
		add("series IN ("+seriesOf("$?")+")", f.Repository)
	}
	if f.Branch != "" {
		add("branch = $?", f.Branch)
	}
	if f.SHA != "" {
		add("sha = $?", f.SHA)
	}
	if f.Flag != "" {
		add("flag = $?", f.Flag)
	}
	if f.Before > 0 {
		add("id < $?", f.Before)
	}
	query := `SELECT ` + coverageColumns + ` FROM coverage_reports`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit+1)
	query += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	out, err := q.coverageReports(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list coverage reports: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func (q *Queries) coverageReports(ctx context.Context, query string, args ...any) ([]*CoverageReport, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*CoverageReport
	for rows.Next() {
		r, err := scanCoverageReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CommitReports returns the reports (sessions) of repo@sha, oldest first.
func (q *Queries) CommitReports(ctx context.Context, repo, sha string) ([]*CoverageReport, error) {
	out, err := q.coverageReports(ctx, `SELECT `+coverageColumns+` FROM coverage_reports
		WHERE series IN (`+seriesOf("$1")+`) AND sha = $2 ORDER BY id`, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("store: coverage reports of %s@%s: %w", repo, sha, err)
	}
	return out, nil
}

// PreviousCoverageSHA returns the newest commit of repo's branch, other
// than sha, with a report older than report id before; "" when there is
// none.
func (q *Queries) PreviousCoverageSHA(ctx context.Context, repo, branch, sha string, before int64) (string, error) {
	var prev string
	err := q.queryRow(ctx, `SELECT sha FROM coverage_reports WHERE series IN (`+seriesOf("$1")+`) AND branch = $2 AND sha <> $3 AND id < $4
		ORDER BY id DESC LIMIT 1`, repo, branch, sha, before).Scan(&prev)
	if err != nil && patchpanda.ErrorCode(notFound(err, "")) != patchpanda.ENOTFOUND {
		return "", fmt.Errorf("store: previous coverage of %s on %s: %w", repo, branch, err)
	}
	return prev, nil
}

// CoverageFile is one file of a stored report, with its lines when asked.
type CoverageFile struct {
	Path   string
	Totals coverage.Totals // as commit coverage counts them (coverage.FileTotals)
	File   *coverage.File  // nil unless lines were asked for
}

// CoverageFiles returns the files of report id sorted by path; with lines,
// each carries its per-line data.
func (q *Queries) CoverageFiles(ctx context.Context, id int64, lines bool) ([]CoverageFile, error) {
	rows, err := q.query(ctx, `SELECT path, lines_found, lines_hit, branches_found, branches_hit, statements_found,
		statements_hit, functions_found, functions_hit, CASE WHEN $2 THEN line_data ELSE NULL END
		FROM coverage_files WHERE report_id = $1 ORDER BY path`, id, lines)
	if err != nil {
		return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
	}
	defer rows.Close()
	var out []CoverageFile
	for rows.Next() {
		var f CoverageFile
		t := &f.Totals
		var data []byte
		if err := rows.Scan(&f.Path, &t.LinesFound, &t.LinesHit, &t.BranchesFound, &t.BranchesHit, &t.StatementsFound,
			&t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit, &data); err != nil {
			return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
		}
		t.Files = 1
		*t = recomputePercent(*t)
		if lines {
			ls, err := DecodeLines(data)
			if err != nil {
				return nil, fmt.Errorf("store: coverage file %s of report %d: %w", f.Path, id, err)
			}
			f.File = &coverage.File{Path: f.Path, Lines: ls, BranchesFound: t.BranchesFound, BranchesHit: t.BranchesHit,
				StatementsFound: t.StatementsFound, StatementsHit: t.StatementsHit, FunctionsFound: t.FunctionsFound, FunctionsHit: t.FunctionsHit}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
	}
	return out, nil
}

// CommitCoverage is a commit's coverage: its sessions and their merge.
type CommitCoverage struct {
	Repository string
	SHA        string
	Sessions   []*CoverageReport // oldest first
	Report     *coverage.Report  // the sessions merged (coverage.Merge)
}

// BaseSHA returns the base commit the sessions name (the newest non-empty).
func (c *CommitCoverage) BaseSHA() string {
	for i := len(c.Sessions) - 1; i >= 0; i-- {
		if c.Sessions[i].BaseSHA != "" {
			return c.Sessions[i].BaseSHA
		}
	}
	return ""
}

// Flags returns the distinct non-empty flags of the sessions, in upload order.
func (c *CommitCoverage) Flags() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range c.Sessions {
		if s.Flag != "" && !seen[s.Flag] {
			seen[s.Flag] = true
			out = append(out, s.Flag)
		}
	}
	return out
}

// CommitCoverage loads every session of repo@sha with its lines and merges
// them. A commit without reports has no Sessions and an empty Report.
func (q *Queries) CommitCoverage(ctx context.Context, repo, sha string) (*CommitCoverage, error) {
	sessions, err := q.CommitReports(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	c := &CommitCoverage{Repository: repo, SHA: sha, Sessions: sessions}
	reports := make([]*coverage.Report, 0, len(sessions))
	for _, s := range sessions {
		files, err := q.CoverageFiles(ctx, s.ID, true)
		if err != nil {
			return nil, err
		}
		r := &coverage.Report{Files: make(map[string]*coverage.File, len(files))}
		for _, f := range files {
			r.Files[f.Path] = f.File
		}
		reports = append(reports, r)
	}
	c.Report = coverage.Merge(reports...)
	return c, nil
}

// CoverageCheckRun returns the id of the "PatchPanda / coverage" check run
// of repo@sha, 0 when none was created yet.
func (q *Queries) CoverageCheckRun(ctx context.Context, repo, sha string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT COALESCE(MAX(check_run_id), 0) FROM coverage_reports WHERE series IN (`+seriesOf("$1")+`) AND sha = $2`,
		repo, sha).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: coverage check run of %s@%s: %w", repo, sha, err)
	}
	return id, nil
}

// SetCoverageCheckRun records the check run of repo@sha on its reports.
func (q *Queries) SetCoverageCheckRun(ctx context.Context, repo, sha string, id int64) error {
	if _, err := q.exec(ctx, `UPDATE coverage_reports SET check_run_id = $1 WHERE series IN (`+seriesOf("$2")+`) AND sha = $3`, id, repo, sha); err != nil {
		return fmt.Errorf("store: set coverage check run of %s@%s: %w", repo, sha, err)
	}
	return nil
}

// lineDataVersion starts every encoded line list.
const lineDataVersion = 1

// EncodeLines packs lines (sorted by Number) compactly: a version byte,
// then per line the varint gap from the previous line number, the hits,
// and the branches found and hit.
func EncodeLines(lines []coverage.Line) []byte {
	b := make([]byte, 1, 1+len(lines)*4)
	b[0] = lineDataVersion
	prev := 0
	for _, l := range lines {
		b = binary.AppendVarint(b, int64(l.Number-prev))
		b = binary.AppendUvarint(b, uint64(max(l.Hits, 0)))
		b = binary.AppendUvarint(b, uint64(max(l.BranchesFound, 0)))
		b = binary.AppendUvarint(b, uint64(max(l.BranchesHit, 0)))
		prev = l.Number
	}
	return b
}

// errLineData is returned (wrapped) for line data that EncodeLines did not
// write.
var errLineData = errors.New("corrupt line data")

// DecodeLines reverses EncodeLines. It returns an error for data that
// EncodeLines did not write.
func DecodeLines(b []byte) ([]coverage.Line, error) {
	if len(b) == 0 || b[0] != lineDataVersion {
		return nil, fmt.Errorf("%w: unknown version", errLineData)
	}
	b = b[1:]
	var out []coverage.Line
	prev := 0
	for len(b) > 0 {
		gap, n := binary.Varint(b)
		if n <= 0 {
			return nil, errLineData
		}
		b = b[n:]
		var v [3]uint64
		for i := range v {
			x, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errLineData
			}
			v[i], b = x, b[n:]
		}
		if v[0] > 1<<63-1 || v[1] > 1<<31 || v[2] > 1<<31 || gap > 1<<31 || gap < -(1<<31) {
			return nil, fmt.Errorf("%w: value out of range", errLineData)
		}
		prev += int(gap)
		out = append(out, coverage.Line{Number: prev, Hits: int64(v[0]), BranchesFound: int(v[1]), BranchesHit: int(v[2])})
	}
	return out, nil
}
