package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// jobLease reads a job's state and lease. It returns ENOTFOUND for an
// unknown job.
func (q *Queries) jobLease(ctx context.Context, jobID string) (patchpanda.JobState, patchpanda.Lease, error) {
	var state patchpanda.JobState
	var l patchpanda.Lease
	var exp sql.NullTime
	err := q.queryRow(ctx, `SELECT state, lease_id, lease_holder, lease_expires_at FROM jobs WHERE id = $1`, jobID).
		Scan(&state, &l.ID, &l.Holder, &exp)
	if err != nil {
		return "", l, fmt.Errorf("store: lease of job %s: %w", jobID, notFound(err, "job %s not found", jobID))
	}
	l.JobID = jobID
	if exp.Valid {
		l.ExpiresAt = exp.Time.UTC()
	}
	return state, l, nil
}

// live reports whether l is held at now.
func live(l patchpanda.Lease, now time.Time) bool { return l.ID != "" && l.ExpiresAt.After(now) }

// TakeLease gives a queued job's lease to holder until until, under the
// new lease id leaseID, unless another holder's lease is live. A holder
// taking a job it already holds gets its lease back, extended. It returns
// ECONFLICT when someone else holds the job or it is not queued, and
// ENOTFOUND for an unknown job.
func (q *Queries) TakeLease(ctx context.Context, jobID, holder, leaseID string, until time.Time) (patchpanda.Lease, error) {
	state, cur, err := q.jobLease(ctx, jobID)
	if err != nil {
		return patchpanda.Lease{}, err
	}
	now := q.now()
	if state != patchpanda.JobQueued {
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is %s: only a queued job can be claimed", jobID, state)
	}
	if live(cur, now) && cur.Holder != holder {
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is held by another worker until %s", jobID, cur.ExpiresAt.Format(time.RFC3339))
	}
	if live(cur, now) {
		leaseID = cur.ID
	}
	until = ts(until)
	res, err := q.exec(ctx, `UPDATE jobs SET lease_id = $1, lease_holder = $2, lease_expires_at = $3
		WHERE id = $4 AND state = 'queued' AND lease_id = $5`, leaseID, holder, until, jobID, cur.ID)
	if err != nil {
		return patchpanda.Lease{}, fmt.Errorf("store: take lease of job %s: %w", jobID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s was claimed concurrently", jobID)
	}
	return patchpanda.Lease{JobID: jobID, ID: leaseID, Holder: holder, ExpiresAt: until}, nil
}

// CheckLease checks that holder holds job jobID's live lease leaseID. It
// returns EFORBIDDEN when another holder's lease is live, ECONFLICT when
// leaseID is not the job's live lease (none was taken, it expired, the
// job was requeued or has ended), and ENOTFOUND for an unknown job.
func (q *Queries) CheckLease(ctx context.Context, jobID, holder, leaseID string) (patchpanda.Lease, error) {
	state, cur, err := q.jobLease(ctx, jobID)
	if err != nil {
		return patchpanda.Lease{}, err
	}
	now := q.now()
	switch {
	case live(cur, now) && cur.Holder != holder && !state.Terminal():
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.EFORBIDDEN, "job %s is leased to another worker key", jobID)
	case leaseID == "":
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s: send the PatchPanda-Lease header with the lease_id of your lease or claim", jobID)
	case state.Terminal():
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is %s: its lease has ended", jobID, state)
	case cur.ID != leaseID || cur.Holder != holder:
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s: no such lease (it may have expired and the job been handed to another worker)", jobID)
	case !live(cur, now):
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s: the lease expired at %s", jobID, cur.ExpiresAt.Format(time.RFC3339))
	}
	return cur, nil
}

// JobToken is an installation token minted for a job, sealed.
type JobToken struct {
	ID             int64
	JobID          string
	LeaseID        string
	InstallationID int64
	Sealed         []byte
	ExpiresAt      time.Time
}

// AddJobToken records a token minted for a job under a lease, to be
// revoked when the lease or the job ends.
// It returns the record's id.
func (q *Queries) AddJobToken(ctx context.Context, t JobToken) (int64, error) {
	var id int64
	if t.Sealed == nil {
		t.Sealed = []byte{}
	}
	if err := q.queryRow(ctx, `INSERT INTO job_tokens (job_id, lease_id, installation_id, sealed, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.JobID, t.LeaseID, t.InstallationID, t.Sealed, ts(t.ExpiresAt), q.now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: add token of job %s: %w", t.JobID, err)
	}
	return id, nil
}

// DueJobTokens returns up to limit unrevoked tokens whose job has ended,
// whose lease has expired or moved on, or that expired by themselves.
func (q *Queries) DueJobTokens(ctx context.Context, limit int) ([]JobToken, error) {
	rows, err := q.query(ctx, `SELECT t.id, t.job_id, t.lease_id, t.installation_id, t.sealed, t.expires_at
		FROM job_tokens t JOIN jobs j ON j.id = t.job_id
		WHERE t.revoked_at IS NULL AND (t.expires_at < $1 OR j.state NOT IN ('queued', 'running') OR j.lease_id <> t.lease_id
			OR j.lease_expires_at IS NULL OR j.lease_expires_at < $1)
		ORDER BY t.id LIMIT $2`, q.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due job tokens: %w", err)
	}
	defer rows.Close()
	var out []JobToken
	for rows.Next() {
		var t JobToken
		if err := rows.Scan(&t.ID, &t.JobID, &t.LeaseID, &t.InstallationID, &t.Sealed, &t.ExpiresAt); err != nil {
			return nil, fmt.Errorf("store: due job tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokedJobToken marks a token revoked and forgets its sealed value.
func (q *Queries) RevokedJobToken(ctx context.Context, id int64) error {
	if _, err := q.exec(ctx, `UPDATE job_tokens SET revoked_at = $1, sealed = $2 WHERE id = $3`, q.now(), []byte{}, id); err != nil {
		return fmt.Errorf("store: revoked job token %d: %w", id, err)
	}
	return nil
}

// ClaimCheckRunCreation lets one relay create a job's check run: it
// returns true when the job has no check run yet and no other claim is
// live, holding the claim for d.
func (q *Queries) ClaimCheckRunCreation(ctx context.Context, jobID string, d time.Duration) (bool, error) {
	now := q.now()
	res, err := q.exec(ctx, `UPDATE jobs SET check_run_claimed_until = $1
		WHERE id = $2 AND check_run_id = 0 AND (check_run_claimed_until IS NULL OR check_run_claimed_until < $3)`, now.Add(d), jobID, now)
	if err != nil {
		return false, fmt.Errorf("store: claim check run of job %s: %w", jobID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetLease gives a queued job's lease to holder whatever lease it had: the
// db queue has just handed the job's message out again, so an earlier
// holder's visibility timeout is over. It returns ECONFLICT when the job
// is no longer queued.
func (q *Queries) SetLease(ctx context.Context, jobID, holder, leaseID string, until time.Time) (patchpanda.Lease, error) {
	until = ts(until)
	res, err := q.exec(ctx, `UPDATE jobs SET lease_id = $1, lease_holder = $2, lease_expires_at = $3 WHERE id = $4 AND state = 'queued'`,
		leaseID, holder, until, jobID)
	if err != nil {
		return patchpanda.Lease{}, fmt.Errorf("store: set lease of job %s: %w", jobID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is no longer queued", jobID)
	}
	return patchpanda.Lease{JobID: jobID, ID: leaseID, Holder: holder, ExpiresAt: until}, nil
}

// ReleaseCheckRunCreation gives up a claim taken with
// ClaimCheckRunCreation when no run was made (no GitHub App configured).
func (q *Queries) ReleaseCheckRunCreation(ctx context.Context, jobID string) error {
	if _, err := q.exec(ctx, `UPDATE jobs SET check_run_claimed_until = NULL WHERE id = $1 AND check_run_id = 0`, jobID); err != nil {
		return fmt.Errorf("store: release check run claim of job %s: %w", jobID, err)
	}
	return nil
}
