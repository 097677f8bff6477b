package coveragesvc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/actionsoidc"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

var (
	shaRE  = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
	flagRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// maxUnmapped is how many unmapped report paths an answer lists.
const maxUnmapped = 100

// validate checks the upload's parameters, returning an EINVALID error
// naming the first bad one.
func validate(p *coverage.UploadParams) error {
	if _, _, err := patchpanda.ParseFullName(p.Repo); err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "repo %q is not of the form owner/name", p.Repo)
	}
	p.SHA = strings.ToLower(p.SHA)
	if !shaRE.MatchString(p.SHA) {
		return patchpanda.Errorf(patchpanda.EINVALID, "sha %q is not a full commit sha (40 or 64 hex digits)", p.SHA)
	}
	if p.Flag != "" && !flagRE.MatchString(p.Flag) {
		return patchpanda.Errorf(patchpanda.EINVALID, "flag %q must be 1 to 64 letters, digits, '.', '_' or '-'", p.Flag)
	}
	if p.Format != "" {
		if _, err := coverage.ParseFormat(p.Format); err != nil {
			return patchpanda.Errorf(patchpanda.EINVALID, "format %q is not one of lcov, cobertura, jacoco, clover, go, istanbul", p.Format)
		}
	}
	if p.PR < 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "pr %d is not a pull request number", p.PR)
	}
	for name, v := range map[string]string{"branch": p.Branch, "ci_job": p.CIJob, "root": p.Root, "prefix": p.Prefix, "module": p.Module, "module_dir": p.ModuleDir} {
		if len(v) > 1024 || strings.ContainsAny(v, "\x00\n\r") {
			return patchpanda.Errorf(patchpanda.EINVALID, "%s is longer than 1024 bytes or has control characters", name)
		}
	}
	return nil
}

// actionsRepository checks that an Actions token may upload for repo: the
// token's repository is repo today, and its repository id (not its name,
// which a renamed, transferred or re-created repository can take over) is
// one of an active installation's. It returns that installation and the
// id, and records the name the signed token gives for the id, so a rename
// keeps its coverage series. The token's repository_owner_id must be the
// id of the account that installation is on, so a repository transferred
// away from an installed account cannot upload under the old owner's
// installation; while the relay does not know the account's id (an
// installation recorded before migration 00007 and not seen in an
// installation webhook since) only the repository id is checked. It
// returns an EFORBIDDEN error otherwise.
func (s *Service) actionsRepository(ctx context.Context, p *patchpanda.Principal, repo string) (inst, repoID int64, err error) {
	if !strings.EqualFold(p.Name, repo) {
		return 0, 0, patchpanda.Errorf(patchpanda.EFORBIDDEN,
			"the GitHub Actions token is for %s and cannot upload coverage for %s", p.Name, repo)
	}
	ir, err := s.db.InstalledRepositoryByID(ctx, p.RepositoryID, p.OwnerID)
	switch {
	case patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND:
		return 0, 0, patchpanda.Errorf(patchpanda.EFORBIDDEN,
			"PatchPanda is not installed on %s (repository id %d), so its GitHub Actions tokens are not accepted", repo, p.RepositoryID)
	case err != nil:
		return 0, 0, err
	}
	if ir.AccountID != 0 && p.OwnerID != ir.AccountID {
		return 0, 0, patchpanda.Errorf(patchpanda.EFORBIDDEN,
			"the GitHub Actions token's repository_owner_id %d is not the id %d of the account whose PatchPanda installation holds %s (repository id %d): the repository was transferred; install PatchPanda on its new owner",
			p.OwnerID, ir.AccountID, repo, p.RepositoryID)
	}
	if ir.FullName != p.Name {
		if err := s.db.RenameRepository(ctx, ir.RepositoryID, p.Name); err != nil {
			return 0, 0, err
		}
		s.log.InfoContext(ctx, "coverage: repository renamed, as its GitHub Actions token says",
			"repository_id", ir.RepositoryID, "from", ir.FullName, "to", p.Name)
	}
	return ir.InstallationID, ir.RepositoryID, nil
}

// Upload ingests one report for principal p; the bool is false when it
// repeats an earlier upload (Duplicate set in the answer).
// It returns EINVALID errors for bad parameters and malformed reports (the
// message names the format and line), EFORBIDDEN when an Actions token is
// for another repository or the App is not installed there, ETOOLARGE for
// an upload over the limit, and a *RateLimitedError (ERATELIMITED) when the
// repository uploads too fast. Nothing is stored on failure.
func (s *Service) Upload(ctx context.Context, p *patchpanda.Principal, params coverage.UploadParams, body io.Reader) (coverage.Upload, bool, error) {
	if err := validate(&params); err != nil {
		return coverage.Upload{}, false, err
	}
	inst, err := s.db.InstallationFor(ctx, params.Repo)
	switch {
	case patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND:
		inst = 0
	case err != nil:
		return coverage.Upload{}, false, err
	}
	var repoID int64 // 0: the store files the report by name
	if p != nil && p.Kind == actionsoidc.KindActions {
		if inst, repoID, err = s.actionsRepository(ctx, p, params.Repo); err != nil {
			return coverage.Upload{}, false, err
		}
	}
	if s.limit != nil {
		if wait, ok := s.limit.Take(strings.ToLower(params.Repo)); !ok {
			s.opts.Reporter.Hit(ctx, limits.CoverageRate, offender(p, params.Repo))
			return coverage.Upload{}, false, &RateLimitedError{Wait: wait, err: patchpanda.Errorf(patchpanda.ERATELIMITED,
				"%s uploads coverage faster than %d reports a minute (PATCHPANDA_COVERAGE_UPLOADS_PER_MINUTE); try again in %s", params.Repo, s.opts.UploadsPerMinute, wait.Round(1e9))}
		}
	}

	sp, err := s.spool(body, params.ContentEncoding)
	if patchpanda.ErrorCode(err) == patchpanda.ETOOLARGE {
		s.opts.Reporter.Hit(ctx, limits.CoverageUpload, offender(p, params.Repo))
	}
	if err != nil {
		return coverage.Upload{}, false, err
	}
	defer sp.Close()

	if dup, err := s.db.CoverageReportByContent(ctx, params.Repo, params.SHA, params.Flag, sp.sum); err == nil {
		return uploadAnswer(dup, true), false, nil
	} else if patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		return coverage.Upload{}, false, err
	}

	format, err := detect(sp.report, params.Format)
	if err != nil {
		return coverage.Upload{}, false, err
	}
	rep, totals, err := coverage.CollectWith(sp.report, format, s.opts.Limits)
	if err != nil {
		if lerr, ok := s.overLimit(ctx, offender(p, params.Repo), err); ok {
			return coverage.Upload{}, false, lerr
		}
		return coverage.Upload{}, false, parseError(err, sp.hasList)
	}

	owner, name, _ := patchpanda.ParseFullName(params.Repo)
	cov := s.repoCoverageConfig(ctx, inst, owner, name, params)
	mapped, unmapped := s.mapPaths(ctx, inst, owner, name, params, format, sp, rep)

	r := &store.CoverageReport{
		Repository: params.Repo, SHA: params.SHA, Branch: params.Branch, PR: params.PR, Flag: params.Flag,
		Format: string(format), CIJob: params.CIJob, ContentSHA256: sp.sum, InstallationID: inst, RepositoryID: repoID, Totals: totals,
		Mapped: len(mapped.Files), UnmappedCount: len(unmapped), Unmapped: unmapped[:min(len(unmapped), maxUnmapped)], UploadedBy: principalName(p),
	}
	if params.PR > 0 && inst != 0 {
		if pr, err := s.gh.PullRequest(ctx, inst, owner, name, params.PR); err != nil {
			s.log.WarnContext(ctx, "coverage: cannot read the pull request's base; comparing with the branch instead",
				"repo", params.Repo, "pr", params.PR, "error", err)
		} else {
			r.BaseSHA = pr.BaseSHA
		}
	}
	files := make([]*coverage.File, 0, len(mapped.Files))
	for _, p := range mapped.Paths() {
		files = append(files, mapped.Files[p])
	}

	enqueued := false
	var dup *store.CoverageReport
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		if err := q.LockCommitCoverage(ctx, r.Repository, r.SHA); err != nil {
			return err
		}
		held, err := q.CommitCoverageLines(ctx, r.Repository, r.SHA)
		if err != nil {
			return err
		}
		if held+lineRecords(files) > s.opts.MaxCommitLines {
			lerr, _ := s.overLimit(ctx, offender(p, r.Repository), &coverage.LimitError{Limit: "commit_lines", Max: s.opts.MaxCommitLines})
			return lerr
		}
		if err := q.AddCoverageReport(ctx, r, files); err != nil {
			if patchpanda.ErrorCode(err) == patchpanda.ECONFLICT { // an identical upload won the race
				d, derr := q.CoverageReportByContent(ctx, r.Repository, r.SHA, r.Flag, r.ContentSHA256)
				if derr != nil {
					return derr
				}
				dup = d
				return nil
			}
			return err
		}
		// The commit's merged files take this report in now, so nothing
		// ever reloads every report of the commit.
		if err := q.MergeCommitCoverage(ctx, r.ID, r.Repository, r.SHA, files); err != nil {
			return err
		}
		if r.BaseSHA == "" && r.Branch != "" {
			prev, err := q.PreviousCoverageSHA(ctx, r.Repository, r.Branch, r.SHA, r.ID)
			if err != nil {
				return err
			}
			r.BaseSHA = prev
		}
		key := blobKey(r)
		if err := s.writeBlob(ctx, key, sp); err != nil {
			return err
		}
		r.BlobKey = key
		if err := q.FinishCoverageReport(ctx, r.ID, key, r.BaseSHA); err != nil {
			return err
		}
		if inst == 0 {
			return nil
		}
		sessions, err := q.CommitReports(ctx, r.Repository, r.SHA)
		if err != nil {
			return err
		}
		if len(sessions) < cov.Uploads {
			return nil
		}
		ref := feedback.CoverageRef{SHA: r.SHA, Project: cov.Targets.Project, Patch: cov.Targets.Patch}
		actions := []feedback.Action{feedback.CoverageCheck(inst, r.Repository, r.PR, ref)}
		if r.PR > 0 {
			actions = append(actions, feedback.CoverageComment(inst, r.Repository, r.PR, ref))
		}
		enqueued = true
		return feedback.Enqueue(ctx, q, actions...)
	})
	if err != nil {
		if r.BlobKey != "" {
			_ = s.bucket.Delete(context.WithoutCancel(ctx), r.BlobKey)
		}
		return coverage.Upload{}, false, err
	}
	if dup != nil {
		return uploadAnswer(dup, true), false, nil
	}
	if enqueued && s.Enqueued != nil {
		s.Enqueued()
	}
	return uploadAnswer(r, false), true, nil
}

// blobKey is where a report's raw upload is kept: repo/sha/<id>.gz.
func blobKey(r *store.CoverageReport) string {
	return fmt.Sprintf("%s/%s/%d.gz", strings.ToLower(r.Repository), r.SHA, r.ID)
}

func (s *Service) writeBlob(ctx context.Context, key string, sp *spooled) error {
	if _, err := sp.raw.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("coveragesvc: store raw upload: %w", err)
	}
	w, err := s.bucket.NewWriter(ctx, key, nil)
	if err != nil {
		return fmt.Errorf("coveragesvc: store raw upload %s: %w", key, err)
	}
	if _, err := io.Copy(w, sp.raw); err != nil {
		w.Close()
		return fmt.Errorf("coveragesvc: store raw upload %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("coveragesvc: store raw upload %s: %w", key, err)
	}
	return nil
}

// RawUpload opens the stored raw upload of a report (gzip of the body as
// it was sent, decompressed: the file list and the report), so it can be
// parsed again. It returns an ENOTFOUND error when none is stored.
func (s *Service) RawUpload(ctx context.Context, id int64) (io.ReadCloser, error) {
	r, err := s.db.CoverageReport(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.BlobKey == "" {
		return nil, patchpanda.Errorf(patchpanda.ENOTFOUND, "the raw upload of coverage report %d is not stored", id)
	}
	rc, err := s.bucket.NewReader(ctx, r.BlobKey, nil)
	if err != nil {
		return nil, fmt.Errorf("coveragesvc: open raw upload %s: %w", r.BlobKey, err)
	}
	return rc, nil
}

// detect returns the forced format or the one detected from the report's
// first bytes, leaving f at its start.
func detect(f io.ReadSeeker, forced string) (coverage.Format, error) {
	if forced != "" {
		return coverage.Format(forced), nil
	}
	br := bufio.NewReaderSize(f, 8<<10)
	peek, err := br.Peek(8 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("coveragesvc: read report: %w", err)
	}
	if len(strings.TrimSpace(string(peek))) == 0 {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "the upload has no report after the file list")
	}
	format, err := coverage.Detect(peek)
	if err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s", strings.TrimPrefix(err.Error(), "coverage: "))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("coveragesvc: read report: %w", err)
	}
	return format, nil
}

// limitSettings names, for each limit a report can exceed, the limit's
// name in metrics and the setting that raises it.
var limitSettings = map[string]struct{ name, setting string }{
	"files":        {limits.CoverageFiles, "PATCHPANDA_COVERAGE_MAX_FILES"},
	"lines":        {limits.CoverageLines, "PATCHPANDA_COVERAGE_MAX_LINES"},
	"depth":        {limits.CoverageDepth, "PATCHPANDA_COVERAGE_MAX_XML_DEPTH"},
	"elements":     {limits.CoverageElements, "PATCHPANDA_COVERAGE_MAX_XML_ELEMENTS"},
	"commit_lines": {limits.CoverageCommit, "PATCHPANDA_COVERAGE_MAX_COMMIT_LINES"},
}

// offender names who went over a limit, for the log: the uploading
// credential (one key spraying repositories is one offender), else the
// repository.
func offender(p *patchpanda.Principal, repo string) string {
	if p == nil {
		return repo
	}
	return principalName(p)
}

// overLimit turns a *coverage.LimitError into an ETOOLARGE error that
// names the limit and the setting that raises it, and reports the hit. It
// returns false for any other error.
func (s *Service) overLimit(ctx context.Context, offender string, err error) (error, bool) {
	var le *coverage.LimitError
	if !errors.As(err, &le) {
		return nil, false
	}
	ls, ok := limitSettings[le.Limit]
	if !ok {
		ls = limitSettings["lines"]
	}
	s.opts.Reporter.Hit(ctx, ls.name, offender, "max", le.Max)
	var what string
	switch le.Limit {
	case "files":
		what = fmt.Sprintf("names more than %d files", le.Max)
	case "depth":
		what = fmt.Sprintf("nests XML elements more than %d deep", le.Max)
	case "elements":
		what = fmt.Sprintf("has more than %d XML elements", le.Max)
	case "commit_lines":
		return patchpanda.Errorf(patchpanda.ETOOLARGE, "the coverage reports of this commit would hold more than %d line records together (limit %s; %s raises it)",
			le.Max, ls.name, ls.setting), true
	default:
		what = fmt.Sprintf("expands to more than %d line records", le.Max)
	}
	return patchpanda.Errorf(patchpanda.ETOOLARGE, "the coverage report %s (limit %s; %s raises it)", what, ls.name, ls.setting), true
}

// lineRecords counts the line records of files.
func lineRecords(files []*coverage.File) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.Lines))
	}
	return n
}

// parseError makes a parser's error an EINVALID error safe to show. The
// line numbers are the report's own (after the file list, when there was
// one).
func parseError(err error, hasList bool) error {
	var pe *coverage.ParseError
	if errors.As(err, &pe) {
		msg := pe.Error()
		if hasList {
			msg += " (line numbers count from the line after \"# patchpanda-report\")"
		}
		return patchpanda.Errorf(patchpanda.EINVALID, "%s", msg)
	}
	if errors.Is(err, coverage.ErrUnknownFormat) {
		return patchpanda.Errorf(patchpanda.EINVALID, "%s", err.Error())
	}
	return fmt.Errorf("coveragesvc: parse report: %w", err)
}

func principalName(p *patchpanda.Principal) string {
	if p == nil {
		return ""
	}
	return p.String()
}

// repoCoverageConfig returns the coverage settings at the uploaded commit:
// .testbot.yml at the sha merged with the server config; the defaults when
// the App cannot read it (not installed, no App, no file, invalid file).
func (s *Service) repoCoverageConfig(ctx context.Context, inst int64, owner, name string, params coverage.UploadParams) config.Coverage {
	var head *config.RepoConfig
	if inst != 0 {
		f, err := s.gh.Contents(ctx, inst, owner, name, ".testbot.yml", params.SHA)
		switch {
		case errors.Is(err, githubapp.ErrNotFound):
		case err != nil:
			s.log.WarnContext(ctx, "coverage: cannot read .testbot.yml; using the defaults", "repo", params.Repo, "sha", params.SHA, "error", err)
		default:
			cfg, perr := config.ParseRepoConfig(".testbot.yml", f.Content)
			if perr != nil {
				s.log.InfoContext(ctx, "coverage: .testbot.yml is invalid; using the defaults", "repo", params.Repo, "sha", params.SHA, "error", perr)
			} else {
				head = cfg
			}
		}
	}
	c, _ := config.Effective(s.opts.Server, nil, head, params.Repo)
	if c.Coverage.Uploads < 1 {
		c.Coverage.Uploads = 1
	}
	return c.Coverage
}

// mapPaths maps the report's paths to repository paths: with a file list
// by coverage.Mapper (suffix match, root, prefix, Go module path); without
// one by cleaning the paths and applying root, module and prefix only.
func (s *Service) mapPaths(ctx context.Context, inst int64, owner, name string, params coverage.UploadParams, format coverage.Format, sp *spooled, rep *coverage.Report) (*coverage.Report, []string) {
	opts := coverage.MapperOptions{ModulePath: params.Module, ModuleDir: params.ModuleDir, Root: params.Root, Prefix: params.Prefix}
	if format == coverage.Go && opts.ModulePath == "" {
		opts.ModulePath, opts.ModuleDir = s.goModule(ctx, inst, owner, name, params, sp.files)
	}
	if sp.hasList {
		return coverage.NewMapper(sp.files, opts).MapReport(rep)
	}
	out := &coverage.Report{Files: map[string]*coverage.File{}}
	var unmapped []string
	for _, p := range rep.Paths() {
		rp := normalize(p, opts)
		if rp == "" {
			unmapped = append(unmapped, p)
			continue
		}
		f := *rep.Files[p]
		f.Path = rp
		if old, ok := out.Files[rp]; ok {
			out.Files[rp] = coverage.Merge(&coverage.Report{Files: map[string]*coverage.File{rp: old}}, &coverage.Report{Files: map[string]*coverage.File{rp: &f}}).Files[rp]
			continue
		}
		out.Files[rp] = &f
	}
	return out, unmapped
}

// normalize cleans a report path without a file list to match against:
// slashes, root stripped, the Go module path replaced by its directory,
// prefix added. An absolute path that stays absolute cannot be a
// repository path and gives "".
func normalize(p string, o coverage.MapperOptions) string {
	p = strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(p), `\`, "/"), "file://")
	if p == "" {
		return ""
	}
	p = path.Clean(p)
	if root := strings.TrimSuffix(path.Clean(strings.ReplaceAll(o.Root, `\`, "/")), "/"); o.Root != "" && root != "." {
		if rest, ok := strings.CutPrefix(p, root+"/"); ok {
			p = rest
		}
	}
	if o.ModulePath != "" {
		if rest, ok := strings.CutPrefix(p, o.ModulePath+"/"); ok {
			p = rest
			if d := strings.Trim(o.ModuleDir, "/"); d != "" && d != "." {
				p = d + "/" + p
			}
		}
	}
	if path.IsAbs(p) || (len(p) > 1 && p[1] == ':') {
		return ""
	}
	if pre := strings.Trim(o.Prefix, "/"); pre != "" && pre != "." {
		p = pre + "/" + p
	}
	p = strings.TrimPrefix(p, "./")
	if p == "." || strings.HasPrefix(p, "../") {
		return ""
	}
	return p
}

// goModule reads go.mod at the commit (the App must be installed): the
// root one when the file list has it or there is no list, else the only
// one listed. It returns "" when there is none it can read.
func (s *Service) goModule(ctx context.Context, inst int64, owner, name string, params coverage.UploadParams, files []string) (modPath, modDir string) {
	if inst == 0 {
		return "", ""
	}
	candidate := "go.mod"
	if files != nil {
		var mods []string
		for _, f := range files {
			if f == "go.mod" || strings.HasSuffix(f, "/go.mod") {
				mods = append(mods, f)
			}
		}
		switch {
		case len(mods) == 0:
			return "", ""
		case contains(mods, "go.mod"):
		case len(mods) == 1:
			candidate = mods[0]
		default:
			s.log.InfoContext(ctx, "coverage: several go.mod files and no module= parameter; Go paths are matched by suffix only", "repo", params.Repo)
			return "", ""
		}
	}
	f, err := s.gh.Contents(ctx, inst, owner, name, candidate, params.SHA)
	if err != nil {
		if !errors.Is(err, githubapp.ErrNotFound) {
			s.log.WarnContext(ctx, "coverage: cannot read go.mod", "repo", params.Repo, "path", candidate, "error", err)
		}
		return "", ""
	}
	mp, err := coverage.ModulePath(f.Content)
	if err != nil {
		return "", ""
	}
	dir := path.Dir(candidate)
	if dir == "." {
		dir = ""
	}
	return mp, dir
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func uploadAnswer(r *store.CoverageReport, duplicate bool) coverage.Upload {
	return coverage.Upload{
		ID: r.ID, URL: "/api/coverage/" + strconv.FormatInt(r.ID, 10), Repository: r.Repository, SHA: r.SHA,
		Branch: r.Branch, PR: r.PR, Flag: r.Flag, Format: r.Format, Duplicate: duplicate, Totals: r.Totals,
		Mapped: r.Mapped, Unmapped: r.Unmapped, UnmappedCount: r.UnmappedCount, CreatedAt: r.CreatedAt,
	}
}
