// Package outbox carries out, at least once, what committed transactions
// left in the outbox table: publishing jobs to the queue backend and
// telling GitHub about them. A Runner owns one kind of entry.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/poll"
	"github.com/patchpanda/patchpanda/internal/store"
)

// RetryAfter is implemented by errors that know when to try again (a
// GitHub rate limit).
type RetryAfter interface {
	RetryAfter() time.Time
}

// Budget tells which installations' GitHub rate limit is spent, and until
// when (githubapp.Client.Budget in the relay).
type Budget interface {
	Spent() map[int64]time.Time
}

// Handler carries out one entry. A Permanent error drops the entry (it is
// logged). An error that knows when to try again (RetryAfter: a rate
// limit) puts the entry off until then without spending a try; any other
// is retried with backoff and spends one.
type Handler func(ctx context.Context, e store.OutboxEntry) error

// Runner claims and carries out entries of one kind.
type Runner struct {
	DB       *store.DB
	Kind     string
	Handle   Handler
	Logger   *slog.Logger
	Batch    int
	Poll     time.Duration
	Lease    time.Duration
	MaxTries int
	// Budget, when set, keeps the runner from claiming the entries of an
	// installation whose GitHub budget is spent.
	Budget  Budget
	waker   *poll.Waker
	mu      sync.Mutex
	waiting map[int64]time.Time // installation → end of a limit a handler reported
}

// New returns a Runner for kind with a 1-second poll, batches of 50, a
// 1-minute lease and 20 tries.
func New(db *store.DB, kind string, h Handler, logger *slog.Logger) *Runner {
	return &Runner{DB: db, Kind: kind, Handle: h, Logger: logger.With("outbox", kind),
		Batch: 50, Poll: time.Second, Lease: time.Minute, MaxTries: 20, waker: poll.NewWaker(), waiting: map[int64]time.Time{}}
}

// Wake tells the runner entries are waiting. It never blocks.
func (r *Runner) Wake() { r.waker.Wake() }

// Run carries out entries until ctx is cancelled.
func (r *Runner) Run(ctx context.Context) {
	poll.Run(ctx, r.waker, r.Poll, r.RunOnce, func(err error) { r.Logger.Error("outbox", "error", err) })
}

// skip returns the installations whose entries wait: their shared GitHub
// budget is spent, or a handler reported a limit of its own (the
// content-creation limit) that has not passed.
func (r *Runner) skip(now time.Time) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for inst, at := range r.waiting {
		if !at.After(now) {
			delete(r.waiting, inst)
			continue
		}
		out = append(out, inst)
	}
	if r.Budget != nil {
		for inst := range r.Budget.Spent() {
			if inst > 0 && r.waiting[inst].IsZero() {
				out = append(out, inst)
			}
		}
	}
	return out
}

func (r *Runner) wait(inst int64, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.After(r.waiting[inst]) {
		r.waiting[inst] = until
	}
}

// RunOnce claims one batch and carries it out, returning how many entries
// it claimed. Once an entry of an installation meets a limit, the batch's
// other entries of that installation are put off with it, untried, and
// later batches leave that installation's entries in the table, untouched,
// until the limit passes.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	es, err := r.DB.ClaimOutboxExcept(ctx, r.Kind, r.Batch, r.Lease, r.skip(time.Now()))
	if err != nil {
		return 0, err
	}
	limited := map[int64]time.Time{}
	for _, e := range es {
		if ctx.Err() != nil {
			break
		}
		if at, ok := limited[e.InstallationID]; ok {
			if err := r.DB.DeferOutbox(ctx, e.ID, at, "waiting for the installation's rate limit"); err != nil {
				return len(es), err
			}
			continue
		}
		err := r.Handle(ctx, e)
		var ra RetryAfter
		switch {
		case err == nil:
			err = r.DB.FinishOutbox(ctx, e.ID)
		case patchpanda.Permanent(err):
			r.Logger.Error("outbox entry dropped", "id", e.ID, "job", e.JobID, "attempts", e.Attempts, "error", err)
			err = r.DB.FinishOutbox(ctx, e.ID)
		case errors.As(err, &ra) && ra.RetryAfter().After(time.Now()):
			next := ra.RetryAfter()
			if e.InstallationID > 0 {
				limited[e.InstallationID] = next
				r.wait(e.InstallationID, next)
			}
			r.Logger.Info("outbox entry waits; no try spent", "id", e.ID, "job", e.JobID, "installation", e.InstallationID, "error", err, "at", next)
			err = r.DB.DeferOutbox(ctx, e.ID, next, err.Error())
		case e.Attempts >= r.MaxTries:
			r.Logger.Error("outbox entry dropped", "id", e.ID, "job", e.JobID, "attempts", e.Attempts, "error", err)
			err = r.DB.FinishOutbox(ctx, e.ID)
		default:
			next := time.Now().Add(patchpanda.Backoff(e.Attempts))
			r.Logger.Warn("outbox entry will be retried", "id", e.ID, "job", e.JobID, "error", err, "at", next)
			err = r.DB.RetryOutbox(ctx, e.ID, next, err.Error())
		}
		if err != nil {
			return len(es), err
		}
	}
	return len(es), nil
}
