// Package intake makes webhook deliveries durable and processes them once:
// the Recorder writes each delivery before the relay acknowledges it,
// sharing transactions between concurrent deliveries (group commit); the
// Processor works through the recorded deliveries afterwards, with leases,
// retries and backoff, so that a crash between the answer and the work loses
// nothing; the Reconciler asks GitHub to redeliver what never arrived.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// maxBatch bounds how many deliveries share one transaction.
const maxBatch = 256

type recordReq struct {
	d     *patchpanda.Delivery
	reply chan recordRes
}

type recordRes struct {
	isNew bool
	err   error
}

// Recorder writes deliveries with group commit: while one transaction
// commits, the next deliveries queue up and go into the following one, so
// the database's commit latency is paid once per batch, not per delivery.
// One batch commits at a time, on PostgreSQL too: the deliveries that
// arrive meanwhile make the next batch larger, and fewer, larger
// statements cost the database less (at 1.6 KB on two cores, one writer
// took 0.30–0.31 of the bare handler's rate, two 0.29, four 0.27–0.29,
// eight 0.23; docs/benchmarks.md).
type Recorder struct {
	db      *store.DB
	logger  *slog.Logger
	reqs    chan recordReq
	stopped chan struct{} // closed when the writer has stopped
	drained chan struct{} // closed when nothing queued will be written any more
	// Lease, when set, is asked before each batch for the lease to write
	// its new deliveries under (store.RecordLeasedDeliveries); a zero
	// Lease leaves them to be claimed.
	Lease func() store.Lease
	// OnRecorded is called after each committed batch with the deliveries
	// in it that are new (their row ids set) and the lease they were
	// written under. It must not keep ds nor change the deliveries; it may
	// copy them and keep their payloads, which nothing reuses.
	OnRecorded func(ds []*patchpanda.Delivery, lease store.Lease)
}

// NewRecorder returns a Recorder over db.
func NewRecorder(db *store.DB, logger *slog.Logger) *Recorder {
	return &Recorder{db: db, logger: logger,
		reqs: make(chan recordReq, maxBatch), stopped: make(chan struct{}), drained: make(chan struct{})}
}

// Record stores d durably and reports whether it is new (false: the same
// App and delivery id were recorded before, and nothing was written). It
// returns only after the transaction holding d has committed. It returns an
// EUNAVAILABLE error when the recorder has stopped.
func (r *Recorder) Record(ctx context.Context, d *patchpanda.Delivery) (bool, error) {
	// A select picks at random among ready cases, and the buffered channel
	// stays ready after Run returned: look at stopped first so that a late
	// call fails at once instead of queueing where nobody reads.
	select {
	case <-r.stopped:
		return false, errStopped()
	default:
	}
	req := recordReq{d: d, reply: make(chan recordRes, 1)}
	select {
	case r.reqs <- req:
	case <-r.stopped:
		return false, errStopped()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	// Once queued, the write happens unless Run has already drained the
	// queue: wait for it even if the client gave up, so the answer we would
	// have sent stays true.
	select {
	case res := <-req.reply:
		return res.isNew, res.err
	case <-r.drained:
		select {
		case res := <-req.reply:
			return res.isNew, res.err
		default:
			return false, errStopped() // queued after the last drain: never written
		}
	}
}

func errStopped() error {
	return patchpanda.Errorf(patchpanda.EUNAVAILABLE, "the relay is shutting down")
}

// Run writes batches until ctx is cancelled, then finishes what is queued.
func (r *Recorder) Run(ctx context.Context) {
	r.loop(ctx)
	close(r.stopped)
	// Anything that slipped in after the writer stopped is still answered.
	for {
		select {
		case req := <-r.reqs:
			r.write(context.WithoutCancel(ctx), []recordReq{req})
		default:
			close(r.drained)
			return
		}
	}
}

func (r *Recorder) loop(ctx context.Context) {
	batch := make([]recordReq, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-r.reqs:
			batch = append(batch[:0], req)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-r.reqs:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		r.write(context.WithoutCancel(ctx), batch)
	}
}

func (r *Recorder) write(ctx context.Context, batch []recordReq) {
	results := make([]recordRes, len(batch))
	ds := make([]*patchpanda.Delivery, len(batch))
	for i, req := range batch {
		ds[i] = req.d
	}
	var lease store.Lease
	if r.Lease != nil {
		lease = r.Lease()
	}
	isNew, err := r.db.RecordLeasedDeliveries(ctx, ds, lease) // one statement: one commit
	for i := range isNew {
		results[i] = recordRes{isNew: isNew[i]}
	}
	if err != nil && len(batch) > 1 {
		// One bad delivery must not fail the others: write them one by one.
		r.logger.Warn("batched delivery write failed; retrying one by one", "error", err, "batch", len(batch))
		for _, req := range batch {
			r.write(ctx, []recordReq{req})
		}
		return
	}
	recorded := ds[:0]
	for i, req := range batch {
		if err != nil {
			results[i] = recordRes{err: fmt.Errorf("intake: record delivery %s: %w", req.d.DeliveryID, unavailable(err))}
		} else if results[i].isNew {
			recorded = append(recorded, req.d)
		}
	}
	// Handed on before the answers go out: once a handler has its answer,
	// its request (and the delivery) may be gone.
	if len(recorded) > 0 && r.OnRecorded != nil {
		r.OnRecorded(recorded, lease)
	}
	for i, req := range batch {
		req.reply <- results[i]
	}
}

// unavailable marks a database failure as retryable by the sender: GitHub
// shows the failed delivery and the reconciler asks for it again.
func unavailable(err error) error {
	var pe *patchpanda.Error
	if errors.As(err, &pe) {
		return err
	}
	return errors.Join(patchpanda.Errorf(patchpanda.EUNAVAILABLE, "the delivery could not be stored; it will be redelivered"), err)
}
