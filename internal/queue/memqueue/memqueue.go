// Package memqueue is a queue.Queue in memory, for tests of the packages
// that publish and consume jobs. It keeps the contract's lease semantics
// exactly (visibility timeout, extension, redelivery) but nothing survives
// the process.
package memqueue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
)

// DefaultVisibilityTimeout is the lease length when Options leaves it zero.
const DefaultVisibilityTimeout = 5 * time.Minute

// Options configures a Queue.
type Options struct {
	// VisibilityTimeout is how long a received message stays hidden
	// unless acked or extended. Zero means DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration

	// Now returns the current time; nil means time.Now. Tests that control
	// the clock should still let real time pass for Receive's wait.
	Now func() time.Time
}

// Queue is an in-memory queue.Queue. The zero value is not usable; call New.
type Queue struct {
	visibility time.Duration
	now        func() time.Time

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced whenever a message may have become available
	closed  bool
	seq     int64
	entries []*entry // in publish order
}

type entry struct {
	seq        int64
	body       []byte
	deliveries int
	lease      int64     // which delivery holds the lease; 0 when none
	hiddenTill time.Time // the lease's end
}

var _ queue.Queue = (*Queue)(nil)

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Queue{visibility: opts.VisibilityTimeout, now: opts.Now, wake: make(chan struct{})}
}

// Publish encodes m and appends it. It returns Encode's errors, and
// queue.ErrClosed after Close.
func (q *Queue) Publish(ctx context.Context, m patchpanda.Message) error {
	b, err := queue.Encode(m)
	if err != nil {
		return err
	}
	return q.PublishRaw(ctx, b)
}

// PublishRaw appends body as it is, without validation, so that tests can
// see how consumers treat malformed messages. It returns queue.ErrClosed
// after Close.
func (q *Queue) PublishRaw(ctx context.Context, body []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: publish: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("memqueue: publish: %w", queue.ErrClosed)
	}
	q.seq++
	q.entries = append(q.entries, &entry{seq: q.seq, body: append([]byte(nil), body...)})
	q.wakeLocked()
	return nil
}

func (q *Queue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Receive leases the oldest visible message, waiting up to wait for one. It
// returns (nil, nil) when none became visible in time, an error wrapping
// ctx.Err() when ctx ends first, a *queue.MalformedError for a message
// Decode rejects, and queue.ErrClosed after Close.
func (q *Queue) Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error) {
	deadline := time.Now().Add(wait)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("memqueue: receive: %w", err)
		}
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, fmt.Errorf("memqueue: receive: %w", queue.ErrClosed)
		}
		now := q.now()
		var next time.Time // when the earliest lease ends
		for _, e := range q.entries {
			if e.lease != 0 && now.Before(e.hiddenTill) {
				if next.IsZero() || e.hiddenTill.Before(next) {
					next = e.hiddenTill
				}
				continue
			}
			e.deliveries++
			e.lease = int64(e.deliveries)
			e.hiddenTill = now.Add(q.visibility)
			receipt := strconv.FormatInt(e.seq, 10) + "/" + strconv.Itoa(e.deliveries)
			d := &queue.Delivery{Receipt: receipt, Deliveries: e.deliveries, LeaseExpiresAt: e.hiddenTill}
			body := e.body
			q.mu.Unlock()
			m, err := queue.Decode(body)
			if err != nil {
				return nil, &queue.MalformedError{Receipt: receipt, ID: strconv.FormatInt(e.seq, 10), Err: err}
			}
			d.Message = m
			return d, nil
		}
		wake := q.wake
		q.mu.Unlock()

		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, nil
		}
		if !next.IsZero() {
			// A lease may end before the wait does; look again then.
			remaining = min(remaining, max(next.Sub(now), time.Millisecond))
		}
		timer := time.NewTimer(remaining)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("memqueue: receive: %w", ctx.Err())
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// find returns the entry leased under receipt, or ErrLeaseLost.
func (q *Queue) find(receipt string) (*entry, int, error) {
	seqText, delivText, ok := strings.Cut(receipt, "/")
	seq, err1 := strconv.ParseInt(seqText, 10, 64)
	deliv, err2 := strconv.Atoi(delivText)
	if !ok || err1 != nil || err2 != nil {
		return nil, 0, patchpanda.Errorf(patchpanda.EINVALID, "memqueue: receipt %q is not one this queue gave out", receipt)
	}
	for i, e := range q.entries {
		if e.seq == seq {
			// A lease that ran out but was not yet taken by anyone is
			// still good, as it is in the other backends.
			if e.lease != int64(deliv) {
				return nil, 0, queue.ErrLeaseLost
			}
			return e, i, nil
		}
	}
	return nil, 0, queue.ErrLeaseLost
}

func (q *Queue) withLease(op, receipt string, fn func(e *entry, i int)) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("memqueue: %s: %w", op, queue.ErrClosed)
	}
	e, i, err := q.find(receipt)
	if err != nil {
		return fmt.Errorf("memqueue: %s %s: %w", op, receipt, err)
	}
	fn(e, i)
	return nil
}

// Ack removes the message leased under receipt. It returns an error wrapping
// queue.ErrLeaseLost when the message is gone or leased again since, and
// queue.ErrClosed after Close.
func (q *Queue) Ack(ctx context.Context, receipt string) error {
	return q.withLease("ack", receipt, func(_ *entry, i int) {
		q.entries = append(q.entries[:i], q.entries[i+1:]...)
	})
}

// Nack makes the message leased under receipt visible again now. It returns
// an error wrapping queue.ErrLeaseLost when the lease has ended, and
// queue.ErrClosed after Close.
func (q *Queue) Nack(ctx context.Context, receipt string) error {
	return q.withLease("nack", receipt, func(e *entry, _ int) {
		e.lease = 0
		q.wakeLocked()
	})
}

// Extend hides the message leased under receipt for d from now. It returns
// an EINVALID error for a d that is not positive, an error wrapping
// queue.ErrLeaseLost when the lease has ended, and queue.ErrClosed after
// Close.
func (q *Queue) Extend(ctx context.Context, receipt string, d time.Duration) error {
	if d <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "memqueue: extend by %v: want a positive duration", d)
	}
	return q.withLease("extend", receipt, func(e *entry, _ int) {
		e.hiddenTill = q.now().Add(d)
	})
}

// Len returns how many messages are in the queue, leased or not.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// Ping returns nil, or queue.ErrClosed after Close.
func (q *Queue) Ping(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("memqueue: ping: %w", queue.ErrClosed)
	}
	return nil
}

// Close wakes every waiting Receive and makes later calls fail. It returns
// nil, also when called again.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.wakeLocked()
	}
	return nil
}
