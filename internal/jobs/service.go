package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Tokens mints installation tokens.
type Tokens interface {
	Token(ctx context.Context, installationID int64, req githubapp.TokenRequest) (*githubapp.InstallationToken, error)
	Enabled() bool
}

// Leaser hands out jobs of the db queue.
type Leaser interface {
	Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error)
}

// Service is the REST API's view of jobs: listing, replay, and the
// worker's side (leases, tokens, events).
type Service struct {
	DB     *store.DB
	Tokens Tokens
	Logger *slog.Logger
	// Leaser hands out jobs when workers lease them from the database (the
	// db queue backend); nil for Redis and SQS.
	Leaser Leaser
	// Heartbeat is how long any event keeps a running job's lease.
	Heartbeat time.Duration
	// StuckPolicy is "requeue" or "fail": what happens to a running job
	// whose lease ran out.
	StuckPolicy string
	// Enqueued is called after a job is committed (wakes the outbox).
	Enqueued func()
}

// NewService returns a Service with a 5-minute visibility timeout, a
// 10-minute heartbeat and the requeue policy.
func NewService(db *store.DB, tokens Tokens, logger *slog.Logger) *Service {
	return &Service{DB: db, Tokens: tokens, Logger: logger,
		Heartbeat: 10 * time.Minute, StuckPolicy: "requeue", Enqueued: func() {}}
}

// List returns a page of jobs and the next page's cursor.
func (s *Service) List(ctx context.Context, f patchpanda.JobFilter) ([]*patchpanda.Job, string, error) {
	return s.DB.Jobs(ctx, f)
}

// Get returns a job with its events.
func (s *Service) Get(ctx context.Context, id string) (*patchpanda.Job, error) {
	return s.DB.Job(ctx, id)
}

// Replay enqueues id's work again as a new attempt.
func (s *Service) Replay(ctx context.Context, id, actor string) (*patchpanda.Job, error) {
	var j *patchpanda.Job
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		orig, err := q.Job(ctx, id)
		if err != nil {
			return err
		}
		j, err = Replay(ctx, q, orig, actor, patchpanda.TriggerReplay, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Enqueued()
	return j, nil
}

// Lease gives the next ready job to a worker (db queue), waiting up to
// wait for one. It returns nil when none arrived.
func (s *Service) Lease(ctx context.Context, wait time.Duration) (*patchpanda.Message, time.Time, error) {
	if s.Leaser == nil {
		return nil, time.Time{}, patchpanda.Errorf(patchpanda.ECONFLICT, "this relay's queue backend is not db: read jobs from the queue, not from /api/worker/lease")
	}
	d, err := s.Leaser.Receive(ctx, wait)
	if err != nil || d == nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, nil // the worker hung up
		}
		return nil, time.Time{}, err
	}
	return &d.Message, d.LeaseExpiresAt, nil
}

// Report applies a worker's event to a job, extending its lease. It
// returns EINVALID for a malformed event and ECONFLICT for a transition the
// job's state does not allow.
func (s *Service) Report(ctx context.Context, id string, ev patchpanda.WorkerEvent, actor string) (*patchpanda.Job, error) {
	switch ev.Type {
	case patchpanda.EventStarted, patchpanda.EventProgress, patchpanda.EventSucceeded, patchpanda.EventFailed:
	default:
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "type: %q is not one of started, progress, succeeded, failed", ev.Type)
	}
	if len(ev.Message) > 10000 {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "message: longer than 10000 bytes")
	}
	var cost int64
	if ev.CostUSD != nil {
		c := *ev.CostUSD
		if c < 0 || c > 1e6 || math.IsNaN(c) {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "cost_usd: must be between 0 and 1000000, got %v", c)
		}
		cost = int64(math.Round(c * 1e6))
	}
	if u := ev.PullRequestURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "pull_request_url: %q is not an http(s) URL", u)
	}
	var j *patchpanda.Job
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		j, err = Move(ctx, q, id, patchpanda.JobEvent{Type: ev.Type, Message: ev.Message, CostMicros: cost, URL: ev.PullRequestURL}, s.Heartbeat, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Enqueued()
	return j, nil
}

// Token mints an installation token for the job's repository only, with
// only what the worker needs (read and write the code, open a pull
// request), while the job is leased or running. The token never reaches a
// log or the audit log.
func (s *Service) Token(ctx context.Context, id, actor string) (*patchpanda.JobToken, error) {
	j, err := s.DB.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	// With the db queue the relay knows the lease; with Redis or SQS the
	// queue holds it, so a queued job is taken as leased.
	leased := j.State == patchpanda.JobQueued && (s.Leaser == nil || j.LeaseExpiresAt != nil && j.LeaseExpiresAt.After(time.Now()))
	if j.State != patchpanda.JobRunning && !leased {
		return nil, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is %s and not leased: tokens are only for leased or running jobs", id, j.State)
	}
	if s.Tokens == nil || !s.Tokens.Enabled() {
		return nil, patchpanda.Errorf(patchpanda.EUNAVAILABLE, "this relay has no GitHub App configured, so it cannot mint installation tokens")
	}
	tok, err := s.Tokens.Token(ctx, j.InstallationID, githubapp.TokenRequest{
		Repositories: []string{j.Repository.Name},
		Permissions:  map[string]string{"contents": "write", "pull_requests": "write"},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: token for %s: %w", id, err)
	}
	if _, err := s.DB.AppendAudit(ctx, patchpanda.AuditEvent{
		Actor: actor, Action: patchpanda.AuditTokenMinted, Subject: "job:" + id,
		Reason: fmt.Sprintf("installation token for %s, expires %s", j.Repository.FullName(), tok.ExpiresAt.UTC().Format(time.RFC3339)),
	}); err != nil {
		return nil, err
	}
	return &patchpanda.JobToken{Token: tok.Token, ExpiresAt: tok.ExpiresAt, Repository: j.Repository.FullName(), Permissions: tok.Permissions}, nil
}

// Reap handles running jobs whose lease ran out (their worker stopped
// reporting): requeued or failed by StuckPolicy. It returns how many.
func (s *Service) Reap(ctx context.Context) (int, error) {
	stuck, err := s.DB.ExpiredJobs(ctx, 100)
	if err != nil {
		return 0, err
	}
	for _, j := range stuck {
		reason := fmt.Sprintf("no event from the worker since %s", j.LeaseExpiresAt.Add(-s.Heartbeat).Format(time.RFC3339))
		err := s.DB.InTx(ctx, func(q *store.Queries) error {
			if s.StuckPolicy == "fail" {
				_, err := Move(ctx, q, j.ID, patchpanda.JobEvent{Type: patchpanda.EventFailed, Message: "stuck: " + reason}, 0, "relay")
				return err
			}
			if err := q.RequeueJob(ctx, j.ID, reason); err != nil {
				return err
			}
			now, err := q.Job(ctx, j.ID)
			if err != nil {
				return err
			}
			if err := feedback.Enqueue(ctx, q, feedback.JobCheck(now)); err != nil {
				return err
			}
			// The worker may have acknowledged the message: publish it again.
			if err := publish(ctx, q, now); err != nil {
				return err
			}
			_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "relay", Action: patchpanda.AuditJobState, Subject: "job:" + j.ID,
				Reason: "running → queued: " + reason})
			return err
		})
		if err != nil && patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			return 0, err
		}
		s.Logger.Warn("stuck job handled", "job", j.ID, "policy", s.StuckPolicy, "reason", reason)
	}
	if len(stuck) > 0 {
		s.Enqueued()
	}
	return len(stuck), nil
}

// RunReaper reaps stuck jobs every interval until ctx ends.
func (s *Service) RunReaper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Reap(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("reaping stuck jobs", "error", err)
			}
		}
	}
}
