package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const jobColumns = `id, root_id, attempt, COALESCE(replay_of, ''), kind, repository, repository_id, installation_id, pr_number, head_sha, base_sha,
	requested_by, trigger, config, billing_project, state, check_run_id, cost_micros, result_url, message,
	created_at, updated_at, started_at, finished_at, lease_expires_at`

func scanJob(row interface{ Scan(...any) error }) (*patchpanda.Job, error) {
	var j patchpanda.Job
	var repo, config string
	var started, finished, lease sql.NullTime
	err := row.Scan(&j.ID, &j.RootID, &j.Attempt, &j.ReplayOf, &j.Kind, &repo, &j.Repository.ID, &j.InstallationID,
		&j.PullRequest.Number, &j.PullRequest.HeadSHA, &j.PullRequest.BaseSHA, &j.RequestedBy, &j.Trigger, &config,
		&j.BillingProject, &j.State, &j.CheckRunID, &j.CostMicros, &j.ResultURL, &j.Message,
		&j.CreatedAt, &j.UpdatedAt, &started, &finished, &lease)
	if err != nil {
		return nil, err
	}
	j.Repository.Owner, j.Repository.Name, _ = strings.Cut(repo, "/")
	if config == "" {
		config = "{}"
	}
	j.Config = []byte(config)
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	j.StartedAt, j.FinishedAt, j.LeaseExpiresAt = nullTime(started), nullTime(finished), nullTime(lease)
	return &j, nil
}

// CreateJob stores a new queued job. With the db queue backend it becomes
// leasable once published (PublishJob), as with the other backends. When
// j.UniqueKey is set and a job with that key exists, nothing is written and
// CreateJob returns false with the existing job's id in j.ID.
func (q *Queries) CreateJob(ctx context.Context, j *patchpanda.Job, deliveryID int64) (bool, error) {
	now := q.now()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	j.CreatedAt = ts(j.CreatedAt)
	j.UpdatedAt = j.CreatedAt
	j.State = patchpanda.JobQueued
	if j.RootID == "" {
		j.RootID = j.ID
	}
	if len(j.Config) == 0 {
		j.Config = []byte("{}")
	}
	var unique, replayOf, delivery any
	if j.UniqueKey != "" {
		unique = j.UniqueKey
	}
	if j.ReplayOf != "" {
		replayOf = j.ReplayOf
	}
	if deliveryID != 0 {
		delivery = deliveryID
	}
	rows, err := q.query(ctx, `INSERT INTO jobs (id, root_id, attempt, replay_of, unique_key, delivery_id, kind, repository, repository_id,
		installation_id, pr_number, head_sha, base_sha, requested_by, trigger, config, billing_project, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
		ON CONFLICT (unique_key) DO NOTHING RETURNING id`,
		j.ID, j.RootID, j.Attempt, replayOf, unique, delivery, j.Kind, j.Repository.FullName(), j.Repository.ID,
		j.InstallationID, j.PullRequest.Number, j.PullRequest.HeadSHA, j.PullRequest.BaseSHA, j.RequestedBy, j.Trigger,
		string(j.Config), j.BillingProject, j.State, j.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("store: create job: %w", err)
	}
	created := rows.Next()
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store: create job: %w", err)
	}
	if !created {
		if err := q.queryRow(ctx, `SELECT id FROM jobs WHERE unique_key = $1`, j.UniqueKey).Scan(&j.ID); err != nil {
			return false, fmt.Errorf("store: create job: find existing: %w", err)
		}
		return false, nil
	}
	return true, nil
}

// Job returns a job with its events. It returns an ENOTFOUND error for an
// unknown id.
func (q *Queries) Job(ctx context.Context, id string) (*patchpanda.Job, error) {
	j, err := scanJob(q.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: job %s: %w", id, notFound(err, "job %s not found", id))
	}
	rows, err := q.query(ctx, `SELECT id, type, message, cost_micros, url, created_at FROM job_events WHERE job_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: job %s events: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e patchpanda.JobEvent
		if err := rows.Scan(&e.ID, &e.Type, &e.Message, &e.CostMicros, &e.URL, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: job %s events: %w", id, err)
		}
		e.CreatedAt = e.CreatedAt.UTC()
		j.Events = append(j.Events, e)
	}
	return j, rows.Err()
}

// Jobs lists jobs newest first, one page of f.Limit (default 50, at most
// 500), and returns the cursor of the next page ("" on the last).
func (q *Queries) Jobs(ctx context.Context, f patchpanda.JobFilter) ([]*patchpanda.Job, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Repository != "" {
		add("LOWER(repository) = LOWER($%d)", f.Repository)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if f.Trigger != "" {
		add("trigger = $%d", string(f.Trigger))
	}
	if !f.Since.IsZero() {
		add("created_at >= $%d", ts(f.Since))
	}
	if f.After != "" {
		at, id, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(created_at < $%d OR (created_at = $%d AND id < $%d))", len(args)-1, len(args)-1, len(args)))
	}
	args = append(args, f.Limit+1)
	rows, err := q.query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	var out []*patchpanda.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list jobs: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if at, id, ok := strings.Cut(string(b), "|"); ok {
			if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
				return t, id, nil
			}
		}
	}
	return time.Time{}, "", patchpanda.Errorf(patchpanda.EINVALID, "cursor %q is not one this API gave out", c)
}

// AddJobEvent moves a job by an event of type ev (see JobState.Next),
// records the event, and returns the job as it is afterwards and the state
// it had before. Any event
// extends a lease by lease (when > 0). It returns ECONFLICT for a
// transition the job's state does not allow and ENOTFOUND for an unknown job.
func (q *Queries) AddJobEvent(ctx context.Context, id string, e patchpanda.JobEvent, lease time.Duration) (*patchpanda.Job, patchpanda.JobState, error) {
	j, err := scanJob(q.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return nil, "", fmt.Errorf("store: job %s: %w", id, notFound(err, "job %s not found", id))
	}
	before := j.State
	next, err := j.State.Next(e.Type)
	if err != nil {
		return j, before, err
	}
	now := q.now()
	sets := []string{"state = $1", "updated_at = $2", "cost_micros = cost_micros + $3"}
	args := []any{string(next), now, e.CostMicros}
	if lease > 0 && !next.Terminal() {
		args = append(args, now.Add(lease))
		sets = append(sets, fmt.Sprintf("lease_expires_at = $%d, heartbeat_at = $2", len(args)))
	}
	if e.Type == patchpanda.EventStarted {
		sets = append(sets, "started_at = $2")
	}
	if next.Terminal() {
		sets = append(sets, "finished_at = $2", "lease_expires_at = NULL", "visible_at = NULL")
	}
	if e.URL != "" {
		args = append(args, e.URL)
		sets = append(sets, fmt.Sprintf("result_url = $%d", len(args)))
	}
	if e.Message != "" && (next.Terminal() || e.Type == patchpanda.EventProgress) {
		args = append(args, e.Message)
		sets = append(sets, fmt.Sprintf("message = $%d", len(args)))
	}
	args = append(args, id, string(j.State))
	res, err := q.exec(ctx, `UPDATE jobs SET `+strings.Join(sets, ", ")+
		fmt.Sprintf(` WHERE id = $%d AND state = $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, before, fmt.Errorf("store: job %s %s: %w", id, e.Type, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, before, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s changed state concurrently; retry", id)
	}
	if _, err := q.exec(ctx, `INSERT INTO job_events (job_id, type, message, cost_micros, url, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, e.Type, e.Message, e.CostMicros, e.URL, now); err != nil {
		return nil, before, fmt.Errorf("store: job %s event: %w", id, err)
	}
	after, err := q.Job(ctx, id)
	return after, before, err
}

// SetCheckRun records the check run that reports on a job.
func (q *Queries) SetCheckRun(ctx context.Context, jobID string, checkRunID int64) error {
	if _, err := q.exec(ctx, `UPDATE jobs SET check_run_id = $1 WHERE id = $2`, checkRunID, jobID); err != nil {
		return fmt.Errorf("store: job %s check run: %w", jobID, err)
	}
	return nil
}

// LatestJobForPR returns the newest job of a pull request, or ENOTFOUND.
func (q *Queries) LatestJobForPR(ctx context.Context, repo string, number int) (*patchpanda.Job, error) {
	j, err := scanJob(q.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE LOWER(repository) = LOWER($1) AND pr_number = $2
		ORDER BY created_at DESC, id DESC LIMIT 1`, repo, number))
	if err != nil {
		return nil, fmt.Errorf("store: latest job of %s#%d: %w", repo, number, notFound(err, "no job for %s#%d", repo, number))
	}
	return j, nil
}

// ExpiredJobs returns running jobs whose lease ran out before now: their
// worker stopped reporting.
func (q *Queries) ExpiredJobs(ctx context.Context, limit int) ([]*patchpanda.Job, error) {
	rows, err := q.query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE state = 'running' AND lease_expires_at < $1 ORDER BY lease_expires_at LIMIT $2`, q.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired jobs: %w", err)
	}
	defer rows.Close()
	var out []*patchpanda.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expired jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// RequeueJob puts a running job whose worker vanished back in the queue,
// recording a requeued event. It returns ECONFLICT when the job is no
// longer running.
func (q *Queries) RequeueJob(ctx context.Context, id, reason string) error {
	now := q.now()
	res, err := q.exec(ctx, `UPDATE jobs SET state = 'queued', visible_at = $1, lease_expires_at = NULL, lease_id = '', lease_holder = '', started_at = NULL, updated_at = $1
		WHERE id = $2 AND state = 'running'`, now, id)
	if err != nil {
		return fmt.Errorf("store: requeue job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is no longer running", id)
	}
	_, err = q.exec(ctx, `INSERT INTO job_events (job_id, type, message, created_at) VALUES ($1, 'requeued', $2, $3)`, id, reason, now)
	if err != nil {
		return fmt.Errorf("store: requeue job %s: %w", id, err)
	}
	return nil
}

// CountJobs returns how many jobs there are, for tests and metrics.
func (q *Queries) CountJobs(ctx context.Context) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count jobs: %w", err)
	}
	return n, nil
}

// MaxAttempt returns the highest attempt number among a root job's
// attempts.
func (q *Queries) MaxAttempt(ctx context.Context, rootID string) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COALESCE(MAX(attempt), 0) FROM jobs WHERE root_id = $1`, rootID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: max attempt of %s: %w", rootID, err)
	}
	return n, nil
}
