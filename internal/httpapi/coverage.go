package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CoverageService stores and serves coverage reports.
type CoverageService interface {
	// Upload ingests one report for p; created is false for an identical
	// re-upload (Duplicate set in the answer).
	Upload(ctx context.Context, p *patchpanda.Principal, params coverage.UploadParams, body io.Reader) (res coverage.Upload, created bool, err error)
	List(ctx context.Context, f coverage.ListParams) (coverage.List, error)
	// Report returns one report with per-file totals; with lines, one
	// page of its files with their lines, from cursor ("" for the first;
	// the answer's Next for the following).
	Report(ctx context.Context, id int64, lines bool, cursor string) (coverage.StoredReport, error)
	// MaxUploadBytes bounds an upload's body (compressed or not).
	MaxUploadBytes() int64
}

// RetryAfterError is an error that says how long the caller should wait;
// the handler sends it as Retry-After.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// CoverageRoutes serves the coverage API over svc. The contract of an
// upload, shared with ppctl (Client.UploadCoverage):
//
//	POST /api/coverage?repo=OWNER/NAME&sha=SHA[&branch=B][&pr=N][&flag=F][&format=F][&root=DIR][&prefix=DIR][&ci_job=ID][&module=M][&module_dir=DIR]
//
// The body is the raw report (Content-Encoding: gzip allowed), optionally
// after the repository's file list (coverage.FilesHeader). The answer is a
// coverage.Upload: 201 for a new report, 200 for an identical re-upload.
func CoverageRoutes(svc CoverageService) func(*http.ServeMux, *Server) {
	return func(mux *http.ServeMux, s *Server) {
		mux.Handle("POST /api/coverage", s.Require(patchpanda.ScopeCoverageWrite, func(w http.ResponseWriter, r *http.Request) error {
			params, err := uploadParams(r)
			if err != nil {
				return err
			}
			if s.uploads != nil {
				// Each upload may hold a whole report in memory while it is
				// parsed and merged: bound how many run at once.
				select {
				case s.uploads <- struct{}{}:
					defer func() { <-s.uploads }()
				default:
					s.Limits.Reporter.Hit(r.Context(), limits.CoverageConcurrent, PrincipalFrom(r.Context()).String())
					return retryLater(5*time.Second, patchpanda.EUNAVAILABLE,
						"%d coverage uploads are already being processed (PATCHPANDA_COVERAGE_CONCURRENT_UPLOADS); retry shortly", s.Limits.ConcurrentUploads)
				}
			}
			// Uploads may be large: they get their own read and write
			// deadlines instead of the server's short ones.
			extendDeadlines(w, s.Limits.UploadTimeout, s.Limits.UploadTimeout+time.Minute)
			body := http.MaxBytesReader(w, r.Body, svc.MaxUploadBytes())
			res, created, err := svc.Upload(r.Context(), PrincipalFrom(r.Context()), params, body)
			if err != nil { // writeError sets Retry-After from a RetryAfterError
				return err
			}
			if strings.HasPrefix(res.URL, "/") {
				res.URL = baseURL(r) + res.URL
			}
			status := http.StatusCreated
			if !created {
				status = http.StatusOK
			}
			writeJSON(w, status, res)
			return nil
		}))
		mux.Handle("GET /api/coverage", s.Require(patchpanda.ScopeCoverageRead, func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			f := coverage.ListParams{Repo: q.Get("repo"), Branch: q.Get("branch"), SHA: q.Get("sha"), Flag: q.Get("flag"), Cursor: q.Get("cursor")}
			if _, err := queryRepository(r, "repo"); err != nil {
				return err
			}
			err := firstError(
				patchpanda.CheckName("branch", f.Branch, patchpanda.MaxBranchLen),
				patchpanda.CheckName("sha", f.SHA, patchpanda.MaxFilterLen),
				patchpanda.CheckName("flag", f.Flag, patchpanda.MaxFilterLen),
				patchpanda.CheckName("cursor", f.Cursor, patchpanda.MaxFilterLen),
			)
			if err != nil {
				return err
			}
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 500 {
					return patchpanda.Errorf(patchpanda.EINVALID, "limit %q must be between 1 and 500", v)
				}
				f.Limit = n
			}
			list, err := svc.List(r.Context(), f)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, list)
			return nil
		}))
		mux.Handle("GET /api/coverage/{id}", s.Require(patchpanda.ScopeCoverageRead, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			lines := false
			switch v := r.URL.Query().Get("lines"); v {
			case "", "0", "false":
			case "1", "true":
				lines = true
			default:
				return patchpanda.Errorf(patchpanda.EINVALID, "lines %q must be 1 or 0", v)
			}
			cursor := r.URL.Query().Get("cursor")
			if cursor != "" && !lines {
				return patchpanda.Errorf(patchpanda.EINVALID, "cursor pages the lines: send it with lines=1")
			}
			rep, err := svc.Report(r.Context(), id, lines, cursor)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, rep)
			return nil
		}))
	}
}

// uploadParams reads POST /api/coverage's query, returning an EINVALID
// error naming a malformed parameter. The service checks the values.
func uploadParams(r *http.Request) (coverage.UploadParams, error) {
	q := r.URL.Query()
	p := coverage.UploadParams{
		Repo: q.Get("repo"), SHA: q.Get("sha"), Branch: q.Get("branch"), Flag: q.Get("flag"), Format: q.Get("format"),
		Root: q.Get("root"), Prefix: q.Get("prefix"), CIJob: q.Get("ci_job"), Module: q.Get("module"), ModuleDir: q.Get("module_dir"),
		ContentEncoding: strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))),
	}
	if _, _, err := patchpanda.ParseFullName(p.Repo); err != nil {
		return p, patchpanda.Errorf(patchpanda.EINVALID, "repo: %s", patchpanda.ErrorMessage(err))
	}
	err := firstError(
		patchpanda.CheckName("sha", p.SHA, patchpanda.MaxFilterLen),
		patchpanda.CheckName("branch", p.Branch, patchpanda.MaxBranchLen),
		patchpanda.CheckName("flag", p.Flag, patchpanda.MaxFilterLen),
		patchpanda.CheckName("format", p.Format, patchpanda.MaxFilterLen),
		patchpanda.CheckName("ci_job", p.CIJob, patchpanda.MaxNameLen*2),
		patchpanda.CheckName("root", p.Root, 1024),
		patchpanda.CheckName("prefix", p.Prefix, 1024),
		patchpanda.CheckName("module", p.Module, 1024),
		patchpanda.CheckName("module_dir", p.ModuleDir, 1024),
	)
	if err != nil {
		return p, err
	}
	if v := q.Get("pr"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, patchpanda.Errorf(patchpanda.EINVALID, "pr %q is not a pull request number", v)
		}
		p.PR = n
	}
	return p, nil
}

// baseURL is the scheme and host the request was sent to.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
