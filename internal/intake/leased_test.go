package intake

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// leasedRig is a Recorder writing under a Processor's lease, with a clock
// the test moves and a handler that notes what it saw.
type leasedRig struct {
	db      *store.DB
	p       *Processor
	rec     *Recorder
	now     time.Time
	mu      sync.Mutex
	handled []string
	// parsed lists the deliveries handled with the event the relay parsed
	// when it received them (record's deliveries carry their id as it).
	parsed []string
}

func newLeasedRig(t *testing.T, db *store.DB) *leasedRig {
	r := &leasedRig{db: db, now: time.Now()}
	db.Now = func() time.Time { return r.now }
	logger := slog.New(slog.DiscardHandler)
	r.p = NewProcessor(db, logger, func(ctx context.Context, d patchpanda.Delivery) (Commit, error) {
		r.mu.Lock()
		r.handled = append(r.handled, d.DeliveryID+"="+string(d.Payload))
		if d.Parsed == d.DeliveryID {
			r.parsed = append(r.parsed, d.DeliveryID)
		}
		r.mu.Unlock()
		return nil, nil
	}, nil)
	r.p.Poll = time.Hour
	r.rec = NewRecorder(db, logger)
	r.rec.Lease = r.p.RecordLease
	r.rec.OnRecorded = r.p.Recorded
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.rec.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *leasedRig) record(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := r.rec.Record(context.Background(), &patchpanda.Delivery{AppID: 1, DeliveryID: id, Event: "installation",
			InstallationID: 7, Payload: []byte(`"` + id + `"`), Parsed: id}); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *leasedRig) took(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.handled
	r.handled = nil
	return out
}

func (r *leasedRig) state(t *testing.T, id string) patchpanda.Delivery {
	t.Helper()
	d, err := r.db.Delivery(context.Background(), 1, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Deliveries recorded under the processor's lease are handled from
// memory, with no claim: a delivery waiting in the table, unleased, is
// not taken with them, only by the next claim.
func TestLeasedDeliveriesAreHandledWithoutAClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newLeasedRig(t, db)
		if n, err := r.p.RunOnce(ctx); err != nil || n != 0 { // the first claim: nothing yet
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		// Recorded by another relay's recorder, say: no lease, and this
		// processor is not told.
		if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: "in-the-table", Event: "installation", Payload: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		r.record(t, "a", "b")
		if n, err := r.p.RunOnce(ctx); err != nil || n != 2 {
			t.Fatalf("RunOnce = %d, %v; want the 2 leased", n, err)
		}
		if got := fmt.Sprint(r.took(t)); got != `[a="a" b="b"]` {
			t.Errorf("handled %s, want a and b with their payloads", got)
		}
		if got := fmt.Sprint(r.parsed); got != "[a b]" {
			t.Errorf("handled %s with the events parsed on receipt, want a and b", got)
		}
		for _, id := range []string{"a", "b"} {
			if d := r.state(t, id); d.State != patchpanda.DeliveryDone || d.Attempts != 1 {
				t.Errorf("%s: %s after %d attempts, want done after 1", id, d.State, d.Attempts)
			}
		}
		if d := r.state(t, "in-the-table"); d.State != patchpanda.DeliveryPending || d.Attempts != 0 {
			t.Errorf("the unleased delivery was taken with the leased ones: %s, %d attempts", d.State, d.Attempts)
		}
		// A Poll later, a claim takes it.
		r.now = r.now.Add(r.p.Poll)
		if n, err := r.p.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v; want the claim of the one in the table", n, err)
		}
		if d := r.state(t, "in-the-table"); d.State != patchpanda.DeliveryDone {
			t.Errorf("the unleased delivery is %s after the claim", d.State)
		}
		if got := fmt.Sprint(r.parsed); got != "[a b]" {
			t.Errorf("handled %s with the events parsed on receipt, want still a and b", got)
		}
	})
}

// While maxLeased deliveries wait, new ones are recorded without a lease
// and claimed from the table, with their payloads from their rows.
func TestAFullProcessorLeavesNewDeliveriesToBeClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newLeasedRig(t, db)
		lease := r.p.RecordLease()
		fake := make([]*patchpanda.Delivery, maxLeased)
		for i := range fake {
			fake[i] = &patchpanda.Delivery{ID: int64(-1 - i), Payload: []byte(`{}`)}
		}
		r.p.Recorded(fake, lease)
		if got := r.p.RecordLease(); got != (store.Lease{}) {
			t.Fatalf("a full processor gave a lease: %+v", got)
		}
		r.record(t, "overflow")
		if d := r.state(t, "overflow"); d.Attempts != 0 {
			t.Fatalf("the overflow was recorded leased (%d attempts)", d.Attempts)
		}
		// The processor claims before it goes on with what it holds.
		r.p.Batch = 10
		if n, err := r.p.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v; want the claim of the overflow", n, err)
		}
		if got := fmt.Sprint(r.took(t)); got != `[overflow="overflow"]` {
			t.Errorf("handled %s", got)
		}
	})
}

// A leased delivery that waited past its lease is not handled from
// memory (another processor may hold it now) but claimed from the table,
// and handled once.
func TestALeaseThatRanOutLeavesTheDeliveryToAClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newLeasedRig(t, db)
		if _, err := r.p.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		r.record(t, "late")
		r.now = r.now.Add(r.p.Lease + time.Second)
		r.p.Poll = 2 * r.p.Lease // no claim for the poll's sake
		if n, err := r.p.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce = %d, %v; want nothing handled from memory", n, err)
		}
		if n, err := r.p.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v; want the claim of the expired lease", n, err)
		}
		if got := fmt.Sprint(r.took(t)); got != `[late="late"]` {
			t.Errorf("handled %s, want late once", got)
		}
		if d := r.state(t, "late"); d.State != patchpanda.DeliveryDone || d.Attempts != 2 {
			t.Errorf("late: %s after %d attempts, want done after 2", d.State, d.Attempts)
		}
	})
}

type spentBudget map[int64]time.Time

func (b spentBudget) Spent() map[int64]time.Time { return b }

// A leased delivery of an installation whose GitHub budget is spent is
// put off until the budget resets, its lease and attempt given back.
func TestALeasedDeliveryOfASpentInstallationWaits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newLeasedRig(t, db)
		if _, err := r.p.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		reset := r.now.Add(10 * time.Minute).UTC().Truncate(time.Microsecond)
		r.p.Budget = spentBudget{7: reset}
		r.record(t, "spent")
		if n, err := r.p.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		if got := r.took(t); len(got) != 0 {
			t.Errorf("handled %v while the budget is spent", got)
		}
		d := r.state(t, "spent")
		if d.State != patchpanda.DeliveryPending || d.Attempts != 0 || d.Deferrals != 1 {
			t.Errorf("spent: %s, %d attempts, %d deferrals; want pending, 0, 1", d.State, d.Attempts, d.Deferrals)
		}
		// When it resets, a claim takes it.
		r.p.Budget = nil
		r.now = reset.Add(time.Second)
		if n, err := r.p.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v after the reset", n, err)
		}
	})
}

// A processor that stops (a relay shutting down) gives back the leases of
// the deliveries recorded for it that it did not get to, so that the next
// one, a restarted relay's, claims them at once; and it gives no more.
func TestAStoppedProcessorGivesItsLeasesBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newLeasedRig(t, db)
		r.record(t, "left", "behind")
		early := r.p.RecordLease() // a batch that got its lease just before the stop
		stopped, stop := context.WithCancel(ctx)
		stop()
		r.p.Run(stopped) // returns at once: the context is done
		if got := r.p.RecordLease(); got != (store.Lease{}) {
			t.Errorf("a stopped processor gave a lease: %+v", got)
		}
		r.record(t, "late")
		raced := []*patchpanda.Delivery{{AppID: 1, DeliveryID: "raced", Event: "installation", Payload: []byte(`{}`)}}
		if _, err := db.RecordLeasedDeliveries(ctx, raced, early); err != nil {
			t.Fatal(err)
		}
		r.p.Recorded(raced, early)
		next := NewProcessor(db, slog.New(slog.DiscardHandler), func(ctx context.Context, d patchpanda.Delivery) (Commit, error) {
			return nil, nil
		}, nil)
		if n, err := next.RunOnce(ctx); err != nil || n != 4 {
			t.Fatalf("the next processor claimed %d, %v; want the 4 left behind at once", n, err)
		}
		for _, id := range []string{"left", "behind", "late", "raced"} {
			if d := r.state(t, id); d.State != patchpanda.DeliveryDone || d.Attempts != 1 {
				t.Errorf("%s: %s after %d attempts, want done after 1", id, d.State, d.Attempts)
			}
		}
	})
}

// A batch that Run's end cuts short gives its leased deliveries back too,
// the one being handled and those after it.
func TestABatchCutShortGivesItsLeasesBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := newLeasedRig(t, db)
		r.record(t, "first", "second", "third")
		r.p.Handler = func(context.Context, patchpanda.Delivery) (Commit, error) {
			cancel() // the relay shuts down while the first is handled
			return nil, nil
		}
		r.p.Run(ctx)
		next := NewProcessor(db, slog.New(slog.DiscardHandler), func(ctx context.Context, d patchpanda.Delivery) (Commit, error) {
			return nil, nil
		}, nil)
		if n, err := next.RunOnce(context.Background()); err != nil || n != 3 {
			t.Fatalf("the next processor claimed %d, %v; want the 3 of the cut batch at once", n, err)
		}
	})
}
