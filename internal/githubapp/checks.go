package githubapp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// maxAnnotations is how many annotations GitHub takes in one request; more
// are sent in follow-up updates, which GitHub appends.
const maxAnnotations = 50

// CheckRunOptions are the fields of a check run to create or update. Empty
// fields are left out (on update: left as they are).
type CheckRunOptions struct {
	// Name is required: GitHub's update requires it too.
	Name string
	// HeadSHA is required on create and ignored on update.
	HeadSHA string
	// Status is "queued", "in_progress" or "completed".
	Status string
	// Conclusion ("success", "failure", "neutral", "cancelled", "skipped",
	// "timed_out", "action_required") completes the run.
	Conclusion  string
	DetailsURL  string
	ExternalID  string
	StartedAt   time.Time
	CompletedAt time.Time
	Output      *CheckRunOutput
}

// CheckRunOutput is what the check run page shows. Title and Summary are
// required when an output is given.
type CheckRunOutput struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation marks lines of a file in the check run.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	// Level is "notice", "warning" or "failure".
	Level   string
	Message string
	Title   string
}

// CheckRun is a check run as GitHub reports it.
type CheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	Status     string
	Conclusion string
	HTMLURL    string
	DetailsURL string
	ExternalID string
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
	annotationLevels = []string{"notice", "warning", "failure"}
)

func (o CheckRunOptions) validate(create bool) error {
	switch {
	case o.Name == "":
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: name is required")
	case create && o.HeadSHA == "":
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: head_sha is required")
	case o.Status != "" && !slices.Contains(checkStatuses, o.Status):
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: status %q is not one of %v", o.Status, checkStatuses)
	case o.Conclusion != "" && !slices.Contains(checkConclusions, o.Conclusion):
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: conclusion %q is not one of %v", o.Conclusion, checkConclusions)
	case o.Status == "completed" && o.Conclusion == "":
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: a completed run needs a conclusion")
	}
	if o.Output == nil {
		return nil
	}
	if o.Output.Title == "" || o.Output.Summary == "" {
		return patchpanda.Errorf(patchpanda.EINVALID, "check run: output needs a title and a summary")
	}
	for i, a := range o.Output.Annotations {
		if a.Path == "" || a.StartLine <= 0 || a.EndLine < a.StartLine || a.Message == "" || !slices.Contains(annotationLevels, a.Level) {
			return patchpanda.Errorf(patchpanda.EINVALID,
				"check run: annotation %d: needs a path, 0 < start_line <= end_line, a message and a level in %v", i, annotationLevels)
		}
	}
	return nil
}

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func ts(t time.Time) *github.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &github.Timestamp{Time: t}
}

// output converts o with the annotations from index lo on (at most
// maxAnnotations of them).
func (o *CheckRunOutput) output(lo int) *github.CheckRunOutput {
	if o == nil {
		return nil
	}
	out := &github.CheckRunOutput{Title: &o.Title, Summary: &o.Summary, Text: ptr(o.Text)}
	hi := min(lo+maxAnnotations, len(o.Annotations))
	for _, a := range o.Annotations[lo:hi] {
		out.Annotations = append(out.Annotations, &github.CheckRunAnnotation{
			Path: ptr(a.Path), StartLine: ptr(a.StartLine), EndLine: ptr(a.EndLine),
			AnnotationLevel: ptr(a.Level), Message: ptr(a.Message), Title: ptr(a.Title),
		})
	}
	return out
}

func checkRun(cr *github.CheckRun) *CheckRun {
	return &CheckRun{
		ID:         cr.GetID(),
		Name:       cr.GetName(),
		HeadSHA:    cr.GetHeadSHA(),
		Status:     cr.GetStatus(),
		Conclusion: cr.GetConclusion(),
		HTMLURL:    cr.GetHTMLURL(),
		DetailsURL: cr.GetDetailsURL(),
		ExternalID: cr.GetExternalID(),
	}
}

// CreateCheckRun creates a check run on opts.HeadSHA of owner/repo (POST
// /repos/{o}/{r}/check-runs, as the installation) and returns it. More than
// 50 annotations are sent in follow-up updates. A conclusion without a
// CompletedAt is completed now. It returns an EINVALID error for options
// GitHub would refuse, without calling it. Without App credentials it
// returns a check run with ID 0.
func (c *Client) CreateCheckRun(ctx context.Context, installationID int64, owner, repo string, opts CheckRunOptions) (*CheckRun, error) {
	const route = "/repos/{owner}/{repo}/check-runs"
	op := fmt.Sprintf("create check run %q on %s/%s@%s", opts.Name, owner, repo, opts.HeadSHA)
	if err := opts.validate(true); err != nil {
		return nil, fmt.Errorf("githubapp: %s: %w", op, err)
	}
	if !c.enabled {
		c.skip(ctx, "POST "+route, slog.String("repo", owner+"/"+repo), slog.String("name", opts.Name),
			slog.String("head_sha", opts.HeadSHA), slog.String("status", opts.Status), slog.String("conclusion", opts.Conclusion))
		return &CheckRun{Name: opts.Name, HeadSHA: opts.HeadSHA, Status: opts.Status, Conclusion: opts.Conclusion}, nil
	}
	if opts.Conclusion != "" && opts.CompletedAt.IsZero() {
		opts.CompletedAt = c.now()
	}
	req := github.CreateCheckRunOptions{
		Name:        opts.Name,
		HeadSHA:     opts.HeadSHA,
		DetailsURL:  ptr(opts.DetailsURL),
		ExternalID:  ptr(opts.ExternalID),
		Status:      ptr(opts.Status),
		Conclusion:  ptr(opts.Conclusion),
		StartedAt:   ts(opts.StartedAt),
		CompletedAt: ts(opts.CompletedAt),
		Output:      opts.Output.output(0),
	}
	var cr *github.CheckRun
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		cr, _, err = gh.Checks.CreateCheckRun(withRoute(ctx, route), owner, repo, req)
		return err
	})
	if err != nil {
		return nil, c.classify(op, err)
	}
	out := checkRun(cr)
	if err := c.moreAnnotations(ctx, installationID, owner, repo, out.ID, opts); err != nil {
		return out, fmt.Errorf("githubapp: %s: %w", op, err)
	}
	return out, nil
}

// UpdateCheckRun changes check run id of owner/repo (PATCH
// /repos/{o}/{r}/check-runs/{id}, as the installation) and returns it.
// Annotations are added to those already there; more than 50 are sent in
// several requests. It returns an EINVALID error for options GitHub would
// refuse, and one wrapping ErrNotFound for an unknown check run. Without
// App credentials it returns a check run with the given ID.
func (c *Client) UpdateCheckRun(ctx context.Context, installationID int64, owner, repo string, id int64, opts CheckRunOptions) (*CheckRun, error) {
	const route = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
	op := fmt.Sprintf("update check run %d on %s/%s", id, owner, repo)
	if err := opts.validate(false); err != nil {
		return nil, fmt.Errorf("githubapp: %s: %w", op, err)
	}
	if !c.enabled {
		c.skip(ctx, "PATCH "+route, slog.String("repo", owner+"/"+repo), slog.Int64("check_run_id", id),
			slog.String("status", opts.Status), slog.String("conclusion", opts.Conclusion))
		return &CheckRun{ID: id, Name: opts.Name, Status: opts.Status, Conclusion: opts.Conclusion}, nil
	}
	if opts.Conclusion != "" && opts.CompletedAt.IsZero() {
		opts.CompletedAt = c.now()
	}
	req := github.UpdateCheckRunOptions{
		Name:        opts.Name,
		DetailsURL:  ptr(opts.DetailsURL),
		ExternalID:  ptr(opts.ExternalID),
		Status:      ptr(opts.Status),
		Conclusion:  ptr(opts.Conclusion),
		CompletedAt: ts(opts.CompletedAt),
		Output:      opts.Output.output(0),
	}
	cr, err := c.updateCheckRun(ctx, installationID, owner, repo, id, req)
	if err != nil {
		return nil, c.classify(op, err)
	}
	if err := c.moreAnnotations(ctx, installationID, owner, repo, id, opts); err != nil {
		return checkRun(cr), fmt.Errorf("githubapp: %s: %w", op, err)
	}
	return checkRun(cr), nil
}

func (c *Client) updateCheckRun(ctx context.Context, installationID int64, owner, repo string, id int64, req github.UpdateCheckRunOptions) (*github.CheckRun, error) {
	var cr *github.CheckRun
	err := c.asInstallation(ctx, installationID, func(gh *github.Client) error {
		var err error
		cr, _, err = gh.Checks.UpdateCheckRun(withRoute(ctx, "/repos/{owner}/{repo}/check-runs/{check_run_id}"), owner, repo, id, req)
		return err
	})
	return cr, err
}

// moreAnnotations sends annotations past the first 50, 50 per update.
func (c *Client) moreAnnotations(ctx context.Context, installationID int64, owner, repo string, id int64, opts CheckRunOptions) error {
	if opts.Output == nil {
		return nil
	}
	for lo := maxAnnotations; lo < len(opts.Output.Annotations); lo += maxAnnotations {
		req := github.UpdateCheckRunOptions{Name: opts.Name, Output: opts.Output.output(lo)}
		if _, err := c.updateCheckRun(ctx, installationID, owner, repo, id, req); err != nil {
			return c.classify(fmt.Sprintf("add annotations %d and on", lo), err)
		}
	}
	return nil
}
