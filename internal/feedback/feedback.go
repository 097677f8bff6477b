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

	"github.com/patchpanda/patchpanda/internal/billing/billingtypes"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/ratelimit"
	"github.com/patchpanda/patchpanda/internal/store"
)

// CheckName is the check run PatchPanda reports jobs on.
const CheckName = "PatchPanda / tests"

// Action is one thing to tell GitHub, stored in the outbox.
type Action struct {
	Type           string `json:"type"` // "reaction", "comment" or "check_run"
	InstallationID int64  `json:"installation_id"`
	Repository     string `json:"repository"`
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
	return Action{Type: "reaction", InstallationID: inst, Repository: repo, CommentID: commentID, Content: content}
}

// Comment returns the action of commenting on an issue or pull request.
func Comment(inst int64, repo string, number int, body string) Action {
	return Action{Type: "comment", InstallationID: inst, Repository: repo, Number: number, Body: body}
}

// JobCheck returns the action of bringing a job's check run up to date.
func JobCheck(j *patchpanda.Job) Action {
	return Action{Type: "check_run", InstallationID: j.InstallationID, Repository: j.Repository.FullName(), JobID: j.ID}
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
	case "reaction":
		return s.GitHub.ReactToComment(ctx, a.InstallationID, owner, name, a.CommentID, a.Content)
	case "comment":
		_, err := s.GitHub.CreateComment(ctx, a.InstallationID, owner, name, a.Number, a.Body)
		return err
	case "check_run":
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
	if j.CheckRunID == 0 {
		cr, err := s.GitHub.CreateCheckRun(ctx, a.InstallationID, owner, name, opts)
		if err != nil {
			return err
		}
		if cr == nil { // no GitHub App configured: logged, not made
			return nil
		}
		return s.DB.SetCheckRun(ctx, j.ID, cr.ID)
	}
	_, err = s.GitHub.UpdateCheckRun(ctx, a.InstallationID, owner, name, j.CheckRunID, opts)
	return err
}

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
		fmt.Fprintf(&sb, "| Cost | $%s |\n", billingtypes.FormatUSD(j.CostMicros))
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
