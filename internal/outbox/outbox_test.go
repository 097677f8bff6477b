package outbox_test

import (
	"context"
	"errors"
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
