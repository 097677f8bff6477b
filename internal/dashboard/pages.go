package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func notFound(format string, args ...any) error {
	return patchpanda.Errorf(patchpanda.ENOTFOUND, format, args...)
}

// repoOf reads {owner}/{name} and checks the person may see it; a
// repository they may not see is "not found", as on GitHub.
func repoOf(r *http.Request, u *user) (string, error) {
	repo := r.PathValue("owner") + "/" + r.PathValue("name")
	if _, _, err := patchpanda.ParseFullName(repo); err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%q is not owner/name", repo)
	}
	if !u.Sees(repo) {
		return "", notFound("no repository %s", repo)
	}
	return repo, nil
}

type repoRow struct {
	Repository string
	Latest     coverage.Commit
	Branch     string
}

// repositories lists every repository with coverage the person may see,
// with its newest commit's coverage.
func (d *Dashboard) repositories(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Coverage == nil {
		return notFound("coverage is not served by this relay")
	}
	list, err := d.opts.Coverage.List(r.Context(), coverage.ListParams{Limit: 500})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var rows []repoRow
	for _, rep := range list.Reports {
		if seen[rep.Repository] || !u.Sees(rep.Repository) {
			continue
		}
		seen[rep.Repository] = true
		row := repoRow{Repository: rep.Repository, Branch: rep.Branch}
		for _, c := range list.Commits {
			if c.Repository == rep.Repository && c.SHA == rep.SHA {
				row.Latest = c
			}
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b repoRow) int { return cmp.Compare(a.Repository, b.Repository) })
	d.render(w, r, http.StatusOK, "repositories", u, rows)
	return nil
}

type repoPage struct {
	Repository string
	Branch     string
	Latest     *coverage.Commit
	Commits    []coverage.Commit // newest first
	Trend      trend
	Pulls      []coverage.PullRequest
}

// defaultBranch is the branch of the newest upload that belongs to no pull
// request: uploads from pushes to the default branch.
func defaultBranch(reports []coverage.StoredReport) string {
	for _, r := range reports {
		if r.PR == 0 && r.Branch != "" {
			return r.Branch
		}
	}
	return ""
}

func (d *Dashboard) repository(w http.ResponseWriter, r *http.Request, u *user) error {
	repo, err := repoOf(r, u)
	if err != nil {
		return err
	}
	if d.opts.Coverage == nil {
		return notFound("coverage is not served by this relay")
	}
	ctx := r.Context()
	all, err := d.opts.Coverage.List(ctx, coverage.ListParams{Repo: repo, Limit: 500})
	if err != nil {
		return err
	}
	if len(all.Reports) == 0 {
		return notFound("no coverage was uploaded for %s", repo)
	}
	p := repoPage{Repository: repo, Branch: r.URL.Query().Get("branch")}
	if p.Branch == "" {
		p.Branch = defaultBranch(all.Reports)
	}
	branch, err := d.opts.Coverage.List(ctx, coverage.ListParams{Repo: repo, Branch: p.Branch, Limit: 500})
	if err != nil {
		return err
	}
	p.Commits = branch.Commits
	if len(p.Commits) > 0 {
		p.Latest = &p.Commits[0]
	}
	var shas []string
	var pcts []float64
	for i := len(p.Commits) - 1; i >= 0; i-- {
		shas, pcts = append(shas, p.Commits[i].SHA), append(pcts, p.Commits[i].Totals.Percent)
	}
	p.Trend = newTrend(shas, pcts)
	// Pull requests with coverage, newest upload first; at most ten, each
	// costing GitHub calls.
	seen := map[int]bool{}
	for _, rep := range all.Reports {
		if rep.PR == 0 || seen[rep.PR] || len(seen) >= 10 {
			continue
		}
		seen[rep.PR] = true
		pc, err := d.opts.Coverage.PullRequest(ctx, repo, rep.PR)
		if err != nil {
			return err
		}
		if pc.State == "closed" {
			continue
		}
		p.Pulls = append(p.Pulls, pc)
	}
	d.render(w, r, http.StatusOK, "repository", u, p)
	return nil
}

type commitPage struct {
	coverage.CommitFiles
}

func (d *Dashboard) commit(w http.ResponseWriter, r *http.Request, u *user) error {
	repo, err := repoOf(r, u)
	if err != nil {
		return err
	}
	sha := r.PathValue("sha")
	if !httpapi.ValidSHA(sha) {
		return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a full commit sha", sha)
	}
	if d.opts.Coverage == nil {
		return notFound("coverage is not served by this relay")
	}
	c, err := d.opts.Coverage.CommitFiles(r.Context(), repo, sha)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "commit", u, commitPage{c})
	return nil
}

type sourceLine struct {
	Number int
	Text   string
	Class  string // "hit", "miss", "partial" or "" for a line coverage does not count
	Hits   string
}

type filePage struct {
	coverage.FileView
	Rows []sourceLine
}

func (d *Dashboard) file(w http.ResponseWriter, r *http.Request, u *user) error {
	repo, err := repoOf(r, u)
	if err != nil {
		return err
	}
	sha, path := r.PathValue("sha"), r.PathValue("path")
	if !httpapi.ValidSHA(sha) {
		return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a full commit sha", sha)
	}
	if d.opts.Coverage == nil {
		return notFound("coverage is not served by this relay")
	}
	v, err := d.opts.Coverage.FileLines(r.Context(), repo, sha, path)
	if err != nil {
		return err
	}
	p := filePage{FileView: v}
	hits := map[int]int{}
	for i, l := range v.Lines {
		hits[l.Number] = i
	}
	n := len(v.Source)
	if n == 0 && len(v.Lines) > 0 {
		n = v.Lines[len(v.Lines)-1].Number
	}
	for i := 1; i <= n; i++ {
		row := sourceLine{Number: i}
		if i <= len(v.Source) {
			row.Text = v.Source[i-1]
		}
		if j, ok := hits[i]; ok {
			l := v.Lines[j]
			row.Hits = strconv.FormatInt(l.Hits, 10)
			switch {
			case l.Covered():
				row.Class = "hit"
			case l.Partial():
				row.Class = "partial"
			default:
				row.Class = "miss"
			}
		}
		p.Rows = append(p.Rows, row)
	}
	d.render(w, r, http.StatusOK, "file", u, p)
	return nil
}

type pullPage struct {
	coverage.PullRequest
	Jobs []*patchpanda.Job
}

func (d *Dashboard) pull(w http.ResponseWriter, r *http.Request, u *user) error {
	repo, err := repoOf(r, u)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a pull request number", r.PathValue("number"))
	}
	if d.opts.Coverage == nil {
		return notFound("coverage is not served by this relay")
	}
	pc, err := d.opts.Coverage.PullRequest(r.Context(), repo, n)
	if err != nil {
		return err
	}
	p := pullPage{PullRequest: pc}
	if d.opts.Jobs != nil {
		js, _, err := d.opts.Jobs.List(r.Context(), patchpanda.JobFilter{Repository: repo, Limit: 200})
		if err != nil {
			return err
		}
		for _, j := range js {
			if j.PullRequest.Number == n {
				p.Jobs = append(p.Jobs, j)
			}
		}
	}
	d.render(w, r, http.StatusOK, "pull", u, p)
	return nil
}

type jobsPage struct {
	Repo, State string
	States      []patchpanda.JobState
	Jobs        []*patchpanda.Job
	Next        string
}

func (d *Dashboard) jobs(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Jobs == nil {
		return notFound("jobs are not served by this relay")
	}
	q := r.URL.Query()
	p := jobsPage{Repo: q.Get("repo"), State: q.Get("state"),
		States: []patchpanda.JobState{patchpanda.JobQueued, patchpanda.JobRunning, patchpanda.JobSucceeded, patchpanda.JobFailed, patchpanda.JobCancelled}}
	f := patchpanda.JobFilter{Repository: p.Repo, State: patchpanda.JobState(p.State), After: q.Get("cursor"), Limit: 50}
	if f.State != "" && !slices.Contains(p.States, f.State) {
		return patchpanda.Errorf(patchpanda.EINVALID, "state %q is not one of queued, running, succeeded, failed, cancelled", f.State)
	}
	js, next, err := d.opts.Jobs.List(r.Context(), f)
	if err != nil {
		return err
	}
	for _, j := range js {
		if u.Sees(j.Repository.FullName()) {
			p.Jobs = append(p.Jobs, j)
		}
	}
	p.Next = next
	d.render(w, r, http.StatusOK, "jobs", u, p)
	return nil
}

type jobPage struct {
	Job       *patchpanda.Job
	CanReplay bool
	Replayed  bool
}

// visibleJob loads a job the person may see; others are "not found".
func (d *Dashboard) visibleJob(ctx context.Context, u *user, id string) (*patchpanda.Job, error) {
	if d.opts.Jobs == nil {
		return nil, notFound("jobs are not served by this relay")
	}
	j, err := d.opts.Jobs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !u.Sees(j.Repository.FullName()) {
		return nil, notFound("no job %s", id)
	}
	return j, nil
}

func (d *Dashboard) job(w http.ResponseWriter, r *http.Request, u *user) error {
	j, err := d.visibleJob(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "job", u, jobPage{Job: j, CanReplay: u.Can(config.DashboardOperator, j.Repository.FullName()),
		Replayed: r.URL.Query().Get("replayed") == "1"})
	return nil
}

// replay enqueues the job again through the job service's Replay, the same
// call POST /api/jobs/{id}/replay makes, so every rule that applies to a
// replay applies here too.
func (d *Dashboard) replay(w http.ResponseWriter, r *http.Request, u *user) error {
	j, err := d.visibleJob(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !u.Can(config.DashboardOperator, j.Repository.FullName()) {
		return forbidden("replaying a job of %s needs the operator role on it", j.Repository.FullName())
	}
	n, err := d.opts.Jobs.Replay(r.Context(), j.ID, u.Principal())
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/jobs/"+n.ID+"?replayed=1", http.StatusSeeOther)
	return nil
}

type auditPage struct {
	Events   []patchpanda.AuditEvent // newest first
	Checked  int
	Verified bool
	Problem  string
	Partial  bool // more events than one page verifies
}

// maxAuditVerify bounds how many events one page load hashes.
const maxAuditVerify = 100_000

func (d *Dashboard) audit(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Audit == nil {
		return notFound("the audit log is not served by this relay")
	}
	p := auditPage{Verified: true}
	prev := audit.Genesis
	var after int64
	var recent []patchpanda.AuditEvent
	for p.Checked < maxAuditVerify {
		page, err := d.opts.Audit.AuditEvents(r.Context(), patchpanda.AuditFilter{AfterID: after, Limit: 1000})
		if err != nil {
			return err
		}
		if p.Verified {
			if prev, err = audit.Verify(page, prev); err != nil {
				p.Verified, p.Problem = false, err.Error()
			}
		}
		p.Checked += len(page)
		recent = append(recent, page...)
		if len(recent) > 100 {
			recent = recent[len(recent)-100:]
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	p.Partial = p.Checked >= maxAuditVerify
	slices.Reverse(recent)
	p.Events = recent
	d.render(w, r, http.StatusOK, "audit", u, p)
	return nil
}

func (d *Dashboard) billing(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Billing == nil {
		return notFound("billing is not served by this relay")
	}
	ps, err := d.opts.Billing.Projects(r.Context())
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "billing", u, struct {
		Projects []patchpanda.BillingProjectStatus
	}{ps})
	return nil
}

type keysPage struct {
	Keys    []patchpanda.APIKey
	Scopes  []patchpanda.Scope
	Created *patchpanda.APIKey
	Plain   string // the new key, shown once
}

func allScopes() []patchpanda.Scope {
	return []patchpanda.Scope{patchpanda.ScopeCoverageRead, patchpanda.ScopeCoverageWrite, patchpanda.ScopeJobsRead,
		patchpanda.ScopeJobsWrite, patchpanda.ScopeWorker, patchpanda.ScopeAdmin}
}

func (d *Dashboard) keysPage(ctx context.Context) (keysPage, error) {
	if d.opts.Keys == nil {
		return keysPage{}, notFound("API keys are not served by this relay")
	}
	ks, err := d.opts.Keys.List(ctx)
	return keysPage{Keys: ks, Scopes: allScopes()}, err
}

func (d *Dashboard) keys(w http.ResponseWriter, r *http.Request, u *user) error {
	p, err := d.keysPage(r.Context())
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "keys", u, p)
	return nil
}

// createKey creates a key through the same service as POST
// /api/admin/keys and shows it once; it is never stored or logged here.
func (d *Dashboard) createKey(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Keys == nil {
		return notFound("API keys are not served by this relay")
	}
	var scopes []patchpanda.Scope
	for _, s := range r.PostForm["scope"] {
		scopes = append(scopes, patchpanda.Scope(s))
	}
	ttl, err := httpapi.ParseLifetime(r.PostFormValue("expires"))
	if err != nil {
		return err
	}
	k, plain, err := d.opts.Keys.Create(r.Context(), r.PostFormValue("name"), scopes, ttl, u.Actor())
	if err != nil {
		return err
	}
	p, err := d.keysPage(r.Context())
	if err != nil {
		return err
	}
	p.Created, p.Plain = &k, plain
	d.render(w, r, http.StatusCreated, "keys", u, p)
	return nil
}

func (d *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request, u *user) error {
	if d.opts.Keys == nil {
		return notFound("API keys are not served by this relay")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "%q is not a key id", r.PathValue("id"))
	}
	if _, err := d.opts.Keys.Revoke(r.Context(), id, u.Actor()); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/keys", http.StatusSeeOther)
	return nil
}
