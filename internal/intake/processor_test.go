package intake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestProcessorCommitsRetriesAndFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ds []*patchpanda.Delivery
		for _, id := range []string{"ok", "bad-payload", "github-down", "panics", "fails-to-commit"} {
			ds = append(ds, &patchpanda.Delivery{AppID: 1, DeliveryID: id, Event: "installation", Payload: []byte(`{}`)})
		}
		if _, err := db.RecordDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
		h := func(ctx context.Context, d patchpanda.Delivery) (intake.Commit, error) {
			switch d.DeliveryID {
			case "bad-payload":
				return nil, patchpanda.Errorf(patchpanda.EINVALID, "installation: missing installation.id")
			case "github-down":
				return nil, patchpanda.Errorf(patchpanda.EUNAVAILABLE, "GitHub answered 502")
			case "panics":
				panic("a bug")
			case "fails-to-commit":
				return func(context.Context, *store.Queries) error { return errors.New("constraint") }, nil
			}
			return func(ctx context.Context, q *store.Queries) error {
				_, err := q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "test", Action: "effect", Subject: d.DeliveryID})
				return err
			}, nil
		}
		p := intake.NewProcessor(db, slog.New(slog.NewTextHandler(io.Discard, nil)), h, nil)
		if n, err := p.RunOnce(ctx); err != nil || n != 5 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		want := map[string]string{
			"ok": patchpanda.DeliveryDone, "bad-payload": patchpanda.DeliveryFailed, "panics": patchpanda.DeliveryFailed,
			"github-down": patchpanda.DeliveryPending, "fails-to-commit": patchpanda.DeliveryPending,
		}
		for id, state := range want {
			d, err := db.Delivery(ctx, 1, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.State != state {
				t.Errorf("%s is %s (%s), want %s", id, d.State, d.LastError, state)
			}
			if state != patchpanda.DeliveryDone && d.LastError == "" {
				t.Errorf("%s has no recorded reason", id)
			}
		}
		// The batch failed on one commit and fell back to one by one: the
		// good delivery's effect is there once, not twice.
		if evs, _ := db.AuditEvents(ctx, patchpanda.AuditFilter{Action: "effect"}); len(evs) != 1 {
			t.Errorf("the good delivery's effect was committed %d times, want 1", len(evs))
		}
		// Retries wait for their backoff: nothing is due now.
		if n, _ := p.RunOnce(ctx); n != 0 {
			t.Errorf("%d deliveries retried before their backoff", n)
		}
	})
}

// Deliveries the Recorder records under the processor's lease are
// processed from memory, the others (recorded by another relay, or before
// a restart) from their rows; the handler sees the payload as it was
// signed either way.
func TestProcessorReadsPayloadsFromTheRecorderOrTheRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		logger := slog.New(slog.DiscardHandler)
		want := map[string]string{}
		seen := map[string]string{}
		p := intake.NewProcessor(db, logger, func(ctx context.Context, d patchpanda.Delivery) (intake.Commit, error) {
			seen[d.DeliveryID] = string(d.Payload)
			return nil, nil
		}, nil)
		rec := intake.NewRecorder(db, logger)
		rec.Lease = p.RecordLease
		rec.OnRecorded = p.Recorded
		rctx, cancel := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { rec.Run(rctx); close(ran) }()
		for i, size := range []int{10, 5000, 40000} {
			id := fmt.Sprintf("handed-on-%d", i)
			want[id] = `{"body":"` + strings.Repeat("x", size) + `"}`
			if _, err := rec.Record(ctx, &patchpanda.Delivery{AppID: 1, DeliveryID: id, Event: "ping", Payload: []byte(want[id])}); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		<-ran
		for i, size := range []int{10, 5000} {
			id := fmt.Sprintf("from-the-row-%d", i)
			want[id] = `{"body":"` + strings.Repeat("y", size) + `"}`
			if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: id, Event: "ping", Payload: []byte(want[id])}}); err != nil {
				t.Fatal(err)
			}
		}
		// A claim of the two in the table, then the three leased.
		for _, want := range []int{2, 3} {
			if n, err := p.RunOnce(ctx); err != nil || n != want {
				t.Fatalf("RunOnce = %d, %v; want %d", n, err, want)
			}
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("payloads the handler saw (-want +got):\n%s", diff)
		}
		if c, _ := db.DeliveryCounts(ctx); c[patchpanda.DeliveryDone] != len(want) {
			t.Errorf("counts = %v", c)
		}
	})
}

// Deliveries recorded a few at a time wait up to Gather to be claimed
// together; a full batch is claimed at once.
func TestProcessorGathersRecordedDeliveriesIntoBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logger := slog.New(slog.DiscardHandler)
		handled := make(chan string, 10)
		p := intake.NewProcessor(db, logger, func(ctx context.Context, d patchpanda.Delivery) (intake.Commit, error) {
			handled <- d.DeliveryID
			return nil, nil
		}, nil)
		p.Batch, p.Gather, p.Poll = 3, time.Hour, time.Hour
		rec := intake.NewRecorder(db, logger)
		rec.OnRecorded = p.Recorded
		done := make(chan struct{}, 2)
		go func() { rec.Run(ctx); done <- struct{}{} }()
		defer func() { cancel(); <-done; <-done }()
		record := func(id string) {
			if _, err := rec.Record(ctx, &patchpanda.Delivery{AppID: 1, DeliveryID: id, Event: "ping", Payload: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		// Run's first pass takes what is there; after it, the loop waits.
		record("first")
		go func() { p.Run(ctx); done <- struct{}{} }()
		if id := <-handled; id != "first" {
			t.Fatalf("handled %s first", id)
		}
		record("a")
		record("b")
		select {
		case id := <-handled:
			t.Fatalf("%s was claimed before a batch gathered or Gather passed", id)
		case <-time.After(200 * time.Millisecond):
		}
		record("c")
		got := map[string]bool{}
		for len(got) < 3 {
			select {
			case id := <-handled:
				got[id] = true
			case <-time.After(time.Minute):
				t.Fatalf("a full batch was not claimed: handled %v", got)
			}
		}
	})
}
