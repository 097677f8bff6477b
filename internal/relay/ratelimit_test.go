package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// GitHub answers every call with 403 and reset headers for a while (the
// App's and the installation's budget spent): every acknowledged delivery
// is processed once after the reset, none fails, and each comment gets
// its one reaction.
func TestASpentGitHubBudgetDelaysButFailsNothing(t *testing.T) {
	w := sqliteWorld(t)
	w.gh.RateLimitUntil("", time.Now().Add(3*time.Second))
	const n = 10
	for range n {
		w.comment("alice", "/patchpanda generate")
	}
	w.settle()
	ctx := context.Background()
	counts, err := w.relay.DB.DeliveryCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[patchpanda.DeliveryFailed] != 0 || counts[patchpanda.DeliveryDone] != n {
		t.Fatalf("deliveries = %v, want %d done and none failed", counts, n)
	}
	if js := w.jobs(); len(js) != n {
		t.Errorf("%d jobs for %d commands, want one each", len(js), n)
	}
	perComment := map[int64]int{}
	for _, r := range w.gh.Reactions() {
		perComment[r.CommentID]++
	}
	if len(perComment) != n {
		t.Errorf("%d comments got a reaction, want %d", len(perComment), n)
	}
	for id, c := range perComment {
		if c != 1 {
			t.Errorf("comment %d got %d reactions, want 1", id, c)
		}
	}
}
