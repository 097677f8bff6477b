package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CoverageViews serves a commit's files, a file's lines and a pull
// request's patch coverage (internal/coveragesvc); the dashboard shows the
// same answers.
type CoverageViews interface {
	// CommitFiles returns ENOTFOUND when the commit has no coverage.
	CommitFiles(ctx context.Context, repo, sha string) (coverage.CommitFiles, error)
	// FileLines returns ENOTFOUND when the commit's coverage lacks path.
	FileLines(ctx context.Context, repo, sha, path string) (coverage.FileView, error)
	// PullRequest returns ENOTFOUND when nothing was uploaded for it.
	PullRequest(ctx context.Context, repo string, number int) (coverage.PullRequest, error)
}

// CoverageViewRoutes serves the coverage views over svc to keys with
// coverage:read.
func CoverageViewRoutes(svc CoverageViews) func(*http.ServeMux, *Server) {
	return func(mux *http.ServeMux, s *Server) {
		mux.Handle("GET /api/coverage/commits/{owner}/{name}/{sha}", s.Require(patchpanda.ScopeCoverageRead, func(w http.ResponseWriter, r *http.Request) error {
			repo, sha, err := repoAndSHA(r)
			if err != nil {
				return err
			}
			c, err := svc.CommitFiles(r.Context(), repo, sha)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, c)
			return nil
		}))
		mux.Handle("GET /api/coverage/commits/{owner}/{name}/{sha}/file", s.Require(patchpanda.ScopeCoverageRead, func(w http.ResponseWriter, r *http.Request) error {
			repo, sha, err := repoAndSHA(r)
			if err != nil {
				return err
			}
			path := r.URL.Query().Get("path")
			if path == "" || len(path) > 4096 {
				return patchpanda.Errorf(patchpanda.EINVALID, "path must name a file of the commit's coverage (1 to 4096 characters)")
			}
			v, err := svc.FileLines(r.Context(), repo, sha, path)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, v)
			return nil
		}))
		mux.Handle("GET /api/coverage/pulls/{owner}/{name}/{number}", s.Require(patchpanda.ScopeCoverageRead, func(w http.ResponseWriter, r *http.Request) error {
			repo := r.PathValue("owner") + "/" + r.PathValue("name")
			if _, _, err := patchpanda.ParseFullName(repo); err != nil {
				return patchpanda.Errorf(patchpanda.EINVALID, "%q is not owner/name", repo)
			}
			n, err := strconv.Atoi(r.PathValue("number"))
			if err != nil || n <= 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a pull request number", r.PathValue("number"))
			}
			p, err := svc.PullRequest(r.Context(), repo, n)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, p)
			return nil
		}))
	}
}

// ValidSHA reports whether s is a full commit sha: 40 or 64 hex digits.
func ValidSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func repoAndSHA(r *http.Request) (string, string, error) {
	repo := r.PathValue("owner") + "/" + r.PathValue("name")
	if _, _, err := patchpanda.ParseFullName(repo); err != nil {
		return "", "", patchpanda.Errorf(patchpanda.EINVALID, "%q is not owner/name", repo)
	}
	sha := r.PathValue("sha")
	if !ValidSHA(sha) {
		return "", "", patchpanda.Errorf(patchpanda.EINVALID, "%q is not a full commit sha (40 or 64 hex digits)", sha)
	}
	return repo, sha, nil
}
