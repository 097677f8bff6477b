package outbox_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/outbox"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

type limitedErr struct{ at time.Time }

func (e limitedErr) Error() string         { return "rate limited" }
func (e limitedErr) RetryAfter() time.Time { return e.at }

func TestAnEntryWaitsForRetryAfter(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if err := db.AddOutbox(ctx, store.OutboxGitHub, "", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	tries := 0
	r := outbox.New(db, store.OutboxGitHub, func(context.Context, store.OutboxEntry) error {
		tries++
		return limitedErr{time.Now().Add(time.Hour)} // GitHub said: in an hour
	}, slog.New(slog.DiscardHandler))
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Ten minutes on, past any backoff but not the hour GitHub asked for.
	db.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	if n, _ := r.RunOnce(ctx); n != 0 || tries != 1 {
		t.Errorf("retried %d entries after 10 minutes (%d tries), want none before Retry-After", n, tries)
	}
	db.Now = func() time.Time { return time.Now().Add(61 * time.Minute) }
	if n, _ := r.RunOnce(ctx); n != 1 {
		t.Errorf("retried %d entries after Retry-After, want 1", n)
	}
}
