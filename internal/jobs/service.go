package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Tokens mints and revokes the installation tokens handed to workers.
type Tokens interface {
	// MintToken mints a token of its own (never a cached, shared one), so
	// that revoking it touches nothing else.
	MintToken(ctx context.Context, installationID int64, req githubapp.TokenRequest) (*githubapp.InstallationToken, error)
	RevokeToken(ctx context.Context, token string) error
	Enabled() bool
}

// Sealer encrypts the tokens kept until they are revoked (the secrets
// keeper). Configured is false for a keeper that cannot encrypt.
type Sealer interface {
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
	Configured() bool
}

// Leaser hands out jobs of the db queue.
type Leaser interface {
	Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error)
}

// Service is the REST API's view of jobs: listing, replay, and the
// worker's side (leases, claims, tokens, events).
type Service struct {
	DB     *store.DB
	Tokens Tokens
	// Sealer encrypts minted tokens at rest until they are revoked. With
	// none configured, tokens are kept in this process's memory only: a
	// relay that restarts cannot revoke the tokens it minted before, and
	// they lapse at their expiry (an hour at most).
	Sealer Sealer
	// unsealed holds tokens by job_tokens id when there is no Sealer.
	unsealed sync.Map
	Logger   *slog.Logger
	// Leaser hands out jobs when workers lease them from the database (the
	// db queue backend); nil for Redis and SQS.
	Leaser Leaser
	// Heartbeat is how long a claim, and any event, keeps a job's lease.
	Heartbeat time.Duration
	// StuckPolicy is "requeue" or "fail": what happens to a running job
	// whose lease ran out.
	StuckPolicy string
	// GitHubWeb is the scheme and host pull request URLs must have (see
	// WebURL); nil means https://github.com.
	GitHubWeb *url.URL
	// Decide, when set, is asked before a REST replay (see Decider).
	Decide Decider
	// Enqueued is called after a job is committed (wakes the outbox).
	Enqueued func()
}

// Defaults of the Service, and the relay's defaults of
// PATCHPANDA_JOB_HEARTBEAT and PATCHPANDA_STUCK_JOB_POLICY.
const (
	DefaultHeartbeat   = 10 * time.Minute
	DefaultStuckPolicy = "requeue"
)

// NewService returns a Service with DefaultHeartbeat and
// DefaultStuckPolicy.
func NewService(db *store.DB, tokens Tokens, logger *slog.Logger) *Service {
	return &Service{DB: db, Tokens: tokens, Logger: logger,
		Heartbeat: DefaultHeartbeat, StuckPolicy: DefaultStuckPolicy, Enqueued: func() {}}
}

// List returns a page of jobs and the next page's cursor.
func (s *Service) List(ctx context.Context, f patchpanda.JobFilter) ([]*patchpanda.Job, string, error) {
	return s.DB.Jobs(ctx, f)
}

// Get returns a job with its events.
func (s *Service) Get(ctx context.Context, id string) (*patchpanda.Job, error) {
	return s.DB.Job(ctx, id)
}

// Verdict is the answer of the one decision (see Decider): allowed or
// not, and why, in words a person can read.
type Verdict struct {
	Allowed bool
	Reason  string
}

// Decider decides whether who may replay job j: the same gates as a
// comment command (RBAC with repository-scoped grants, blocked included,
// for a GitHub user; the fork rule; the budget). dispatch.Dispatcher is
// the one implementation.
type Decider interface {
	DecideReplay(ctx context.Context, j *patchpanda.Job, who *patchpanda.Principal) (Verdict, error)
}

// Replay enqueues job id's work again as a new attempt, if the decision
// allows who to, and audits the answer either way (command.accepted or
// command.denied). It is the one entry point for replays from the REST
// API, the terminal UI and the dashboard. It returns EFORBIDDEN with the
// reason when the decision denies, and ENOTFOUND for an unknown job.
func (s *Service) Replay(ctx context.Context, id string, who *patchpanda.Principal) (*patchpanda.Job, error) {
	orig, err := s.DB.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	v := Verdict{Allowed: true, Reason: "no decision configured"}
	if s.Decide != nil {
		if v, err = s.Decide.DecideReplay(ctx, orig, who); err != nil {
			return nil, fmt.Errorf("jobs: replay %s: %w", id, err)
		}
	}
	subject := fmt.Sprintf("%s#%d", orig.Repository.FullName(), orig.PullRequest.Number)
	if !v.Allowed {
		if _, err := s.DB.AppendAudit(ctx, patchpanda.AuditEvent{Actor: who.String(), Action: patchpanda.AuditCommandDenied,
			Subject: subject, Reason: "replay of " + id + ": " + v.Reason}); err != nil {
			return nil, err
		}
		return nil, patchpanda.Errorf(patchpanda.EFORBIDDEN, "replay of %s denied: %s", id, v.Reason)
	}
	var j *patchpanda.Job
	err = s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if j, err = Replay(ctx, q, orig, who.String(), patchpanda.TriggerReplay, ""); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: who.String(), Action: patchpanda.AuditCommandAccept,
			Subject: "job:" + j.ID, Reason: "replay of " + id + ": " + v.Reason})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Enqueued()
	return j, nil
}

// Lease gives the next ready job to a worker (db queue), waiting up to
// wait for one, under a new lease held by who. It returns a nil message
// when none arrived.
func (s *Service) Lease(ctx context.Context, wait time.Duration, who *patchpanda.Principal) (*patchpanda.Message, patchpanda.Lease, error) {
	if s.Leaser == nil {
		return nil, patchpanda.Lease{}, patchpanda.Errorf(patchpanda.ECONFLICT, "this relay's queue backend is not db: read jobs from the queue and claim them (POST /api/jobs/{id}/claim), not from /api/worker/lease")
	}
	d, err := s.Leaser.Receive(ctx, wait)
	if err != nil || d == nil {
		if ctx.Err() != nil {
			return nil, patchpanda.Lease{}, nil // the worker hung up
		}
		return nil, patchpanda.Lease{}, err
	}
	// The queue just handed the message out: its visibility timeout is the
	// lease, and whoever held the job before has lost it.
	l, err := s.DB.SetLease(ctx, d.Message.ID, who.Identity(), newLeaseID(), d.LeaseExpiresAt)
	if err != nil {
		return nil, patchpanda.Lease{}, err
	}
	return &d.Message, l, nil
}

// Claim gives a queued job's lease to who, a worker that took the job's
// message from Redis or SQS, for Heartbeat. Claiming a job one already
// holds returns the same lease, extended. It returns ECONFLICT when
// another key holds the job or it is not queued.
func (s *Service) Claim(ctx context.Context, id string, who *patchpanda.Principal) (patchpanda.Lease, error) {
	var l patchpanda.Lease
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		l, err = q.TakeLease(ctx, id, who.Identity(), newLeaseID(), time.Now().Add(s.heartbeat()))
		return err
	})
	return l, err
}

// heartbeat is Heartbeat, or DefaultHeartbeat when unset.
func (s *Service) heartbeat() time.Duration {
	if s.Heartbeat <= 0 {
		return DefaultHeartbeat
	}
	return s.Heartbeat
}

// newLeaseID returns a new, unguessable lease id.
func newLeaseID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "lse_" + hex.EncodeToString(b[:])
}

// Report applies a worker's event to a job it holds under leaseID,
// extending the lease. It returns EINVALID for a malformed event (a
// pull_request_url that is not a pull request of the job's repository on
// this relay's GitHub included), EFORBIDDEN when another key holds the
// job, and ECONFLICT for no such lease, an expired one, or a transition
// the job's state does not allow.
func (s *Service) Report(ctx context.Context, id, leaseID string, ev patchpanda.WorkerEvent, who *patchpanda.Principal) (*patchpanda.Job, error) {
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
	if len(ev.PullRequestURL) > 2000 {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "pull_request_url: longer than 2000 bytes")
	}
	var j *patchpanda.Job
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.CheckLease(ctx, id, who.Identity(), leaseID); err != nil {
			return err
		}
		if ev.PullRequestURL != "" {
			cur, err := q.Job(ctx, id)
			if err != nil {
				return err
			}
			if err := s.checkPullRequestURL(ev.PullRequestURL, cur.Repository); err != nil {
				return err
			}
		}
		var err error
		j, err = Move(ctx, q, id, patchpanda.JobEvent{Type: ev.Type, Message: ev.Message, CostMicros: cost, URL: ev.PullRequestURL}, s.heartbeat(), who.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Enqueued()
	if j.State.Terminal() {
		// The job is over: so are its tokens. A failure here is retried
		// by the reaper.
		if _, err := s.RevokeDue(ctx); err != nil {
			s.Logger.Warn("revoking the tokens of a finished job", "job", id, "error", err)
		}
	}
	return j, nil
}

// checkPullRequestURL accepts only a pull request of repo on the
// configured GitHub host: https://HOST/OWNER/NAME/pull/N.
func (s *Service) checkPullRequestURL(raw string, repo patchpanda.Repository) error {
	web := s.GitHubWeb
	if web == nil {
		web = &url.URL{Scheme: "https", Host: "github.com"}
	}
	bad := func(why string) error {
		return patchpanda.Errorf(patchpanda.EINVALID, "pull_request_url: %s; want %s://%s/%s/pull/NUMBER", why, web.Scheme, web.Host, repo.FullName())
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != web.Scheme || !strings.EqualFold(u.Host, web.Host) || u.User != nil {
		return bad(fmt.Sprintf("not on %s", web.Host))
	}
	parts := strings.Split(strings.TrimSuffix(u.EscapedPath(), "/"), "/")
	if len(parts) != 5 || parts[0] != "" || !strings.EqualFold(parts[1], repo.Owner) || !strings.EqualFold(parts[2], repo.Name) || parts[3] != "pull" {
		return bad("not a pull request of " + repo.FullName())
	}
	if n, err := strconv.ParseInt(parts[4], 10, 64); err != nil || n <= 0 {
		return bad("not a pull request number")
	}
	return nil
}

// WebURL returns the scheme and host of the GitHub web pages for a REST
// base URL: github.com for api.github.com, HOST for a GitHub Enterprise
// https://HOST/api/v3, and the base's own host otherwise (a test double).
// It returns an error naming the problem for a URL that does not parse.
func WebURL(apiURL string) (*url.URL, error) {
	if apiURL == "" {
		apiURL = "https://api.github.com"
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("jobs: GitHub API URL %q: not an absolute URL", apiURL)
	}
	host := u.Host
	if strings.EqualFold(host, "api.github.com") {
		host = "github.com"
	}
	return &url.URL{Scheme: u.Scheme, Host: host}, nil
}

// Token mints an installation token for the job's repository only, with
// only what the worker needs (read and write the code, open a pull
// request), for the worker holding the job's live lease leaseID. The
// token is kept sealed until it is revoked at GitHub, when the job ends or
// the lease expires; it never reaches a log or the audit log. It returns
// EFORBIDDEN when another key holds the job, and ECONFLICT for no such
// lease, an expired one, or a finished job.
func (s *Service) Token(ctx context.Context, id, leaseID string, who *patchpanda.Principal) (*patchpanda.JobToken, error) {
	l, err := s.DB.CheckLease(ctx, id, who.Identity(), leaseID)
	if err != nil {
		return nil, err
	}
	j, err := s.DB.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.State.Terminal() {
		return nil, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is %s: tokens are only for live jobs", id, j.State)
	}
	if s.Tokens == nil || !s.Tokens.Enabled() {
		return nil, patchpanda.Errorf(patchpanda.EUNAVAILABLE, "this relay has no GitHub App configured, so it cannot mint installation tokens")
	}
	tok, err := s.Tokens.MintToken(ctx, j.InstallationID, githubapp.TokenRequest{
		Repositories: []string{j.Repository.Name},
		Permissions:  map[string]string{"contents": "write", "pull_requests": "write"},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: token for %s: %w", id, err)
	}
	var sealed []byte
	if s.Sealer != nil && s.Sealer.Configured() {
		sealed, err = s.Sealer.Encrypt(ctx, []byte(tok.Token))
	}
	if err == nil {
		err = s.DB.InTx(ctx, func(q *store.Queries) error {
			tid, err := q.AddJobToken(ctx, store.JobToken{JobID: id, LeaseID: l.ID, InstallationID: j.InstallationID, Sealed: sealed, ExpiresAt: tok.ExpiresAt})
			if err != nil {
				return err
			}
			if sealed == nil {
				s.unsealed.Store(tid, tok.Token)
			}
			_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{
				Actor: who.String(), Action: patchpanda.AuditTokenMinted, Subject: "job:" + id,
				Reason: fmt.Sprintf("installation token for %s, expires %s", j.Repository.FullName(), tok.ExpiresAt.UTC().Format(time.RFC3339)),
			})
			return err
		})
	}
	if err != nil {
		// Not recorded, so not handed out: take it back now.
		if rerr := s.Tokens.RevokeToken(ctx, tok.Token); rerr != nil {
			s.Logger.Error("revoking a token that could not be recorded", "job", id, "error", rerr)
		}
		return nil, fmt.Errorf("jobs: token for %s: %w", id, err)
	}
	return &patchpanda.JobToken{Token: tok.Token, ExpiresAt: tok.ExpiresAt, Repository: j.Repository.FullName(), Permissions: tok.Permissions}, nil
}

// RevokeDue revokes at GitHub the tokens of jobs that ended or whose lease
// expired or moved to another worker, and returns how many. A token that
// expired by itself is only marked.
func (s *Service) RevokeDue(ctx context.Context) (int, error) {
	due, err := s.DB.DueJobTokens(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range due {
		var plain string
		switch {
		case len(t.Sealed) > 0 && s.Sealer != nil:
			b, err := s.Sealer.Decrypt(ctx, t.Sealed)
			if err != nil {
				return n, fmt.Errorf("jobs: unseal token %d of %s: %w", t.ID, t.JobID, err)
			}
			plain = string(b)
		default:
			if v, ok := s.unsealed.Load(t.ID); ok {
				plain = v.(string)
			} else if t.ExpiresAt.After(time.Now()) {
				// Minted by an earlier run of the relay without a keeper.
				s.Logger.Warn("cannot revoke a job's token minted before a restart; it lapses at its expiry",
					"job", t.JobID, "expires_at", t.ExpiresAt)
			}
		}
		if plain != "" && t.ExpiresAt.After(time.Now()) && s.Tokens != nil {
			if err := s.Tokens.RevokeToken(ctx, plain); err != nil {
				return n, fmt.Errorf("jobs: revoke token %d of %s: %w", t.ID, t.JobID, err)
			}
		}
		if err := s.DB.RevokedJobToken(ctx, t.ID); err != nil {
			return n, err
		}
		s.unsealed.Delete(t.ID)
		n++
	}
	return n, nil
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
			if _, err := s.RevokeDue(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("revoking the tokens of finished jobs", "error", err)
			}
		}
	}
}
