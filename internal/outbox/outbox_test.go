package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/outbox"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

type retryAt time.Time

func (r retryAt) Error() string         { return "rate limited" }
func (r retryAt) RetryAfter() time.Time { return time.Time(r) }

func TestRunnerFinishesDropsAndRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		outcomes := map[string]error{
			"ok":        nil,
			"permanent": patchpanda.Errorf(patchpanda.ENOTFOUND, "the comment is gone"),
			"transient": errors.New("GitHub answered 502"),
			"limited":   retryAt(time.Now().Add(time.Hour)),
		}
		for name := range outcomes {
			if err := db.AddOutbox(ctx, store.OutboxGitHub, "", []byte(name)); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]int{}
		r := outbox.New(db, store.OutboxGitHub, func(ctx context.Context, e store.OutboxEntry) error {
			seen[string(e.Payload)]++
			return outcomes[string(e.Payload)]
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if n, err := r.RunOnce(ctx); err != nil || n != 4 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		// Done and dropped entries are gone; the two to retry wait for later.
		if p, _ := db.PendingOutbox(ctx); p["github"] != 2 {
			t.Fatalf("pending = %v, want the transient and the rate-limited entry", p)
		}
		if n, _ := r.RunOnce(ctx); n != 0 {
			t.Fatalf("entries to retry were claimed again at once (%d)", n)
		}
		for name, n := range seen {
			if n != 1 {
				t.Errorf("%s handled %d times", name, n)
			}
		}
	})
}

// While an installation waits on a limit its entries stay in the table
// untouched: not claimed, not rewritten, no try spent; other
// installations' entries go on.
func TestALimitedInstallationsEntriesWaitUntouched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := range 20 {
			if err := db.AddOutboxFor(ctx, store.OutboxGitHub, "", 7, []byte(fmt.Sprintf("limited-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			if err := db.AddOutboxFor(ctx, store.OutboxGitHub, "", 8, []byte(fmt.Sprintf("free-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		until := time.Now().Add(time.Hour)
		tried := map[int64]int{}
		r := outbox.New(db, store.OutboxGitHub, func(ctx context.Context, e store.OutboxEntry) error {
			tried[e.InstallationID]++
			if e.InstallationID == 7 {
				return retryAt(until)
			}
			return nil
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		r.Batch = 10
		for range 5 {
			if _, err := r.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if tried[7] != 1 {
			t.Errorf("installation 7 was tried %d times while it waited, want once", tried[7])
		}
		if tried[8] != 5 {
			t.Errorf("installation 8's entries were carried out %d times, want 5", tried[8])
		}
		if p, _ := db.PendingOutbox(ctx); p["github"] != 20 {
			t.Errorf("pending = %v, want the 20 waiting entries", p)
		}
		// The first batch's ten are put off until the limit ends; the
		// other ten were never claimed. Neither spent a try.
		es, err := db.ClaimOutbox(ctx, store.OutboxGitHub, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 10 {
			t.Errorf("%d entries due, want the 10 never claimed", len(es))
		}
		for _, e := range es {
			if e.Attempts != 1 {
				t.Errorf("entry %s: attempts = %d after this claim, want 1 (waiting spent none)", e.Payload, e.Attempts)
			}
		}
	})
}
