package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestRecordDeliveriesSkipsKnownAndRepeatedIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := func(app int64, id string) *patchpanda.Delivery {
			return &patchpanda.Delivery{AppID: app, DeliveryID: id, Event: "ping", Payload: []byte(`{}`)}
		}
		got, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{d(1, "a"), d(1, "b")})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]bool{true, true}, got); diff != "" {
			t.Fatalf("first batch (-want +got):\n%s", diff)
		}
		// Known ids, an id repeated within the batch, and the same id under
		// another App (delivery ids are scoped to the App).
		got, err = db.RecordDeliveries(ctx, []*patchpanda.Delivery{d(1, "a"), d(1, "c"), d(1, "c"), d(2, "a")})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]bool{false, true, false, true}, got); diff != "" {
			t.Fatalf("second batch (-want +got):\n%s", diff)
		}
		counts, _ := db.DeliveryCounts(ctx)
		if counts["pending"] != 4 {
			t.Errorf("pending = %d, want 4", counts["pending"])
		}
	})
}

func TestClaimedDeliveriesAreLeasedAndFinishedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, id := range []string{"x", "y"} {
			if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: id, Event: "ping", Payload: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
		}
		first, err := db.ClaimDeliveries(ctx, 10, time.Minute, "t1")
		if err != nil || len(first) != 2 || first[0].DeliveryID != "x" {
			t.Fatalf("claim = %+v, %v", first, err)
		}
		if again, _ := db.ClaimDeliveries(ctx, 10, time.Minute, "t2"); len(again) != 0 {
			t.Fatalf("leased deliveries claimed again: %+v", again)
		}
		if err := db.FinishDelivery(ctx, first[0].ID, "t2", patchpanda.DeliveryDone, ""); err == nil {
			t.Fatal("finished under someone else's lease")
		}
		if err := db.FinishDelivery(ctx, first[0].ID, "t1", patchpanda.DeliveryDone, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishDelivery(ctx, first[0].ID, "t1", patchpanda.DeliveryDone, ""); err == nil {
			t.Fatal("finished twice")
		}
	})
}

func TestFinishDeliveriesNeedsEveryLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, id := range []string{"a", "b", "c"} {
			if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: id, Event: "ping", Payload: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := db.ClaimDeliveries(ctx, 2, time.Minute, "t1")
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim = %v, %v", ds, err)
		}
		// c was never claimed under t1: the whole batch is refused.
		err = db.InTx(ctx, func(q *store.Queries) error {
			return q.FinishDeliveries(ctx, []int64{ds[0].ID, ds[1].ID, ds[1].ID + 1}, "t1")
		})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("finishing an unclaimed delivery: %v, want ErrLeaseLost", err)
		}
		if c, _ := db.DeliveryCounts(ctx); c["done"] != 0 {
			t.Fatalf("a refused batch finished %d deliveries", c["done"])
		}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.FinishDeliveries(ctx, []int64{ds[0].ID, ds[1].ID}, "t1") }); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.DeliveryCounts(ctx); c["done"] != 2 || c["pending"] != 1 {
			t.Fatalf("counts = %v", c)
		}
	})
}

func TestDeliveriesClaimedWithoutPayloadReadTheirPayloadsApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		large := []byte(`{"body":"` + strings.Repeat("stored gzipped ", 500) + `"}`)
		want := map[string][]byte{"small": []byte(`{"action":"created"}`), "large": large}
		for _, id := range []string{"small", "large"} {
			if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: id, Event: "ping", Payload: want[id]}}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := db.ClaimDeliveriesWithoutPayload(ctx, 10, time.Minute, "t1", nil)
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim = %+v, %v", ds, err)
		}
		ids := make([]int64, len(ds))
		for i, d := range ds {
			if d.Payload != nil {
				t.Errorf("%s claimed with a payload of %d bytes", d.DeliveryID, len(d.Payload))
			}
			if d.Event != "ping" || d.Attempts != 1 {
				t.Errorf("%s claimed as %+v", d.DeliveryID, d)
			}
			ids[i] = d.ID
		}
		got, err := db.DeliveryPayloads(ctx, append(ids, ids[1]+1000))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("read %d payloads, want 2 (an unknown id has none)", len(got))
		}
		for _, d := range ds {
			if !bytes.Equal(got[d.ID], want[d.DeliveryID]) {
				t.Errorf("%s read back as %q", d.DeliveryID, got[d.ID])
			}
		}
	})
}

// A batch as large as the Recorder writes binds ten parameters a delivery
// in one statement.
func TestRecordDeliveriesWritesALargeBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ds []*patchpanda.Delivery
		for i := range 256 {
			ds = append(ds, &patchpanda.Delivery{AppID: 1, DeliveryID: fmt.Sprint("d", i), Event: "ping", Action: fmt.Sprint("a", i),
				InstallationID: int64(i), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
		}
		got, err := db.RecordDeliveries(ctx, ds)
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := db.ClaimDeliveries(ctx, 300, time.Minute, "t")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 256 || len(claimed) != 256 {
			t.Fatalf("recorded %d, claimed %d; want 256 each", len(got), len(claimed))
		}
		for i, c := range claimed {
			if !got[i] || c.ID != ds[i].ID || c.DeliveryID != ds[i].DeliveryID || c.Action != ds[i].Action ||
				c.InstallationID != ds[i].InstallationID || string(c.Payload) != string(ds[i].Payload) || !c.ReceivedAt.Equal(ds[i].ReceivedAt) {
				t.Fatalf("delivery %d: claimed %+v, recorded %+v", i, c, *ds[i])
			}
		}
	})
}

// The processor's claim, whose commit does not wait for the disk, leases
// like any other: a second claim finds nothing, and the lease finishes.
func TestDeliveriesClaimedWithoutSyncAreLeased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{
			{AppID: 1, DeliveryID: "a", Event: "ping", Payload: []byte(`{"a":1}`)},
			{AppID: 1, DeliveryID: "b", Event: "ping", Payload: []byte(`{"b":1}`)},
		}); err != nil {
			t.Fatal(err)
		}
		ds, err := db.ClaimDeliveriesNoSync(ctx, 10, time.Minute, "one", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 || ds[0].DeliveryID != "a" || ds[1].DeliveryID != "b" || ds[0].Payload != nil || ds[0].Attempts != 1 {
			t.Fatalf("claimed %+v; want a and b, without payloads, attempt 1", ds)
		}
		if again, err := db.ClaimDeliveriesNoSync(ctx, 10, time.Minute, "two", nil); err != nil || len(again) != 0 {
			t.Fatalf("second claim = %d deliveries, %v; want none", len(again), err)
		}
		if err := db.FinishDeliveries(ctx, []int64{ds[0].ID, ds[1].ID}, "one"); err != nil {
			t.Fatal(err)
		}
	})
}

// Deliveries recorded under a lease are claimed already: nobody else
// claims them until it runs out, its holder finishes them with its token,
// and a delivery known before is neither new nor leased.
func TestRecordedUnderALeaseTheDeliveriesAreClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		db.Now = func() time.Time { return now }
		if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: "known", Event: "ping", Payload: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		ds := []*patchpanda.Delivery{
			{AppID: 1, DeliveryID: "a", Event: "ping", Payload: []byte(`{"n":1}`)},
			{AppID: 1, DeliveryID: "b", Event: "ping", Payload: []byte(`{"n":2}`)},
			{AppID: 1, DeliveryID: "known", Event: "ping", Payload: []byte(`{}`)},
		}
		isNew, err := db.RecordLeasedDeliveries(ctx, ds, store.Lease{Token: "holder", Until: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]bool{true, true, false}, isNew); diff != "" {
			t.Fatalf("new (-want +got):\n%s", diff)
		}
		if ds[0].Attempts != 1 || ds[2].Attempts != 0 {
			t.Errorf("attempts = %d, %d; want the leased one's first (1) and none for the known one", ds[0].Attempts, ds[2].Attempts)
		}
		// Only the known delivery, recorded without a lease, is claimable.
		claimed, err := db.ClaimDeliveries(ctx, 10, time.Minute, "other")
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].DeliveryID != "known" {
			t.Fatalf("claimed %v, want only the known delivery", claimed)
		}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.FinishDeliveries(ctx, []int64{claimed[0].ID}, "other") }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.FinishDeliveries(ctx, []int64{ds[0].ID}, "other") }); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("finishing a leased delivery with another token: %v, want ErrLeaseLost", err)
		}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.FinishDeliveries(ctx, []int64{ds[0].ID}, "holder") }); err != nil {
			t.Errorf("the holder finishing its delivery: %v", err)
		}
		// Once the lease runs out (its holder died), the next claim takes
		// the delivery left, as its second attempt.
		now = now.Add(time.Minute + time.Second)
		claimed, err = db.ClaimDeliveries(ctx, 10, time.Minute, "next")
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].DeliveryID != "b" || claimed[0].Attempts != 2 {
			t.Fatalf("claimed %+v after the lease ran out, want b at its second attempt", claimed)
		}
		got, err := db.Delivery(ctx, 1, "b")
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Payload) != `{"n":2}` {
			t.Errorf("payload = %s", got.Payload)
		}
	})
}
