package coveragesvc

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// maxListedCommits bounds how many commits a list page merges.
const maxListedCommits = 20

// List returns one page of reports, newest first, and the merged coverage
// of (up to 20 of) the commits on it compared with their bases. It returns
// an EINVALID error for a cursor it did not give out.
func (s *Service) List(ctx context.Context, f coverage.ListParams) (coverage.List, error) {
	sf := store.CoverageFilter{Repository: f.Repo, Branch: f.Branch, SHA: f.SHA, Flag: f.Flag, Limit: f.Limit}
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return coverage.List{}, patchpanda.Errorf(patchpanda.EINVALID, "cursor %q is not one this API gave out", f.Cursor)
		}
		sf.Before = n
	}
	reports, next, err := s.db.CoverageReports(ctx, sf)
	if err != nil {
		return coverage.List{}, err
	}
	out := coverage.List{Reports: make([]coverage.StoredReport, 0, len(reports))}
	if next > 0 {
		out.Next = strconv.FormatInt(next, 10)
	}
	seen := map[string]bool{}
	for _, r := range reports {
		out.Reports = append(out.Reports, reportAnswer(r))
		k := r.Repository + "@" + r.SHA
		if seen[k] || len(seen) >= maxListedCommits {
			continue
		}
		seen[k] = true
		c, err := s.Commit(ctx, r.Repository, r.SHA)
		if err != nil {
			return coverage.List{}, err
		}
		out.Commits = append(out.Commits, c)
	}
	return out, nil
}

// Commit returns repo@sha's coverage merged over its sessions, compared
// with its base when the base has coverage. Both come from the stored
// merged totals.
func (s *Service) Commit(ctx context.Context, repo, sha string) (coverage.Commit, error) {
	head, err := s.db.CommitCoverage(ctx, repo, sha)
	if err != nil {
		return coverage.Commit{}, err
	}
	c := coverage.Commit{Repository: repo, SHA: sha, Sessions: len(head.Sessions), Flags: head.Flags(),
		Totals: head.Totals, BaseSHA: head.BaseSHA()}
	if c.BaseSHA != "" {
		base, err := s.db.CommitCoverage(ctx, repo, c.BaseSHA)
		if err != nil {
			return coverage.Commit{}, err
		}
		if len(base.Sessions) > 0 {
			d := feedback.Delta(base.Totals, head.Totals)
			c.Delta = &d
		}
	}
	return c, nil
}

// Lines pages of GET /api/coverage/{id}?lines=1.
const (
	maxPageLines = 100_000
	maxPageFiles = 1_000
)

// Report returns one stored report with its per-file totals (counted as
// commit coverage counts them) and, with lines, one page of its files with
// their lines (at most 100,000 lines and 1,000 files) from cursor. It
// returns an ENOTFOUND error for an unknown id and an EINVALID error for a
// cursor it did not give out.
func (s *Service) Report(ctx context.Context, id int64, lines bool, cursor string) (coverage.StoredReport, error) {
	r, err := s.db.CoverageReport(ctx, id)
	if err != nil {
		return coverage.StoredReport{}, err
	}
	out := reportAnswer(r)
	if !lines {
		files, err := s.db.CoverageFiles(ctx, id, false)
		if err != nil {
			return coverage.StoredReport{}, err
		}
		out.Files = make([]coverage.StoredFile, 0, len(files))
		for _, f := range files {
			out.Files = append(out.Files, coverage.StoredFile{Path: f.Path, Totals: f.Totals})
		}
		return out, nil
	}
	from, skip, err := decodeCursor(cursor)
	if err != nil {
		return coverage.StoredReport{}, err
	}
	page, err := s.db.CoverageLinesPage(ctx, id, from, skip, maxPageLines, maxPageFiles)
	if err != nil {
		return coverage.StoredReport{}, err
	}
	out.Files = make([]coverage.StoredFile, 0, len(page.Files))
	for _, f := range page.Files {
		cf := coverage.StoredFile{Path: f.Path, Totals: f.Totals, Lines: f.File.Lines}
		if cf.Lines == nil {
			cf.Lines = []coverage.Line{}
		}
		out.Files = append(out.Files, cf)
	}
	if page.NextPath != "" {
		out.Next = encodeCursor(page.NextPath, page.NextSkip)
	}
	return out, nil
}

// encodeCursor makes the opaque cursor of a lines page: the file to start
// at and how many of its lines to skip.
func encodeCursor(path string, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip) + ":" + path))
}

func decodeCursor(c string) (string, int, error) {
	if c == "" {
		return "", 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	n, path, ok := strings.Cut(string(b), ":")
	skip, aerr := strconv.Atoi(n)
	if err != nil || !ok || aerr != nil || skip < 0 || path == "" {
		return "", 0, patchpanda.Errorf(patchpanda.EINVALID, "cursor %q is not one this API gave out", truncate(c, 80))
	}
	return path, skip, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func reportAnswer(r *store.CoverageReport) coverage.StoredReport {
	return coverage.StoredReport{ID: r.ID, Repository: r.Repository, SHA: r.SHA, Branch: r.Branch, PR: r.PR, Flag: r.Flag,
		Format: r.Format, CIJob: r.CIJob, Totals: r.Totals, CreatedAt: r.CreatedAt}
}
