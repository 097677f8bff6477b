// Package feedback tells people on GitHub what PatchPanda decided: an eyes
// reaction on an accepted command, the "PatchPanda / tests" check run that
// follows a job from queued to its outcome, and a comment only where a
// person must act. Actions are written to the outbox with the decision and
// carried out here, at least once; check runs are rendered from the job's
// current state, so carrying one out twice changes nothing.
package feedback

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/ratelimit"
	"github.com/patchpanda/patchpanda/internal/store"
)

// CheckName is the check run PatchPanda reports jobs on.
const CheckName = "PatchPanda / tests"

// Action is one thing to tell GitHub, stored in the outbox.
type Action struct {
	Type           ActionType `json:"type"`
	InstallationID int64      `json:"installation_id"`
	Repository     string     `json:"repository"`
	// reaction
	CommentID int64  `json:"comment_id,omitempty"`
	Content   string `json:"content,omitempty"`
	// comment
	Number int    `json:"number,omitempty"`
	Body   string `json:"body,omitempty"`
	// check_run about a job: rendered from the job's state at the time.
	JobID string `json:"job_id,omitempty"`
	// check_run not about a job (config invalid, over budget).
	Check *Check `json:"check,omitempty"`
	// coverage_comment and coverage_check: the commit (see coverage.go).
	Coverage *CoverageRef `json:"coverage,omitempty"`
}

// ActionType says what an Action does.
type ActionType string

// The actions feedback carries out (coverage.go adds the coverage ones).
const (
	ActionReaction ActionType = "reaction"  // react to a comment
	ActionComment  ActionType = "comment"   // comment on a pull request
	ActionCheckRun ActionType = "check_run" // create or update a check run
)

// Check is a completed check run that no job stands behind.
type Check struct {
	HeadSHA     string                 `json:"head_sha"`
	Conclusion  string                 `json:"conclusion"`
	Title       string                 `json:"title"`
	Summary     string                 `json:"summary"`
	Text        string                 `json:"text,omitempty"`
	Annotations []githubapp.Annotation `json:"annotations,omitempty"`
}

// Reaction returns the action of reacting to a comment.
func Reaction(inst int64, repo string, commentID int64, content string) Action {
	return Action{Type: ActionReaction, InstallationID: inst, Repository: repo, CommentID: commentID, Content: content}
}

// Comment returns the action of commenting on an issue or pull request.
func Comment(inst int64, repo string, number int, body string) Action {
	return Action{Type: ActionComment, InstallationID: inst, Repository: repo, Number: number, Body: body}
}

// JobCheck returns the action of bringing a job's check run up to date.
func JobCheck(j *patchpanda.Job) Action {
	return Action{Type: ActionCheckRun, InstallationID: j.InstallationID, Repository: j.Repository.FullName(), JobID: j.ID}
}

// Enqueue writes actions to the outbox inside the caller's transaction.
func Enqueue(ctx context.Context, q *store.Queries, actions ...Action) error {
	for _, a := range actions {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("feedback: encode %s: %w", a.Type, err)
		}
		if err := q.AddOutboxFor(ctx, store.OutboxGitHub, a.JobID, a.InstallationID, b); err != nil {
			return err
		}
	}
	return nil
}

// GitHub is the part of the GitHub client feedback uses.
type GitHub interface {
	ReactToComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, content string) error
	CreateComment(ctx context.Context, installationID int64, owner, repo string, number int, body string) (*githubapp.Comment, error)
	CreateCheckRun(ctx context.Context, installationID int64, owner, repo string, opts githubapp.CheckRunOptions) (*githubapp.CheckRun, error)
	UpdateCheckRun(ctx context.Context, installationID int64, owner, repo string, id int64, opts githubapp.CheckRunOptions) (*githubapp.CheckRun, error)
	CheckRunsForRef(ctx context.Context, installationID int64, owner, repo, ref, name string) ([]githubapp.CheckRun, error)
}

// Sender carries out actions, keeping each installation under GitHub's
// content-creation limit.
type Sender struct {
	GitHub GitHub
	DB     *store.DB
	// Limit keeps each installation under GitHub's content-creation
	// limit (about 80 requests a minute); nil: no limit.
	Limit *ratelimit.Buckets[int64]
}

// Send carries out one outbox entry. It returns a Permanent error for an
// entry that can never succeed.
func (s *Sender) Send(ctx context.Context, e store.OutboxEntry) error {
	var a Action
	if err := json.Unmarshal(e.Payload, &a); err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "feedback: outbox entry %d is not an action: %v", e.ID, err)
	}
	owner, name, err := patchpanda.ParseFullName(a.Repository)
	if err != nil {
		return err
	}
	if s.Limit != nil {
		if wait, ok := s.Limit.Take(a.InstallationID); !ok {
			return limited{time.Now().Add(wait)}
		}
	}
	switch a.Type {
	case ActionReaction:
		return s.GitHub.ReactToComment(ctx, a.InstallationID, owner, name, a.CommentID, a.Content)
	case ActionComment:
		_, err := s.GitHub.CreateComment(ctx, a.InstallationID, owner, name, a.Number, a.Body)
		return err
	case ActionCheckRun:
		if a.Check != nil {
			_, err := s.GitHub.CreateCheckRun(ctx, a.InstallationID, owner, name, githubapp.CheckRunOptions{
				Name: CheckName, HeadSHA: a.Check.HeadSHA, Status: "completed", Conclusion: a.Check.Conclusion,
				Output: &githubapp.CheckRunOutput{Title: a.Check.Title, Summary: a.Check.Summary, Text: a.Check.Text, Annotations: a.Check.Annotations},
			})
			return err
		}
		return s.syncJob(ctx, a, owner, name)
	case ActionCoverageComment:
		return s.sendCoverageComment(ctx, a, owner, name)
	case ActionCoverageCheck:
		return s.sendCoverageCheck(ctx, a, owner, name)
	}
	return patchpanda.Errorf(patchpanda.EINVALID, "feedback: unknown action %q", a.Type)
}

func (s *Sender) syncJob(ctx context.Context, a Action, owner, name string) error {
	j, err := s.DB.Job(ctx, a.JobID)
	if err != nil {
		return err
	}
	opts := Render(j)
	id := j.CheckRunID
	if id == 0 {
		if id, err = s.createOnce(ctx, a, owner, name, j, opts); err != nil || id == 0 {
			return err
		}
	}
	_, err = s.GitHub.UpdateCheckRun(ctx, a.InstallationID, owner, name, id, opts)
	return err
}

// createOnce finds or creates a job's check run and records its id, so
// that a job has one "PatchPanda / tests" run whatever happens: a run
// found at the head sha by its external id (the job id) is the job's, so
// a create whose answer was lost is not repeated; and only the relay that
// claimed the creation creates, so two relays do not both create. It
// returns the run's id when the caller should still update it, 0 when the
// run was just created with the job's current state.
func (s *Sender) createOnce(ctx context.Context, a Action, owner, name string, j *patchpanda.Job, opts githubapp.CheckRunOptions) (int64, error) {
	runs, err := s.GitHub.CheckRunsForRef(ctx, a.InstallationID, owner, name, j.PullRequest.HeadSHA, CheckName)
	if err != nil {
		return 0, err
	}
	for _, cr := range runs {
		if cr.ExternalID == j.ID && cr.ID != 0 {
			return cr.ID, s.DB.SetCheckRun(ctx, j.ID, cr.ID)
		}
	}
	claimed, err := s.DB.ClaimCheckRunCreation(ctx, j.ID, time.Minute)
	if err != nil {
		return 0, err
	}
	if !claimed {
		// Another relay (or an earlier attempt whose answer was lost) is
		// creating it: look again shortly.
		return 0, retryAt{time.Now().Add(10 * time.Second)}
	}
	cr, err := s.GitHub.CreateCheckRun(ctx, a.InstallationID, owner, name, opts)
	if err != nil {
		return 0, err
	}
	if cr == nil || cr.ID == 0 { // no GitHub App configured: logged, not made
		return 0, s.DB.ReleaseCheckRunCreation(ctx, j.ID)
	}
	return 0, s.DB.SetCheckRun(ctx, j.ID, cr.ID)
}

// retryAt asks the outbox to try an entry again at a time.
type retryAt struct{ at time.Time }

func (r retryAt) Error() string         { return "the check run is being created elsewhere; looking again" }
func (r retryAt) RetryAfter() time.Time { return r.at }

type limited struct{ at time.Time }

func (l limited) Error() string         { return "content-creation limit reached; waiting" }
func (l limited) RetryAfter() time.Time { return l.at }

// Render returns the check run that shows a job's state.
func Render(j *patchpanda.Job) githubapp.CheckRunOptions {
	opts := githubapp.CheckRunOptions{Name: CheckName, HeadSHA: j.PullRequest.HeadSHA, ExternalID: j.ID}
	var title, outcome string
	switch j.State {
	case patchpanda.JobQueued:
		opts.Status, title = "queued", "Queued"
		outcome = "Waiting for a worker."
	case patchpanda.JobRunning:
		opts.Status, title = "in_progress", "Generating tests"
		outcome = "A worker is generating tests."
		if j.StartedAt != nil {
			opts.StartedAt = *j.StartedAt
		}
		if j.Message != "" {
			outcome += "\n\nLatest progress: " + j.Message
		}
	case patchpanda.JobSucceeded:
		opts.Status, opts.Conclusion, title = "completed", "success", "Tests generated"
		outcome = "Done."
		if j.ResultURL != "" {
			outcome = "Done: " + j.ResultURL
		}
	case patchpanda.JobFailed:
		opts.Status, opts.Conclusion, title = "completed", "failure", "Test generation failed"
		outcome = "Failed: " + orNone(j.Message)
	case patchpanda.JobCancelled:
		opts.Status, opts.Conclusion, title = "completed", "cancelled", "Cancelled"
		outcome = "Cancelled."
	}
	if j.FinishedAt != nil {
		opts.CompletedAt = *j.FinishedAt
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "**Outcome:** %s\n\n", outcome)
	fmt.Fprintf(&sb, "| | |\n| --- | --- |\n| Asked by | @%s (%s) |\n| Job | `%s`, attempt %d |\n", j.RequestedBy, j.Trigger, j.ID, j.Attempt)
	if j.CostMicros > 0 {
		fmt.Fprintf(&sb, "| Cost | $%s |\n", patchpanda.FormatUSD(j.CostMicros))
	}
	if j.BillingProject != "" {
		fmt.Fprintf(&sb, "| Billing project | %s |\n", j.BillingProject)
	}
	text := ""
	if len(j.Config) > 0 {
		var pretty strings.Builder
		var v any
		if json.Unmarshal(j.Config, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			pretty.Write(b)
		}
		text = "### Configuration used\n\n```json\n" + pretty.String() + "\n```\n"
	}
	opts.Output = &githubapp.CheckRunOutput{Title: title, Summary: sb.String(), Text: text}
	return opts
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
