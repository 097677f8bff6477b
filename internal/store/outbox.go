package store

import (
	"context"
	"fmt"
	"time"
)

// OutboxEntry is work to do outside the database after a transaction
// commits: publish a job to the queue, or tell GitHub something. It is
// written in the transaction whose outcome it reports, so it exists exactly
// when that outcome does, and is carried out at least once.
type OutboxEntry struct {
	ID       int64
	Kind     string
	JobID    string
	Payload  []byte
	Attempts int
	// InstallationID is the installation whose GitHub budget carrying the
	// entry out spends, or 0.
	InstallationID int64
}

// Outbox kinds.
const (
	OutboxPublish = "publish" // hand a job to the queue backend
	OutboxGitHub  = "github"  // a reaction, comment or check run
)

// AddOutbox writes an entry to carry out after commit.
func (q *Queries) AddOutbox(ctx context.Context, kind, jobID string, payload []byte) error {
	return q.AddOutboxFor(ctx, kind, jobID, 0, payload)
}

// AddOutboxFor writes an entry that spends installationID's GitHub budget,
// so that the runner leaves it untouched while that budget is spent.
func (q *Queries) AddOutboxFor(ctx context.Context, kind, jobID string, installationID int64, payload []byte) error {
	var job any
	if jobID != "" {
		job = jobID
	}
	now := q.now()
	if _, err := q.exec(ctx, `INSERT INTO outbox (kind, job_id, installation_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		kind, job, installationID, payload, now); err != nil {
		return fmt.Errorf("store: add outbox %s: %w", kind, err)
	}
	q.outboxAdded++
	return nil
}

// ClaimOutbox leases up to limit due entries of kind, oldest first.
func (q *Queries) ClaimOutbox(ctx context.Context, kind string, limit int, lease time.Duration) ([]OutboxEntry, error) {
	return q.ClaimOutboxExcept(ctx, kind, limit, lease, nil)
}

// ClaimOutboxExcept is ClaimOutbox leaving alone the entries of the
// installations in skip (their GitHub budget is spent): they are not
// claimed, so not rewritten, while the caller skips them.
func (q *Queries) ClaimOutboxExcept(ctx context.Context, kind string, limit int, lease time.Duration, skip []int64) ([]OutboxEntry, error) {
	now := q.now()
	skipLocked := ""
	if q.dialect == Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	args := []any{now.Add(lease), kind, now, limit}
	args, except := exceptInstallations(args, skip)
	rows, err := q.query(ctx, `UPDATE outbox SET locked_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE kind = $2 AND published_at IS NULL AND next_attempt_at <= $3
			AND (locked_until IS NULL OR locked_until < $3)`+except+` ORDER BY id LIMIT $4`+skipLocked+`)
		RETURNING id, kind, COALESCE(job_id, ''), payload, attempts, installation_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.JobID, &e.Payload, &e.Attempts, &e.InstallationID); err != nil {
			return nil, fmt.Errorf("store: claim outbox: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// FinishOutbox marks an entry carried out.
func (q *Queries) FinishOutbox(ctx context.Context, id int64) error {
	if _, err := q.exec(ctx, `UPDATE outbox SET published_at = $1, locked_until = NULL, last_error = '' WHERE id = $2`, q.now(), id); err != nil {
		return fmt.Errorf("store: finish outbox %d: %w", id, err)
	}
	return nil
}

// RetryOutbox schedules an entry again at next, recording why it failed.
// A permanent failure is recorded by FinishOutbox after logging instead.
func (q *Queries) RetryOutbox(ctx context.Context, id int64, next time.Time, reason string) error {
	if _, err := q.exec(ctx, `UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3`, ts(next), reason, id); err != nil {
		return fmt.Errorf("store: retry outbox %d: %w", id, err)
	}
	return nil
}

// DeferOutbox schedules an entry again at next without spending a try: it
// waited on a rate limit or an outage. It records why.
func (q *Queries) DeferOutbox(ctx context.Context, id int64, next time.Time, reason string) error {
	if _, err := q.exec(ctx, `UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2, attempts = attempts - 1 WHERE id = $3`,
		ts(next), reason, id); err != nil {
		return fmt.Errorf("store: defer outbox %d: %w", id, err)
	}
	return nil
}

// PendingOutbox counts entries not yet carried out, by kind.
func (q *Queries) PendingOutbox(ctx context.Context) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT kind, COUNT(*) FROM outbox WHERE published_at IS NULL GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: pending outbox: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Backlog counts the work waiting: pending deliveries, queued and running
// jobs by state, and outbox entries by kind. Each count reads a partial
// index, so it stays cheap however many finished rows there are.
func (q *Queries) Backlog(ctx context.Context) (deliveries int, jobs, outbox map[string]int, err error) {
	if err = q.queryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE state = 'pending'`).Scan(&deliveries); err != nil {
		return 0, nil, nil, fmt.Errorf("store: backlog: %w", err)
	}
	jobs = map[string]int{}
	// Literal states, so the planner can use the partial indexes.
	for state, query := range map[string]string{
		"queued":  `SELECT COUNT(*) FROM jobs WHERE state = 'queued'`,
		"running": `SELECT COUNT(*) FROM jobs WHERE state = 'running'`,
	} {
		var n int
		if err = q.queryRow(ctx, query).Scan(&n); err != nil {
			return 0, nil, nil, fmt.Errorf("store: backlog: %w", err)
		}
		jobs[state] = n
	}
	if outbox, err = q.PendingOutbox(ctx); err != nil {
		return 0, nil, nil, err
	}
	return deliveries, jobs, outbox, nil
}

// RepublishQueued writes a new publish entry for each job (at most limit)
// that is still queued although its last publication was carried out
// before cutoff and none is pending: a queue that lost it (a Redis restart
// without persistence) gets it again. The entry repeats the last one's
// message, so its id and attempt, the consumers' idempotency key, stay the
// same. It returns how many it wrote.
func (q *Queries) RepublishQueued(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	now := q.now()
	res, err := q.exec(ctx, `INSERT INTO outbox (kind, job_id, payload, created_at, next_attempt_at)
		SELECT kind, job_id, payload, $1, $1 FROM outbox WHERE id IN (
			SELECT MAX(o.id) FROM outbox o JOIN jobs j ON j.id = o.job_id
			WHERE j.state = 'queued' AND o.kind = 'publish'
			GROUP BY o.job_id
			HAVING SUM(CASE WHEN o.published_at IS NULL THEN 1 ELSE 0 END) = 0 AND MAX(o.published_at) < $2
			LIMIT $3)`, now, ts(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("store: republish queued jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	q.outboxAdded += int(n)
	return int(n), nil
}
