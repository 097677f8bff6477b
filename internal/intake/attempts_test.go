package intake_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// An unexpected error spends an attempt (a rate limit or an outage would
// not: see TestARateLimitedGitHubIsWaitedOutNotFailed).
func TestAnUnexpectedFailureIsTriedExactlyMaxAttemptsTimes(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: "down", Event: "installation", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := func(context.Context, patchpanda.Delivery) (intake.Commit, error) {
		calls++
		return nil, errors.New("the handler failed in a way nobody foresaw")
	}
	p := intake.NewProcessor(db, slog.New(slog.DiscardHandler), h, nil)
	p.MaxAttempts = 3
	// Each round runs a day later, past any backoff.
	now := time.Now()
	for round := 0; round < 6; round++ {
		at := now.Add(time.Duration(round) * 24 * time.Hour)
		db.Now = func() time.Time { return at }
		if _, err := p.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Errorf("handler called %d times, want exactly MaxAttempts (3)", calls)
	}
	d, err := db.Delivery(ctx, 1, "down")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != patchpanda.DeliveryFailed || d.Attempts != 3 {
		t.Errorf("delivery %s after %d attempts, want failed after 3", d.State, d.Attempts)
	}
}
