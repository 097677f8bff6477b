package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/patchpanda/patchpanda/internal/store"
)

// Sweeper republishes jobs that stay queued too long after they were
// published: an external queue (Redis without persistence, restarted) may
// have lost them, and nothing else would hand them to a worker again. A
// republished job carries the same message id and attempt, so a worker
// that did get the first copy sees a duplicate it can drop.
type Sweeper struct {
	DB     *store.DB
	Logger *slog.Logger
	// Age is how long a job may stay queued after its publication before
	// it is published again.
	Age time.Duration
	// Interval is how often to look; Age/4 when zero, at least a second.
	Interval time.Duration
	// Batch bounds one sweep; 500 when zero.
	Batch int
	// Published, when set, is called after a sweep that wrote entries, to
	// wake the publish runner.
	Published func()
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	every := s.Interval
	if every <= 0 {
		every = max(s.Age/4, time.Second)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.RunOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.Logger.Error("republishing queued jobs", "error", err)
		}
	}
}

// RunOnce republishes the jobs queued since before now minus Age and
// returns how many.
func (s *Sweeper) RunOnce(ctx context.Context, now time.Time) (int, error) {
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	n, err := s.DB.RepublishQueued(ctx, now.Add(-s.Age), batch)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.Logger.Warn("republished jobs still queued after their publication; the queue may have lost them", "jobs", n, "age", s.Age)
		if s.Published != nil {
			s.Published()
		}
	}
	return n, nil
}
