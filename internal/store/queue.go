package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// The db queue backend keeps its messages in the jobs table: a job is
// published when it carries its encoded message and a visible_at, leased
// while visible_at is in the future under a lease token, and acked when
// visible_at is cleared. These methods are the backend's storage; the
// queue semantics are in internal/queue/dbqueue.

// QueuedMessage is one leased message of the db queue.
type QueuedMessage struct {
	JobID      string
	Payload    []byte
	Token      string
	Deliveries int
	VisibleAt  time.Time
}

// PublishMessage makes a job's message leasable. A job that does not
// exist yet is created from the message (a queued job). Publishing a
// message that is already visible or leased changes nothing.
func (q *Queries) PublishMessage(ctx context.Context, m patchpanda.Message, payload []byte) error {
	now := q.now()
	res, err := q.exec(ctx, `UPDATE jobs SET queue_message = $1, visible_at = COALESCE(visible_at, $2) WHERE id = $3 AND state = 'queued'`, payload, now, m.ID)
	if err != nil {
		return fmt.Errorf("store: publish %s: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	j := &patchpanda.Job{ID: m.ID, RootID: m.ID, Attempt: m.Attempt, Kind: m.Kind, Repository: m.Repository,
		InstallationID: m.InstallationID, PullRequest: m.PullRequest, RequestedBy: m.RequestedBy, Trigger: m.Trigger,
		Config: m.Config, BillingProject: m.BillingProject, CreatedAt: m.CreatedAt}
	created, err := q.CreateJob(ctx, j, 0)
	if err != nil || !created {
		return err
	}
	_, err = q.exec(ctx, `UPDATE jobs SET queue_message = $1, visible_at = $2 WHERE id = $3`, payload, now, m.ID)
	if err != nil {
		return fmt.Errorf("store: publish %s: %w", m.ID, err)
	}
	return nil
}

// LeaseMessage leases the oldest visible message for visibility under
// token and records the lease on the job. It returns nil when none is
// ready.
func (q *Queries) LeaseMessage(ctx context.Context, visibility time.Duration, token string) (*QueuedMessage, error) {
	now := q.now()
	skipLocked := ""
	if q.dialect == Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	m := &QueuedMessage{Token: token}
	err := q.queryRow(ctx, `UPDATE jobs SET visible_at = $1, lease_expires_at = $1, lease_token = $2, deliveries = deliveries + 1
		WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND queue_message IS NOT NULL AND visible_at <= $3
			ORDER BY visible_at, id LIMIT 1`+skipLocked+`)
		RETURNING id, queue_message, deliveries, visible_at`, now.Add(visibility), token, now).Scan(&m.JobID, &m.Payload, &m.Deliveries, &m.VisibleAt)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: lease message: %w", err)
	}
	m.VisibleAt = m.VisibleAt.UTC()
	return m, nil
}

// SettleMessage ends or moves a lease held under token: visibleAt nil acks
// (the message is never handed out again), otherwise it becomes visible at
// visibleAt. It returns false when the lease is no longer held.
func (q *Queries) SettleMessage(ctx context.Context, jobID, token string, visibleAt *time.Time) (bool, error) {
	now := q.now()
	query := `UPDATE jobs SET visible_at = NULL, lease_expires_at = NULL, lease_token = '' WHERE id = $1 AND lease_token = $2 AND visible_at > $3`
	args := []any{jobID, token, now}
	if visibleAt != nil {
		query = `UPDATE jobs SET visible_at = $4, lease_expires_at = $4 WHERE id = $1 AND lease_token = $2 AND visible_at > $3`
		args = append(args, ts(*visibleAt))
	}
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("store: settle message %s: %w", jobID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
