package intake

import (
	"context"
	"fmt"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Failed lists recorded deliveries for operators and puts failed ones
// back to be processed: a delivery fails only for a permanent error, and
// once its cause is fixed (a permission granted, a config repaired) an
// operator retries it.
type Failed struct {
	DB *store.DB
	// Wake, when set, is called after a retry, to wake the processor.
	Wake func()
}

// List returns deliveries in state ("" for any), newest first, with ids
// below before (0: from the newest), at most limit (1 to 500; 0 is 100).
// It returns an EINVALID error for an unknown state.
func (f *Failed) List(ctx context.Context, state string, before int64, limit int) ([]patchpanda.Delivery, error) {
	switch state {
	case "", patchpanda.DeliveryPending, patchpanda.DeliveryDone, patchpanda.DeliveryFailed:
	default:
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "state %q is not one of pending, done, failed", state)
	}
	if limit < 0 || limit > 500 {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "limit %d is not between 1 and 500", limit)
	}
	return f.DB.Deliveries(ctx, store.DeliveryFilter{State: state, Before: before, Limit: limit})
}

// Retry puts failed delivery id back to be processed now, with its
// attempts reset, and records who asked in the audit log, in one
// transaction. It returns an ENOTFOUND error for an unknown id and an
// ECONFLICT error for a delivery that has not failed.
func (f *Failed) Retry(ctx context.Context, id int64, actor string) (patchpanda.Delivery, error) {
	var d patchpanda.Delivery
	err := f.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if d, err = q.RetryFailedDelivery(ctx, id); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: actor, Action: patchpanda.AuditDeliveryRetry,
			Subject: d.DeliveryID, Reason: d.LastError})
		return err
	})
	if err != nil {
		return d, fmt.Errorf("intake: retry delivery %d: %w", id, err)
	}
	if f.Wake != nil {
		f.Wake()
	}
	return d, nil
}
