package intake_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// A spent rate limit is waited out: every acknowledged delivery is
// processed once after the reset, none fails, no attempt is spent on the
// limit, and the relay does not hammer GitHub while it waits.
func TestARateLimitedGitHubIsWaitedOutNotFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		gh := githubtest.New(t)
		inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repositories: []patchpanda.Repository{{Name: "widgets"}}})
		gh.AddPullRequest("acme/widgets", githubtest.PullRequest{Number: 7, HeadSHA: "abc"})
		client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL(),
			MaxWait: 10 * time.Millisecond, // hand every wait to the processor
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The token is minted before the limit: the installation's budget,
		// not the App's, is what runs out.
		if _, err := client.Token(ctx, inst.ID, githubapp.TokenRequest{}); err != nil {
			t.Fatal(err)
		}
		reset := time.Now().Add(3 * time.Second)
		gh.RateLimitUntil(githubtest.RouteGetPull, reset)

		const n = 40
		var ds []*patchpanda.Delivery
		for i := range n {
			ds = append(ds, &patchpanda.Delivery{AppID: 1, DeliveryID: fmt.Sprintf("d%02d", i), Event: "pull_request",
				InstallationID: inst.ID, Payload: []byte(`{}`)})
		}
		if _, err := db.RecordDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		processed := map[string]int{}
		h := func(ctx context.Context, d patchpanda.Delivery) (intake.Commit, error) {
			if _, err := client.PullRequest(ctx, d.InstallationID, "acme", "widgets", 7); err != nil {
				return nil, err
			}
			return func(ctx context.Context, q *store.Queries) error {
				mu.Lock()
				processed[d.DeliveryID]++
				mu.Unlock()
				return nil
			}, nil
		}
		p := intake.NewProcessor(db, slog.New(slog.NewTextHandler(io.Discard, nil)), h, nil)
		p.Budget = client.Budget()
		p.Batch = 10
		p.MaxAttempts = 2 // a limit that counted would fail deliveries at once
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if _, err := p.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := db.DeliveryCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c[patchpanda.DeliveryFailed] > 0 {
				failed, _ := db.Deliveries(ctx, store.DeliveryFilter{State: patchpanda.DeliveryFailed})
				t.Fatalf("%d deliveries failed during a rate limit: %+v", c[patchpanda.DeliveryFailed], failed)
			}
			if c[patchpanda.DeliveryDone] == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("counts %v two minutes after a 3 s rate limit", c)
			}
			time.Sleep(50 * time.Millisecond)
		}
		limited := len(gh.CallsTo(githubtest.RouteGetPull))
		t.Logf("%d requests to GitHub for %d deliveries across the limit", limited, n)
		// n successes after the reset, and the few requests that found the
		// limit: never a retry storm.
		if limited > n+3 {
			t.Errorf("%d requests to GitHub for %d deliveries: the relay did not wait out the limit", limited, n)
		}
		for _, d := range ds {
			if processed[d.DeliveryID] != 1 {
				t.Errorf("%s processed %d times, want once", d.DeliveryID, processed[d.DeliveryID])
			}
			got, _ := db.Delivery(ctx, 1, d.DeliveryID)
			if got.Attempts != 1 {
				t.Errorf("%s spent %d attempts, want 1 (waiting is no attempt)", d.DeliveryID, got.Attempts)
			}
		}
	})
}
