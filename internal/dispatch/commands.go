package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/patchpanda/patchpanda/internal/authz"
	"github.com/patchpanda/patchpanda/internal/command"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// request is one ask for work on a pull request, from any trigger.
type request struct {
	delivery  patchpanda.Delivery
	repo      patchpanda.Repository
	inst      int64
	pr        patchpanda.PullRequest
	fork      bool
	actor     authz.Actor
	trigger   patchpanda.Trigger
	event     authz.Event
	action    string // the pull_request action, for triggers
	cmd       command.Command
	commentID int64
}

func (r *request) full() string { return r.repo.FullName() }

// key makes one command make at most one job, whatever delivery carries
// it: GitHub redelivers under new delivery ids, and so can anyone who
// captured a signed body. A comment command is (installation, comment id,
// command); a pull_request event is (installation, repository, pull
// request, head sha, action).
func (r *request) key() string {
	if r.commentID != 0 {
		return fmt.Sprintf("command:%d:%d:%s", r.inst, r.commentID, r.cmd.Name)
	}
	return fmt.Sprintf("pull_request:%d:%d:%d:%s:%s", r.inst, r.repo.ID, r.pr.Number, r.pr.HeadSHA, r.action)
}

func (d *Dispatcher) comment(ctx context.Context, del patchpanda.Delivery, e *webhook.IssueCommentEvent) (intake.Commit, error) {
	// Edited and deleted comments, comments on plain issues and comments
	// by bots never trigger.
	if e.Action != commentAction || !e.IsPullRequest || e.User.IsBot() || e.InstallationID == 0 {
		return nil, nil
	}
	cmd, ok := command.Parse(e.Body)
	if !ok {
		return nil, nil
	}
	full := e.Repository.FullName()
	if reply := replyFor(cmd, e.User.Login); reply != "" {
		return func(ctx context.Context, q *store.Queries) error {
			return feedback.Enqueue(ctx, q, feedback.Comment(e.InstallationID, full, e.IssueNumber, reply))
		}, nil
	}
	pr, err := d.GitHub.PullRequest(ctx, e.InstallationID, e.Repository.Owner, e.Repository.Name, e.IssueNumber)
	if err != nil {
		return nil, fmt.Errorf("dispatch: pull request %s#%d: %w", full, e.IssueNumber, err)
	}
	return d.request(ctx, &request{
		delivery: del, repo: e.Repository, inst: e.InstallationID,
		pr:   patchpanda.PullRequest{Number: pr.Number, HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA},
		fork: pr.Fork(), actor: authz.Actor{Login: e.User.Login, Bot: e.User.IsBot()},
		trigger: patchpanda.TriggerComment, event: authz.EventComment, cmd: cmd, commentID: e.CommentID,
	})
}

// replyFor answers a command that needs no decision: help, a malformed or
// an unknown command. It returns "" for a command to carry out.
func replyFor(cmd command.Command, login string) string {
	switch {
	case cmd.Unknown != "":
		s := fmt.Sprintf("@%s, `%s %s` is not a PatchPanda command.", login, command.Keyword, codeSafe(cmd.Unknown))
		if cmd.Suggestion != "" {
			s += fmt.Sprintf(" Did you mean `%s %s`?", command.Keyword, cmd.Suggestion)
		}
		return s + "\n\n" + command.HelpText()
	case cmd.Err != "":
		return fmt.Sprintf("@%s, that command cannot run: `%s`\n\n%s", login, codeSafe(cmd.Err), command.HelpText())
	case cmd.Name == command.Help:
		return command.HelpText()
	}
	return ""
}

// codeSafe keeps user text inside a code span.
func codeSafe(s string) string { return strings.ReplaceAll(s, "`", "'") }

func (d *Dispatcher) pullRequest(ctx context.Context, del patchpanda.Delivery, e *webhook.PullRequestEvent) (intake.Commit, error) {
	if !pullRequestActions[e.Action] {
		return nil, nil
	}
	if e.Draft || e.InstallationID == 0 {
		return nil, nil
	}
	return d.request(ctx, &request{
		delivery: del, repo: e.Repository, inst: e.InstallationID, pr: e.PullRequest(), fork: e.IsFork,
		actor:   authz.Actor{Login: e.Sender.Login, Bot: e.Sender.IsBot()},
		trigger: patchpanda.TriggerPullRequest, event: authz.EventPullRequest, action: e.Action,
		cmd: command.Command{Name: command.Generate},
	})
}

func (d *Dispatcher) checkRun(ctx context.Context, del patchpanda.Delivery, e *webhook.CheckRunEvent) (intake.Commit, error) {
	if e.Action != checkRunAction || e.Name != feedback.CheckName || e.ExternalID == "" || e.InstallationID == 0 {
		return nil, nil
	}
	if d.DB == nil {
		return nil, errors.New("dispatch: check run re-run: the Dispatcher has no database to find the job in")
	}
	orig, err := d.DB.Job(ctx, e.ExternalID)
	if patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND {
		return nil, nil // a check run some other relay or an old database made
	}
	if err != nil {
		return nil, err
	}
	actor := authz.Actor{Login: e.Sender.Login, Bot: e.Sender.IsBot()}
	v, err := d.Decide(ctx, Ask{Repo: e.Repository, Installation: e.InstallationID, PR: orig.PullRequest, LookUpFork: true,
		Actor: actor, Event: authz.EventCheckRerun, Job: orig})
	if err != nil {
		return nil, err
	}
	r := &request{delivery: del, repo: e.Repository, inst: e.InstallationID, pr: orig.PullRequest, actor: actor,
		trigger: patchpanda.TriggerCheckRerun, event: authz.EventCheckRerun}
	switch {
	case v.OverBudget:
		return d.overBudget(r, v.Budget), nil
	case !v.Allowed:
		return d.deny(r, v.Reason), nil
	}
	// One replay per check run: "Re-run" on the same run again, or its
	// delivery sent again under a new id, replays nothing more; the new
	// attempt has a check run of its own to re-run.
	key := fmt.Sprintf("rerun:%d:%d", e.InstallationID, e.CheckRunID)
	return func(ctx context.Context, q *store.Queries) error {
		j, err := jobs.Replay(ctx, q, orig, e.Sender.Login, patchpanda.TriggerCheckRerun, key)
		if err != nil || j.ReplayOf != orig.ID || j.Trigger != patchpanda.TriggerCheckRerun {
			return err
		}
		_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: e.Sender.Login, Action: patchpanda.AuditCommandAccept, Subject: "job:" + j.ID,
			Reason: fmt.Sprintf("check_rerun by %s on %s#%d: %s", e.Sender.Login, r.full(), r.pr.Number, v.Reason)})
		return err
	}, nil
}

// request decides a request: config, then who asked, then budget, then
// the command.
func (d *Dispatcher) request(ctx context.Context, r *request) (intake.Commit, error) {
	base, baseErr := d.repoConfig(ctx, r.inst, r.repo, "")
	head, headErr := d.repoConfig(ctx, r.inst, r.repo, r.pr.HeadSHA)
	for _, err := range []error{baseErr, headErr} {
		var verrs config.ValidationErrors
		if err != nil && !errors.As(err, &verrs) {
			return nil, err
		}
	}
	if headErr != nil || baseErr != nil {
		return d.rejectConfig(r, append(asViolations(baseErr, config.LayerBase), asViolations(headErr, config.LayerHead)...)), nil
	}
	eff, violations := config.Effective(d.Server, base, head, r.full())
	var blocking []config.Violation
	for _, v := range violations {
		if v.Layer == config.LayerHead {
			blocking = append(blocking, v)
		}
	}
	if len(blocking) > 0 {
		return d.rejectConfig(r, blocking), nil
	}
	if !eff.TriggeredBy(r.trigger, r.action) {
		return nil, nil
	}

	v, err := d.Decide(ctx, Ask{Repo: r.repo, Installation: r.inst, PR: r.pr, Fork: r.fork, Actor: r.actor, Event: r.event,
		Access: &eff.Access, SkipBudget: r.cmd.Name == command.Cancel})
	if err != nil {
		return nil, err
	}
	switch {
	case v.OverBudget:
		return d.overBudget(r, v.Budget), nil
	case !v.Allowed:
		return d.deny(r, v.Reason), nil
	}
	budget := v.Budget

	switch r.cmd.Name {
	case command.Cancel:
		return d.cancel(r), nil
	case command.Retry:
		return d.retry(r), nil
	}

	cfgJSON, err := jobConfig(eff, r.cmd)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, q *store.Queries) error {
		j := &patchpanda.Job{
			Repository: r.repo, InstallationID: r.inst, PullRequest: r.pr, RequestedBy: r.actor.Login,
			Trigger: r.trigger, Config: cfgJSON, BillingProject: budget.Project, UniqueKey: r.key(),
		}
		created, err := jobs.Enqueue(ctx, q, j, r.delivery.ID, r.actor.Login)
		if err != nil || !created {
			return err
		}
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: r.actor.Login, Action: patchpanda.AuditCommandAccept, Subject: "job:" + j.ID,
			Reason: fmt.Sprintf("%s by %s on %s#%d (role %s)", r.trigger, r.actor.Login, r.full(), r.pr.Number, orDash(string(v.Role))),
		}); err != nil {
			return err
		}
		if r.commentID != 0 {
			return feedback.Enqueue(ctx, q, feedback.Reaction(r.inst, r.full(), r.commentID, "eyes"))
		}
		return nil
	}, nil
}

// jobConfig is the effective config with the command's own choices (paths,
// framework) applied, as the worker receives it.
func jobConfig(eff config.Config, cmd command.Command) (json.RawMessage, error) {
	if len(cmd.Paths) > 0 {
		eff.Generate.Paths = cmd.Paths
	}
	if cmd.Framework != "" {
		eff.Generate.Framework = cmd.Framework
	}
	b, err := json.Marshal(eff)
	if err != nil {
		return nil, fmt.Errorf("dispatch: encode config: %w", err)
	}
	return b, nil
}

func (d *Dispatcher) cancel(r *request) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		j, err := q.LatestJobForPR(ctx, r.full(), r.pr.Number)
		if patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND || (err == nil && j.State.Terminal()) {
			return feedback.Enqueue(ctx, q, feedback.Comment(r.inst, r.full(), r.pr.Number,
				fmt.Sprintf("@%s, there is no queued or running PatchPanda job on this pull request to cancel.", r.actor.Login)))
		}
		if err != nil {
			return err
		}
		if _, err := jobs.Move(ctx, q, j.ID, patchpanda.JobEvent{Type: patchpanda.EventCancelled, Message: "cancelled by @" + r.actor.Login}, 0, r.actor.Login); err != nil {
			return err
		}
		return feedback.Enqueue(ctx, q, feedback.Reaction(r.inst, r.full(), r.commentID, "eyes"))
	}
}

func (d *Dispatcher) retry(r *request) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		j, err := q.LatestJobForPR(ctx, r.full(), r.pr.Number)
		if patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND {
			return feedback.Enqueue(ctx, q, feedback.Comment(r.inst, r.full(), r.pr.Number,
				fmt.Sprintf("@%s, there is no earlier PatchPanda job on this pull request to retry; use `/patchpanda generate`.", r.actor.Login)))
		}
		if err != nil {
			return err
		}
		if _, err := jobs.Replay(ctx, q, j, r.actor.Login, patchpanda.TriggerReplay, r.key()); err != nil {
			return err
		}
		return feedback.Enqueue(ctx, q, feedback.Reaction(r.inst, r.full(), r.commentID, "eyes"))
	}
}

func (d *Dispatcher) deny(r *request, reason string) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: r.actor.Login, Action: patchpanda.AuditCommandDenied, Subject: fmt.Sprintf("%s#%d", r.full(), r.pr.Number), Reason: reason,
		}); err != nil {
			return err
		}
		// PR events are not a person asking; only a command gets a reply.
		if r.trigger != patchpanda.TriggerComment {
			return nil
		}
		return feedback.Enqueue(ctx, q, feedback.Comment(r.inst, r.full(), r.pr.Number,
			fmt.Sprintf("@%s, PatchPanda cannot do that for you: %s.", r.actor.Login, strings.TrimSuffix(reason, "."))))
	}
}

func (d *Dispatcher) overBudget(r *request, b Budget) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: r.actor.Login, Action: patchpanda.AuditOverBudget, Subject: fmt.Sprintf("%s#%d", r.full(), r.pr.Number),
			Reason: "billing project " + b.Project + ": " + b.Detail,
		}); err != nil {
			return err
		}
		summary := fmt.Sprintf("No job was started: the billing project **%s** is over its budget.\n\n%s\n\nAn administrator can raise the budget (`ppctl billing projects set-budget`).", b.Project, b.Detail)
		return feedback.Enqueue(ctx, q, feedback.Action{
			Type: feedback.ActionCheckRun, InstallationID: r.inst, Repository: r.full(),
			Check: &feedback.Check{HeadSHA: r.pr.HeadSHA, Conclusion: "action_required", Title: "Over budget", Summary: summary},
		}, feedback.Comment(r.inst, r.full(), r.pr.Number, fmt.Sprintf("@%s, %s", r.actor.Login, summary)))
	}
}

// rejectConfig fails the check run with an annotation on each offending
// line of the pull request's .testbot.yml, and says so in one comment.
func (d *Dispatcher) rejectConfig(r *request, vs []config.Violation) intake.Commit {
	var lines []string
	var notes []githubapp.Annotation
	for _, v := range vs {
		line := v.ValidationError.Error()
		if v.Rule != "" {
			line += " (rejected by " + v.Rule + ")"
		}
		lines = append(lines, "- `"+codeSafe(line)+"`")
		if v.Layer == config.LayerHead && v.Line > 0 {
			msg := v.Message
			if v.Rule != "" {
				msg += " (rejected by " + v.Rule + ")"
			}
			notes = append(notes, githubapp.Annotation{Path: configFile, StartLine: v.Line, EndLine: v.Line, Level: "failure", Title: v.Path, Message: msg})
		}
	}
	summary := "PatchPanda did not start: the configuration has problems.\n\n" + strings.Join(lines, "\n")
	return func(ctx context.Context, q *store.Queries) error {
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: r.actor.Login, Action: patchpanda.AuditConfigRejected, Subject: fmt.Sprintf("%s#%d", r.full(), r.pr.Number),
			Reason: strings.Join(lines, "; "),
		}); err != nil {
			return err
		}
		actions := []feedback.Action{{
			Type: feedback.ActionCheckRun, InstallationID: r.inst, Repository: r.full(),
			Check: &feedback.Check{HeadSHA: r.pr.HeadSHA, Conclusion: "failure", Title: "Invalid .testbot.yml", Summary: summary, Annotations: notes},
		}}
		if r.trigger == patchpanda.TriggerComment {
			actions = append(actions, feedback.Comment(r.inst, r.full(), r.pr.Number, fmt.Sprintf("@%s, %s", r.actor.Login, summary)))
		}
		return feedback.Enqueue(ctx, q, actions...)
	}
}

func asViolations(err error, layer string) []config.Violation {
	var verrs config.ValidationErrors
	if !errors.As(err, &verrs) {
		return nil
	}
	out := make([]config.Violation, len(verrs))
	for i, v := range verrs {
		out[i] = config.Violation{ValidationError: v, Layer: layer}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
