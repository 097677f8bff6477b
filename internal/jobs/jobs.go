// Package jobs owns a job's life after the decision to make it: enqueueing
// it with its outbox entries and audit event in the caller's transaction,
// replays, the worker's events and the db queue's leases. Dispatch and the
// REST API both go through it, so a job is made and moved one way only.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Enqueue creates j (queued), and in the same transaction an outbox entry
// publishing it, its check run, and a job.enqueued audit event by actor.
// When j.UniqueKey names an existing job nothing is written and Enqueue
// returns false, with j.ID set to the existing job's id.
func Enqueue(ctx context.Context, q *store.Queries, j *patchpanda.Job, deliveryID int64, actor string) (bool, error) {
	if j.ID == "" {
		j.ID = patchpanda.NewJobID(q.Now())
	}
	if j.Kind == "" {
		j.Kind = patchpanda.JobKindGenerateTests
	}
	if j.Attempt == 0 {
		j.Attempt = 1
	}
	created, err := q.CreateJob(ctx, j, deliveryID)
	if err != nil || !created {
		return false, err
	}
	if err := publish(ctx, q, j); err != nil {
		return false, err
	}
	if err := feedback.Enqueue(ctx, q, feedback.JobCheck(j)); err != nil {
		return false, err
	}
	data, _ := json.Marshal(map[string]any{"attempt": j.Attempt, "trigger": j.Trigger, "pull_request": j.PullRequest.Number, "replay_of": j.ReplayOf})
	_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{
		Actor: actor, Action: patchpanda.AuditJobEnqueued, Subject: "job:" + j.ID,
		Reason: fmt.Sprintf("%s on %s#%d", j.Trigger, j.Repository.FullName(), j.PullRequest.Number), Data: data,
	})
	return true, err
}

// Replay enqueues the same work as orig again, as the next attempt of its
// root job, linked to orig, with a job.replayed audit event. uniqueKey,
// when set, makes the replay happen once for a redelivered request.
func Replay(ctx context.Context, q *store.Queries, orig *patchpanda.Job, actor string, trigger patchpanda.Trigger, uniqueKey string) (*patchpanda.Job, error) {
	n, err := q.MaxAttempt(ctx, orig.RootID)
	if err != nil {
		return nil, err
	}
	j := &patchpanda.Job{
		RootID: orig.RootID, Attempt: n + 1, ReplayOf: orig.ID, Kind: orig.Kind, Repository: orig.Repository,
		InstallationID: orig.InstallationID, PullRequest: orig.PullRequest, RequestedBy: actor, Trigger: trigger,
		Config: orig.Config, BillingProject: orig.BillingProject, UniqueKey: uniqueKey,
	}
	created, err := Enqueue(ctx, q, j, 0, actor)
	if err != nil {
		return nil, fmt.Errorf("jobs: replay %s: %w", orig.ID, err)
	}
	if created {
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: actor, Action: patchpanda.AuditJobReplayed, Subject: "job:" + orig.ID,
			Reason: fmt.Sprintf("replayed as %s (attempt %d) by %s", j.ID, j.Attempt, trigger),
		}); err != nil {
			return nil, err
		}
	}
	return q.Job(ctx, j.ID)
}

// Move applies an event to a job, brings its check run up to date and
// records the state change in the audit log. lease, when positive, extends
// the job's lease. It returns ECONFLICT for a transition the state does not
// allow.
func Move(ctx context.Context, q *store.Queries, id string, ev patchpanda.JobEvent, lease time.Duration, actor string) (*patchpanda.Job, error) {
	j, before, err := q.AddJobEvent(ctx, id, ev, lease)
	if err != nil {
		return nil, err
	}
	if j.State != before {
		if err := feedback.Enqueue(ctx, q, feedback.JobCheck(j)); err != nil {
			return nil, err
		}
		if _, err := q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: actor, Action: patchpanda.AuditJobState, Subject: "job:" + id,
			Reason: fmt.Sprintf("%s → %s", before, j.State),
		}); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// publish writes the outbox entry that hands j's message to the queue.
func publish(ctx context.Context, q *store.Queries, j *patchpanda.Job) error {
	msg, err := queue.Encode(j.QueueMessage())
	if err != nil {
		return fmt.Errorf("jobs: publish %s: %w", j.ID, err)
	}
	return q.AddOutbox(ctx, store.OutboxPublish, j.ID, msg)
}
