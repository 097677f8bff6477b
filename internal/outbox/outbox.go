// Package outbox carries out, at least once, what committed transactions
// left in the outbox table: publishing jobs to the queue backend and
// telling GitHub about them. A Runner owns one kind of entry.
package outbox

import (
	"context"
	"errors"
	"log/slog"
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

// Handler carries out one entry. A Permanent error drops the entry (it is
// logged); any other is retried with backoff.
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
	waker    *poll.Waker
}

// New returns a Runner for kind with a 1-second poll, batches of 50, a
// 1-minute lease and 20 tries.
func New(db *store.DB, kind string, h Handler, logger *slog.Logger) *Runner {
	return &Runner{DB: db, Kind: kind, Handle: h, Logger: logger.With("outbox", kind),
		Batch: 50, Poll: time.Second, Lease: time.Minute, MaxTries: 20, waker: poll.NewWaker()}
}

// Wake tells the runner entries are waiting. It never blocks.
func (r *Runner) Wake() { r.waker.Wake() }

// Run carries out entries until ctx is cancelled.
func (r *Runner) Run(ctx context.Context) {
	poll.Run(ctx, r.waker, r.Poll, r.RunOnce, func(err error) { r.Logger.Error("outbox", "error", err) })
}

// RunOnce claims one batch and carries it out, returning how many entries
// it claimed.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	es, err := r.DB.ClaimOutbox(ctx, r.Kind, r.Batch, r.Lease)
	if err != nil {
		return 0, err
	}
	for _, e := range es {
		if ctx.Err() != nil {
			break
		}
		err := r.Handle(ctx, e)
		switch {
		case err == nil:
			err = r.DB.FinishOutbox(ctx, e.ID)
		case patchpanda.Permanent(err) || e.Attempts >= r.MaxTries:
			r.Logger.Error("outbox entry dropped", "id", e.ID, "job", e.JobID, "attempts", e.Attempts, "error", err)
			err = r.DB.FinishOutbox(ctx, e.ID)
		default:
			next := time.Now().Add(patchpanda.Backoff(e.Attempts))
			var ra RetryAfter
			if errors.As(err, &ra) && ra.RetryAfter().After(next) {
				next = ra.RetryAfter()
			}
			r.Logger.Warn("outbox entry will be retried", "id", e.ID, "job", e.JobID, "error", err, "at", next)
			err = r.DB.RetryOutbox(ctx, e.ID, next, err.Error())
		}
		if err != nil {
			return len(es), err
		}
	}
	return len(es), nil
}
