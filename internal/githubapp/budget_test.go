package githubapp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestASpentBudgetHoldsEveryCallOfThatInstallationOnly(t *testing.T) {
	e := setup(t, setupOptions{})
	other := e.gh.AddInstallation(githubtest.Installation{Account: "umbrella", Repositories: []patchpanda.Repository{{Name: "corp"}}})
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 7, HeadSHA: "abc"})
	e.gh.AddPullRequest("umbrella/corp", githubtest.PullRequest{Number: 1, HeadSHA: "def"})
	reset := t0.Add(time.Hour)
	e.gh.PrimaryRateLimitNext(githubtest.RouteGetPull, reset, 1)

	if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7); !errors.Is(err, githubapp.ErrRateLimited) {
		t.Fatalf("first call: err = %v, want ErrRateLimited", err)
	}
	if at := e.c.Budget().Until(e.inst.ID); !at.Equal(reset.Add(time.Second)) {
		t.Fatalf("budget spent until %v, want %v", at, reset.Add(time.Second))
	}
	before := len(e.gh.CallsTo(githubtest.RouteGetPull))
	// Another path of the same installation is held without a request.
	_, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7)
	var ae *githubapp.APIError
	if !errors.As(err, &ae) || !ae.RateLimited || !ae.RetryAt.Equal(reset.Add(time.Second)) {
		t.Fatalf("second call: err = %v, want a rate limit until the reset", err)
	}
	if patchpanda.ErrorCode(err) != patchpanda.ERATELIMITED {
		t.Errorf("code = %s, want %s", patchpanda.ErrorCode(err), patchpanda.ERATELIMITED)
	}
	if n := len(e.gh.CallsTo(githubtest.RouteGetPull)) - before; n != 0 {
		t.Errorf("%d requests sent while the budget was spent, want 0", n)
	}
	if spent := e.c.Budget().Spent(); len(spent) != 1 || spent[e.inst.ID].IsZero() {
		t.Errorf("spent = %v, want only installation %d", spent, e.inst.ID)
	}
	// Another installation has a budget of its own.
	if _, err := e.c.PullRequest(e.ctx, other.ID, "umbrella", "corp", 1); err != nil {
		t.Fatalf("other installation: %v", err)
	}
	// After the reset the installation's calls go out again.
	e.clock.Advance(time.Hour + 2*time.Second)
	if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

func TestAShortSpentBudgetIsWaitedOut(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 7, HeadSHA: "abc"})
	e.gh.SecondaryRateLimitNext(githubtest.RouteGetPull, 30*time.Second, 1)
	if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7); err != nil {
		t.Fatalf("err = %v, want the call to wait out 30 s and succeed", err)
	}
	waits := e.sleeper.Waits()
	if len(waits) != 1 || waits[0] != 30*time.Second {
		t.Errorf("waits = %v, want one of 30s", waits)
	}
}

func TestTheLastRequestOfTheHourSpendsTheBudget(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 7, HeadSHA: "abc"})
	reset := t0.Add(20 * time.Minute)
	// A success that says nothing is left: GitHub's 200 with remaining 0.
	e.gh.Fail(githubtest.Failure{Route: githubtest.RouteGetPull, Status: 200, RateLimitExhausted: true, RateLimitReset: reset})
	_, _ = e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7)
	if at := e.c.Budget().Until(e.inst.ID); !at.Equal(reset.Add(time.Second)) {
		t.Errorf("budget spent until %v, want %v", at, reset.Add(time.Second))
	}
}

func TestMintingSpendsTheAppBudget(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.PrimaryRateLimitNext(githubtest.RouteCreateToken, t0.Add(time.Hour), 1)
	if _, err := e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{}); !errors.Is(err, githubapp.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if e.c.Budget().Until(githubapp.AppBudget).IsZero() {
		t.Error("the App's budget is not spent after its token mint was rate limited")
	}
	if !e.c.Budget().Until(e.inst.ID).IsZero() {
		t.Error("the installation's budget is spent by the App's limit")
	}
}
