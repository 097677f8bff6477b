// Package dbqueue is the queue backend in the relay's own database: the
// embedded default, needing no other service. Messages live on their jobs'
// rows; workers lease them over POST /api/worker/lease, which calls
// Receive. Leases are visibility timeouts, as with SQS.
package dbqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Queue is the db queue over a store.
type Queue struct {
	db         *store.DB
	visibility time.Duration
	poll       time.Duration
	wake       chan struct{}
	closed     atomic.Bool
	done       chan struct{}
}

// New returns a Queue over db whose leases last visibility (default 5
// minutes when zero).
func New(db *store.DB, visibility time.Duration) *Queue {
	if visibility <= 0 {
		visibility = 5 * time.Minute
	}
	return &Queue{db: db, visibility: visibility, poll: 250 * time.Millisecond, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Publish makes m's job leasable; see store.PublishMessage.
func (q *Queue) Publish(ctx context.Context, m patchpanda.Message) error {
	if q.closed.Load() {
		return fmt.Errorf("dbqueue: publish %s: %w", m.ID, queue.ErrClosed)
	}
	payload, err := queue.Encode(m)
	if err != nil {
		return err
	}
	if err := q.db.PublishMessage(ctx, m, payload); err != nil {
		return fmt.Errorf("dbqueue: publish %s: %w", m.ID, err)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Receive leases the next message, waiting up to wait for one; it returns
// (nil, nil) when none arrived.
func (q *Queue) Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error) {
	deadline := time.Now().Add(wait)
	for {
		if q.closed.Load() {
			return nil, fmt.Errorf("dbqueue: receive: %w", queue.ErrClosed)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var b [12]byte
		_, _ = rand.Read(b[:])
		token := hex.EncodeToString(b[:])
		m, err := q.db.LeaseMessage(ctx, q.visibility, token)
		if err != nil {
			return nil, err
		}
		if m != nil {
			msg, err := queue.Decode(m.Payload)
			receipt := m.JobID + "/" + m.Token
			if err != nil {
				return nil, &queue.MalformedError{Receipt: receipt, ID: m.JobID, Err: err}
			}
			return &queue.Delivery{Message: msg, Receipt: receipt, Deliveries: m.Deliveries, LeaseExpiresAt: m.VisibleAt}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(left, q.poll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-q.done:
			t.Stop()
		case <-q.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (q *Queue) settle(ctx context.Context, op, receipt string, at *time.Time) error {
	if q.closed.Load() {
		return fmt.Errorf("dbqueue: %s: %w", op, queue.ErrClosed)
	}
	id, token, ok := strings.Cut(receipt, "/")
	if !ok || id == "" || token == "" {
		return patchpanda.Errorf(patchpanda.EINVALID, "dbqueue: %s: %q is not a receipt of this queue", op, receipt)
	}
	held, err := q.db.SettleMessage(ctx, id, token, at)
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("dbqueue: %s %s: %w", op, id, queue.ErrLeaseLost)
	}
	return nil
}

// Ack ends the lease for good: the message is not handed out again.
func (q *Queue) Ack(ctx context.Context, receipt string) error {
	return q.settle(ctx, "ack", receipt, nil)
}

// Nack ends the lease and makes the message visible at once.
func (q *Queue) Nack(ctx context.Context, receipt string) error {
	now := time.Now()
	return q.settle(ctx, "nack", receipt, &now)
}

// Extend keeps the message hidden for d from now.
func (q *Queue) Extend(ctx context.Context, receipt string, d time.Duration) error {
	if d <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "dbqueue: extend: the duration must be positive, got %s", d)
	}
	at := time.Now().Add(d)
	return q.settle(ctx, "extend", receipt, &at)
}

// Ping checks the database.
func (q *Queue) Ping(ctx context.Context) error {
	if q.closed.Load() {
		return fmt.Errorf("dbqueue: ping: %w", queue.ErrClosed)
	}
	return q.db.Ping(ctx)
}

// Close stops the queue; later calls return ErrClosed. It does not close
// the database, which the relay owns.
func (q *Queue) Close() error {
	if q.closed.CompareAndSwap(false, true) {
		close(q.done)
	}
	return nil
}
