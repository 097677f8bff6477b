package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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
	// Merged is set once the report's files are merged into its commit's
	// (MergeCommitCoverage).
	Merged bool
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
	repository_id, merged`

type rowScanner interface{ Scan(dest ...any) error }

func scanCoverageReport(row rowScanner) (*CoverageReport, error) {
	var r CoverageReport
	var unmapped string
	t := &r.Totals
	err := row.Scan(&r.ID, &r.Repository, &r.SHA, &r.Branch, &r.PR, &r.Flag, &r.Format, &r.CIJob, &r.ContentSHA256,
		&r.BlobKey, &r.BaseSHA, &r.InstallationID, &t.Files, &t.LinesFound, &t.LinesHit, &t.BranchesFound, &t.BranchesHit,
		&t.StatementsFound, &t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit, &t.Statements, &r.Mapped,
		&r.UnmappedCount, &unmapped, &r.CheckRunID, &r.UploadedBy, &r.CreatedAt, &r.RepositoryID, &r.Merged)
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
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return err
	}
	if _, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "coverage:"+key+"@"+sha); err != nil {
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

// CommitCoverage is a commit's coverage: its sessions and the totals of
// their merge.
type CommitCoverage struct {
	Repository string
	SHA        string
	Sessions   []*CoverageReport // oldest first
	// Totals are those of the sessions merged (coverage.Merge), counted
	// as coverage.Report.Totals counts them.
	Totals coverage.Totals
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

// CommitCoverage returns repo@sha's sessions and merged totals, read from
// the merged files (coverage_commit_files), never from every report.
// Reports stored before the merged files existed are merged in first, once.
// A commit without reports has no Sessions and zero Totals.
func (db *DB) CommitCoverage(ctx context.Context, repo, sha string) (*CommitCoverage, error) {
	sessions, err := db.CommitReports(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		if !s.Merged {
			if err := db.InTx(ctx, func(q *Queries) error {
				if err := q.LockCommitCoverage(ctx, repo, sha); err != nil {
					return err
				}
				_, err := q.CommitCoverageLines(ctx, repo, sha) // merges what is left
				return err
			}); err != nil {
				return nil, err
			}
			break
		}
	}
	t, err := db.CommitTotals(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	return &CommitCoverage{Repository: repo, SHA: sha, Sessions: sessions, Totals: t}, nil
}

// CommitTotals returns the totals of repo@sha's merged files.
func (q *Queries) CommitTotals(ctx context.Context, repo, sha string) (coverage.Totals, error) {
	var t coverage.Totals
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return t, err
	}
	err = q.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(lines_found), 0), COALESCE(SUM(lines_hit), 0),
		COALESCE(SUM(branches_found), 0), COALESCE(SUM(branches_hit), 0), COALESCE(SUM(statements_found), 0),
		COALESCE(SUM(statements_hit), 0), COALESCE(SUM(functions_found), 0), COALESCE(SUM(functions_hit), 0)
		FROM coverage_commit_files WHERE series = $1 AND sha = $2`, key, sha).Scan(&t.Files, &t.LinesFound,
		&t.LinesHit, &t.BranchesFound, &t.BranchesHit, &t.StatementsFound, &t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit)
	if err != nil {
		return t, fmt.Errorf("store: coverage totals of %s@%s: %w", repo, sha, err)
	}
	return recomputePercent(t), nil
}

// CommitFiles returns the merged files of repo@sha among paths, with their
// lines: what patch coverage needs, without the rest of the commit. Paths
// without coverage are absent from the report.
func (q *Queries) CommitFiles(ctx context.Context, repo, sha string, paths []string) (*coverage.Report, error) {
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return nil, err
	}
	out := &coverage.Report{Files: make(map[string]*coverage.File, len(paths))}
	for chunk := range slices.Chunk(paths, 500) {
		if err := q.commitFiles(ctx, key, repo, sha, chunk, out.Files); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// commitFiles reads the merged files of paths of repo@sha (kept under
// series key) into into.
func (q *Queries) commitFiles(ctx context.Context, key, repo, sha string, paths []string, into map[string]*coverage.File) error {
	if len(paths) == 0 {
		return nil
	}
	args := []any{key, sha}
	marks := make([]string, len(paths))
	for i, p := range paths {
		args = append(args, p)
		marks[i] = "$" + strconv.Itoa(i+3)
	}
	rows, err := q.query(ctx, `SELECT path, branches_found, branches_hit, statements_found, statements_hit,
		functions_found, functions_hit, line_data FROM coverage_commit_files
		WHERE series = $1 AND sha = $2 AND path IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f coverage.File
		var data []byte
		if err := rows.Scan(&f.Path, &f.BranchesFound, &f.BranchesHit, &f.StatementsFound, &f.StatementsHit,
			&f.FunctionsFound, &f.FunctionsHit, &data); err != nil {
			return fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
		}
		if f.Lines, err = DecodeLines(data); err != nil {
			return fmt.Errorf("store: merged coverage file %s of %s@%s: %w", f.Path, repo, sha, err)
		}
		into[f.Path] = &f
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
	}
	return nil
}

// mergeChunk bounds how many files are merged per round trip.
const mergeChunk = 500

// MergeCommitCoverage merges the files of report id (paths mapped,
// sorted or not) into its commit's merged files and marks the report
// merged. Only the commit's files that the report names are read. Call it
// in the transaction that added the report, after LockCommitCoverage.
func (q *Queries) MergeCommitCoverage(ctx context.Context, id int64, repo, sha string, files []*coverage.File) error {
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(files, mergeChunk) {
		if err := q.mergeFiles(ctx, key, repo, sha, chunk); err != nil {
			return err
		}
	}
	if _, err := q.exec(ctx, `UPDATE coverage_reports SET merged = $1 WHERE id = $2`, true, id); err != nil {
		return fmt.Errorf("store: mark coverage report %d merged: %w", id, err)
	}
	return nil
}

func (q *Queries) mergeFiles(ctx context.Context, key, repo, sha string, files []*coverage.File) error {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	old := map[string]*coverage.File{}
	if err := q.commitFiles(ctx, key, repo, sha, paths, old); err != nil {
		return err
	}
	for _, f := range files {
		merged := f
		if o, ok := old[f.Path]; ok {
			merged = coverage.Merge(&coverage.Report{Files: map[string]*coverage.File{f.Path: o}},
				&coverage.Report{Files: map[string]*coverage.File{f.Path: f}}).Files[f.Path]
		}
		t := coverage.FileTotals(merged)
		if _, err := q.exec(ctx, `INSERT INTO coverage_commit_files (series, sha, path, lines_found, lines_hit,
			branches_found, branches_hit, statements_found, statements_hit, functions_found, functions_hit, line_data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (series, sha, path) DO UPDATE SET lines_found = excluded.lines_found,
			lines_hit = excluded.lines_hit, branches_found = excluded.branches_found, branches_hit = excluded.branches_hit,
			statements_found = excluded.statements_found, statements_hit = excluded.statements_hit,
			functions_found = excluded.functions_found, functions_hit = excluded.functions_hit, line_data = excluded.line_data`,
			key, sha, f.Path, t.LinesFound, t.LinesHit, merged.BranchesFound, merged.BranchesHit, merged.StatementsFound,
			merged.StatementsHit, merged.FunctionsFound, merged.FunctionsHit, EncodeLines(merged.Lines)); err != nil {
			return fmt.Errorf("store: merge coverage file %s into %s@%s: %w", f.Path, repo, sha, err)
		}
	}
	return nil
}

// CommitCoverageLines returns the line records repo@sha's merged files
// hold, first merging any report of the commit not merged yet (stored
// before merging existed), a chunk of files at a time. Call it after
// LockCommitCoverage.
func (q *Queries) CommitCoverageLines(ctx context.Context, repo, sha string) (int64, error) {
	rows, err := q.query(ctx, `SELECT id FROM coverage_reports WHERE series IN (`+seriesOf("$1")+`) AND sha = $2 AND merged = $3 ORDER BY id`, repo, sha, false)
	if err != nil {
		return 0, fmt.Errorf("store: unmerged coverage reports of %s@%s: %w", repo, sha, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: unmerged coverage reports of %s@%s: %w", repo, sha, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: unmerged coverage reports of %s@%s: %w", repo, sha, err)
	}
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := q.mergeStoredReport(ctx, id, key, repo, sha); err != nil {
			return 0, err
		}
	}
	var n int64
	if err := q.queryRow(ctx, `SELECT COALESCE(SUM(lines_found), 0) FROM coverage_commit_files WHERE series = $1 AND sha = $2`,
		key, sha).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: coverage lines of %s@%s: %w", repo, sha, err)
	}
	return n, nil
}

// mergeStoredReport merges a stored report into its commit, reading its
// files a page at a time.
func (q *Queries) mergeStoredReport(ctx context.Context, id int64, key, repo, sha string) error {
	after := ""
	for {
		page, err := q.coverageFilesPage(ctx, id, after, mergeChunk)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		if err := q.mergeFiles(ctx, key, repo, sha, page); err != nil {
			return err
		}
		after = page[len(page)-1].Path
	}
	if _, err := q.exec(ctx, `UPDATE coverage_reports SET merged = $1 WHERE id = $2`, true, id); err != nil {
		return fmt.Errorf("store: mark coverage report %d merged: %w", id, err)
	}
	return nil
}

// coverageFilesPage returns up to limit files of report id after path
// after, with their lines, sorted by path.
func (q *Queries) coverageFilesPage(ctx context.Context, id int64, after string, limit int) ([]*coverage.File, error) {
	rows, err := q.query(ctx, `SELECT path, branches_found, branches_hit, statements_found, statements_hit,
		functions_found, functions_hit, line_data FROM coverage_files WHERE report_id = $1 AND path > $2
		ORDER BY path LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
	}
	defer rows.Close()
	var out []*coverage.File
	for rows.Next() {
		var f coverage.File
		var data []byte
		if err := rows.Scan(&f.Path, &f.BranchesFound, &f.BranchesHit, &f.StatementsFound, &f.StatementsHit,
			&f.FunctionsFound, &f.FunctionsHit, &data); err != nil {
			return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
		}
		if f.Lines, err = DecodeLines(data); err != nil {
			return nil, fmt.Errorf("store: coverage file %s of report %d: %w", f.Path, id, err)
		}
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: coverage files of report %d: %w", id, err)
	}
	return out, nil
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

// LinesPage is one page of a report's files with their lines.
type LinesPage struct {
	Files []CoverageFile
	// NextPath and NextSkip say where the next page starts: at file
	// NextPath, skipping its first NextSkip lines. NextPath is "" on the
	// last page.
	NextPath string
	NextSkip int
}

// CoverageLinesPage returns report id's files from path from on (skipping
// that file's first skip lines), sorted by path, with their lines: at most
// maxLines lines and maxFiles files in all, so an answer stays bounded
// however large the report. A file with more lines than are left is cut,
// and the next page goes on with it.
func (q *Queries) CoverageLinesPage(ctx context.Context, id int64, from string, skip, maxLines, maxFiles int) (LinesPage, error) {
	rows, err := q.query(ctx, `SELECT path, lines_found, lines_hit, branches_found, branches_hit, statements_found,
		statements_hit, functions_found, functions_hit, line_data
		FROM coverage_files WHERE report_id = $1 AND path >= $2 ORDER BY path LIMIT $3`, id, from, maxFiles+1)
	if err != nil {
		return LinesPage{}, fmt.Errorf("store: coverage lines of report %d: %w", id, err)
	}
	defer rows.Close()
	var page LinesPage
	left := maxLines
	for rows.Next() {
		var f CoverageFile
		t := &f.Totals
		var data []byte
		if err := rows.Scan(&f.Path, &t.LinesFound, &t.LinesHit, &t.BranchesFound, &t.BranchesHit, &t.StatementsFound,
			&t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit, &data); err != nil {
			return LinesPage{}, fmt.Errorf("store: coverage lines of report %d: %w", id, err)
		}
		if len(page.Files) == maxFiles || left == 0 {
			page.NextPath, page.NextSkip = f.Path, 0
			break
		}
		t.Files = 1
		*t = recomputePercent(*t)
		ls, err := DecodeLines(data)
		if err != nil {
			return LinesPage{}, fmt.Errorf("store: coverage file %s of report %d: %w", f.Path, id, err)
		}
		start := 0
		if f.Path == from {
			start = min(skip, len(ls))
		}
		end := min(len(ls), start+left)
		f.File = &coverage.File{Path: f.Path, Lines: ls[start:end], BranchesFound: t.BranchesFound, BranchesHit: t.BranchesHit,
			StatementsFound: t.StatementsFound, StatementsHit: t.StatementsHit, FunctionsFound: t.FunctionsFound, FunctionsHit: t.FunctionsHit}
		page.Files = append(page.Files, f)
		left -= end - start
		if end < len(ls) {
			page.NextPath, page.NextSkip = f.Path, end
			break
		}
	}
	if err := rows.Err(); err != nil {
		return LinesPage{}, fmt.Errorf("store: coverage lines of report %d: %w", id, err)
	}
	return page, nil
}

// CommitFileTotals returns the totals of each of repo@sha's merged files,
// sorted by path, without their lines. Call CommitCoverage first when the
// commit may hold reports stored before merging existed.
func (q *Queries) CommitFileTotals(ctx context.Context, repo, sha string) ([]CoverageFile, error) {
	key, err := q.commitSeries(ctx, repo)
	if err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, `SELECT path, lines_found, lines_hit, branches_found, branches_hit, statements_found,
		statements_hit, functions_found, functions_hit FROM coverage_commit_files
		WHERE series = $1 AND sha = $2 ORDER BY path`, key, sha)
	if err != nil {
		return nil, fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
	}
	defer rows.Close()
	var out []CoverageFile
	for rows.Next() {
		var f CoverageFile
		t := &f.Totals
		if err := rows.Scan(&f.Path, &t.LinesFound, &t.LinesHit, &t.BranchesFound, &t.BranchesHit, &t.StatementsFound,
			&t.StatementsHit, &t.FunctionsFound, &t.FunctionsHit); err != nil {
			return nil, fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
		}
		t.Files = 1
		*t = recomputePercent(*t)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: merged coverage files of %s@%s: %w", repo, sha, err)
	}
	return out, nil
}

// commitSeries is the series a commit's merged files are kept under: the
// repository's id when the relay knows it, so a rename keeps the history
// and names that differ only in case are one series (see seriesKey).
func (q *Queries) commitSeries(ctx context.Context, repo string) (string, error) {
	id, err := q.RepositoryID(ctx, repo)
	if err != nil {
		return "", err
	}
	return seriesKey(id, repo), nil
}
