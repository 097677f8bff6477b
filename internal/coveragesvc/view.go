package coveragesvc

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// The views below serve the dashboard from the same store and merge rules
// as the REST API's commit coverage (Commit), so the two never disagree.

// CommitFiles returns repo@sha's coverage merged over its sessions, per
// file. It returns an ENOTFOUND error when the commit has no coverage.
func (s *Service) CommitFiles(ctx context.Context, repo, sha string) (coverage.CommitFiles, error) {
	c, err := s.Commit(ctx, repo, sha)
	if err != nil {
		return coverage.CommitFiles{}, err
	}
	if c.Sessions == 0 {
		return coverage.CommitFiles{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "%s@%.12s has no coverage", repo, sha)
	}
	// s.Commit merged any report stored before merging existed.
	files, err := s.db.CommitFileTotals(ctx, repo, sha)
	if err != nil {
		return coverage.CommitFiles{}, err
	}
	out := coverage.CommitFiles{Commit: c, Files: make([]coverage.StoredFile, 0, len(files))}
	for _, f := range files {
		out.Files = append(out.Files, coverage.StoredFile{Path: f.Path, Totals: f.Totals})
	}
	return out, nil
}

// maxSourceBytes bounds the source the dashboard shows beside hits.
const maxSourceBytes = 1 << 20

// FileLines returns path's coverage at repo@sha merged over the commit's
// sessions, and its source fetched through the App at that sha. It returns
// an ENOTFOUND error when the commit's coverage has no such file; a source
// GitHub does not serve is reported in SourceError, not as an error.
func (s *Service) FileLines(ctx context.Context, repo, sha, path string) (coverage.FileView, error) {
	if _, err := s.db.CommitCoverage(ctx, repo, sha); err != nil { // merges reports stored before merging existed
		return coverage.FileView{}, err
	}
	merged, err := s.db.CommitFiles(ctx, repo, sha, []string{path})
	if err != nil {
		return coverage.FileView{}, err
	}
	f := merged.Files[path]
	if f == nil {
		return coverage.FileView{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "%s@%.12s has no coverage for %s", repo, sha, path)
	}
	v := coverage.FileView{Repository: repo, SHA: sha, Path: path, Totals: coverage.FileTotals(f), Lines: f.Lines}
	owner, name, err := patchpanda.ParseFullName(repo)
	if err != nil {
		return coverage.FileView{}, patchpanda.Errorf(patchpanda.EINVALID, "repo %q is not owner/name", repo)
	}
	inst, err := s.db.InstallationFor(ctx, repo)
	if err != nil || inst == 0 {
		v.SourceError = "the App is not installed on " + repo
		return v, nil
	}
	file, err := s.gh.Contents(ctx, inst, owner, name, path, sha)
	switch {
	case errors.Is(err, githubapp.ErrNotFound):
		v.SourceError = "GitHub has no " + path + " at this commit"
	case err != nil:
		v.SourceError = patchpanda.ErrorMessage(err)
	case len(file.Content) > maxSourceBytes || !utf8.Valid(file.Content):
		v.SourceError = "the file is too large or not text"
	default:
		v.Source = splitLines(string(file.Content))
	}
	return v, nil
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// pullFiles is the GitHub call patch coverage needs beyond GitHub.
type pullFiles interface {
	PullRequestFiles(ctx context.Context, installationID int64, owner, repo string, number int) ([]githubapp.PullRequestFile, error)
}

// PullRequest returns the coverage of pull request number of repo at the
// newest commit uploaded for it, with its patch coverage computed from the
// files GitHub lists (as the PR comment does). It returns an ENOTFOUND
// error when no coverage was uploaded for the pull request.
func (s *Service) PullRequest(ctx context.Context, repo string, number int) (coverage.PullRequest, error) {
	out := coverage.PullRequest{Repository: repo, Number: number}
	sha, err := s.db.PullRequestCoverageSHA(ctx, repo, number)
	if err != nil {
		return out, err
	}
	if out.Commit, err = s.Commit(ctx, repo, sha); err != nil {
		return out, err
	}
	owner, name, err := patchpanda.ParseFullName(repo)
	if err != nil {
		return out, patchpanda.Errorf(patchpanda.EINVALID, "repo %q is not owner/name", repo)
	}
	inst, err := s.db.InstallationFor(ctx, repo)
	if err != nil || inst == 0 {
		out.PatchError = "the App is not installed on " + repo
		return out, nil
	}
	if pr, err := s.gh.PullRequest(ctx, inst, owner, name, number); err == nil {
		out.Title, out.State, out.HTMLURL = pr.Title, pr.State, pr.HTMLURL
	}
	gh, ok := s.gh.(pullFiles)
	if !ok {
		out.PatchError = "this relay's GitHub client cannot list pull request files"
		return out, nil
	}
	files, err := gh.PullRequestFiles(ctx, inst, owner, name, number)
	if err != nil {
		out.PatchError = patchpanda.ErrorMessage(err)
		return out, nil
	}
	changes := make([]coverage.FileChange, 0, len(files))
	paths := make([]string, 0, len(files))
	for _, f := range files {
		if f.Status != "removed" {
			changes = append(changes, coverage.FileChange{Path: f.Filename, Patch: f.Patch})
			paths = append(paths, f.Filename)
		}
	}
	// Only the changed files' merged coverage is read (s.Commit above
	// merged any report stored before merging existed).
	changed, err := s.db.CommitFiles(ctx, repo, sha, paths)
	if err != nil {
		return out, err
	}
	p, err := coverage.PatchCoverage(changed, changes)
	if err != nil {
		out.PatchError = err.Error()
		return out, nil
	}
	out.Patch = &p
	return out, nil
}
