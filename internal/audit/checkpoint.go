package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CheckpointStore reads the chain's head and keeps checkpoints.
type CheckpointStore interface {
	// AuditHead returns the newest event; the zero head when there is none.
	AuditHead(ctx context.Context) (patchpanda.AuditHead, error)
	// LastAuditCheckpoint returns the newest checkpoint, or an ENOTFOUND
	// error when none was taken.
	LastAuditCheckpoint(ctx context.Context) (patchpanda.AuditCheckpoint, error)
	// AddAuditCheckpoint stores cp and returns it with its id.
	AddAuditCheckpoint(ctx context.Context, cp patchpanda.AuditCheckpoint) (patchpanda.AuditCheckpoint, error)
}

// DefaultCheckpointEvery is the Checkpointer's default of Every, and the
// relay's default of PATCHPANDA_AUDIT_CHECKPOINT_EVERY.
const DefaultCheckpointEvery = 100

// Checkpointer signs the chain's head into the checkpoint table and writes
// it to the log: at start, whenever the chain has grown by Every events,
// and at shutdown. A chain later found shorter than a checkpoint, or
// different at its event, was cut or rewritten; the copy in the log
// survives someone who also deletes checkpoints.
type Checkpointer struct {
	Store  CheckpointStore
	Chain  *Chain
	Logger *slog.Logger
	// Every is how many new events make a checkpoint; DefaultCheckpointEvery
	// when zero.
	Every int64
	// Poll is how often the head is read; 5 s when zero.
	Poll time.Duration
	Now  func() time.Time
}

// Run takes checkpoints until ctx ends, then takes the shutdown one.
// Failures are logged and tried again at the next poll.
func (c *Checkpointer) Run(ctx context.Context) {
	poll := c.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	c.take(ctx, patchpanda.CheckpointStart, 1)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The relay has stopped serving; the database is still open.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.take(sctx, patchpanda.CheckpointShutdown, 1)
			cancel()
			return
		case <-t.C:
			every := c.Every
			if every <= 0 {
				every = DefaultCheckpointEvery
			}
			c.take(ctx, patchpanda.CheckpointEvery, every)
		}
	}
}

func (c *Checkpointer) take(ctx context.Context, reason string, minGrowth int64) {
	cp, ok, err := c.Checkpoint(ctx, reason, minGrowth)
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopping: the shutdown checkpoint follows.
	case err != nil:
		c.Logger.Error("audit checkpoint", "reason", reason, "err", err)
	case ok:
		// This line is the copy of the head outside the database: keep it
		// with the logs; `ppctl audit verify --head ID:HASH` checks it.
		c.Logger.Info("audit checkpoint", "reason", reason, "event_id", cp.EventID, "hash", cp.Hash, "checkpoint", cp.ID)
	}
}

// Checkpoint signs and stores the current head when the chain has grown
// by at least minGrowth events since the last checkpoint. It reports
// whether it took one, and returns the store's errors.
func (c *Checkpointer) Checkpoint(ctx context.Context, reason string, minGrowth int64) (patchpanda.AuditCheckpoint, bool, error) {
	head, err := c.Store.AuditHead(ctx)
	if err != nil || head.ID == 0 {
		return patchpanda.AuditCheckpoint{}, false, err
	}
	last, err := c.Store.LastAuditCheckpoint(ctx)
	switch {
	case patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND:
	case err != nil:
		return patchpanda.AuditCheckpoint{}, false, err
	case head.ID-last.EventID < minGrowth:
		// Also when the head is behind the last checkpoint: Verify
		// reports that, and a new checkpoint must not paper over it.
		return last, false, nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cp := patchpanda.AuditCheckpoint{EventID: head.ID, Hash: head.Hash, Reason: reason, At: now().UTC().Truncate(time.Microsecond)}
	cp.MAC = c.Chain.SignCheckpoint(cp)
	cp, err = c.Store.AddAuditCheckpoint(ctx, cp)
	return cp, err == nil, err
}
