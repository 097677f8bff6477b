package githubapp_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
)

func TestRetriesFollowGitHubsGuidance(t *testing.T) {
	tests := []struct {
		name   string
		inject func(s *githubtest.Server)
		// waits are the sleeps asked for, in order.
		waits []time.Duration
		// wantErr is nil when the call must succeed in the end.
		wantErr error
		calls   int
	}{
		{
			name:   "5xx is retried with exponential backoff",
			inject: func(s *githubtest.Server) { s.FailNext(githubtest.RouteGetPull, 502, 3) },
			waits:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			calls:  4,
		},
		{
			name:    "5xx that persists gives up after the retries",
			inject:  func(s *githubtest.Server) { s.FailNext(githubtest.RouteGetPull, 503, 10) },
			waits:   []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			wantErr: githubapp.ErrUnavailable,
			calls:   5,
		},
		{
			name:   "secondary rate limit waits Retry-After",
			inject: func(s *githubtest.Server) { s.SecondaryRateLimitNext(githubtest.RouteGetPull, 42*time.Second, 1) },
			waits:  []time.Duration{42 * time.Second},
			calls:  2,
		},
		{
			name: "secondary rate limit as 429 waits Retry-After",
			inject: func(s *githubtest.Server) {
				s.Fail(githubtest.Failure{Route: githubtest.RouteGetPull, Status: 429, RetryAfter: 5 * time.Second, Message: "You have exceeded a secondary rate limit."})
			},
			waits: []time.Duration{5 * time.Second},
			calls: 2,
		},
		{
			name:   "secondary rate limit without Retry-After waits a minute, then two",
			inject: func(s *githubtest.Server) { s.FailNext(githubtest.RouteGetPull, 403, 2) },
			waits:  []time.Duration{time.Minute, 2 * time.Minute},
			calls:  3,
		},
		{
			name:   "primary rate limit waits until X-RateLimit-Reset",
			inject: func(s *githubtest.Server) { s.PrimaryRateLimitNext(githubtest.RouteGetPull, t0.Add(45*time.Second), 1) },
			waits:  []time.Duration{46 * time.Second},
			calls:  2,
		},
		{
			name:    "primary rate limit resetting in an hour fails at once",
			inject:  func(s *githubtest.Server) { s.PrimaryRateLimitNext(githubtest.RouteGetPull, t0.Add(time.Hour), 1) },
			wantErr: githubapp.ErrRateLimited,
			calls:   1,
		},
		{
			name: "a 403 that is no rate limit is not retried",
			inject: func(s *githubtest.Server) {
				s.Fail(githubtest.Failure{Route: githubtest.RouteGetPull, Status: 403, Message: "Resource not accessible by integration"})
			},
			wantErr: githubapp.ErrForbidden,
			calls:   1,
		},
		{
			name:    "404 is not retried",
			inject:  func(s *githubtest.Server) { s.FailNext(githubtest.RouteGetPull, 404, 1) },
			wantErr: githubapp.ErrNotFound,
			calls:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, setupOptions{})
			e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 7, HeadSHA: "abc"})
			tt.inject(e.gh)
			pr, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr == nil && pr.HeadSHA != "abc":
				t.Errorf("HeadSHA = %q", pr.HeadSHA)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.waits, e.sleeper.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if got := len(e.gh.CallsTo(githubtest.RouteGetPull)); got != tt.calls {
				t.Errorf("calls = %d, want %d", got, tt.calls)
			}
		})
	}
}

func TestRateLimitErrorSaysWhenToRetry(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.PrimaryRateLimitNext(githubtest.RouteGetPull, t0.Add(time.Hour), 1)
	_, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 7)
	var ae *githubapp.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if !ae.RateLimited || ae.StatusCode != http.StatusForbidden || !ae.RetryAt.Equal(t0.Add(time.Hour+time.Second)) {
		t.Errorf("APIError = %+v, want rate limited until %v", ae, t0.Add(time.Hour+time.Second))
	}
}

func TestRetriesStopWhenTheContextEnds(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		e := setup(t, setupOptions{tweak: func(c *githubapp.Config) {
			c.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
		}})
		e.gh.FailNext(githubtest.RouteGetPull, 500, 3)
		_, err := e.c.PullRequest(ctx, e.inst.ID, "octo", "widgets", 7)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if got := len(e.gh.CallsTo(githubtest.RouteGetPull)); got != 1 {
			t.Errorf("calls = %d, want 1", got)
		}
	})
	t.Run("a wait past the deadline is not started", func(t *testing.T) {
		e := setup(t, setupOptions{})
		e.gh.SecondaryRateLimitNext(githubtest.RouteGetPull, 90*time.Second, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := e.c.PullRequest(ctx, e.inst.ID, "octo", "widgets", 7)
		if !errors.Is(err, githubapp.ErrRateLimited) {
			t.Errorf("err = %v, want ErrRateLimited", err)
		}
		if w := e.sleeper.Waits(); len(w) != 0 {
			t.Errorf("waited %v", w)
		}
	})
}

func TestPostsAreRetriedWithTheirBody(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.FailNext(githubtest.RouteCreateComment, 502, 1)
	c, err := e.c.CreateComment(e.ctx, e.inst.ID, "octo", "widgets", 3, "hello again")
	if err != nil {
		t.Fatal(err)
	}
	calls := e.gh.CallsTo(githubtest.RouteCreateComment)
	if len(calls) != 2 || string(calls[0].Body) != string(calls[1].Body) {
		t.Fatalf("calls = %+v, want 2 with the same body", calls)
	}
	if got := e.gh.Comments("octo/widgets", 3); len(got) != 1 || got[0].Body != "hello again" || got[0].ID != c.ID {
		t.Errorf("comments = %+v", got)
	}
}

func TestUnreachableGitHubIsUnavailable(t *testing.T) {
	s := &sleeper{clock: &clock{now: t0}}
	gh := githubtest.New(t)
	c, err := githubapp.New(githubapp.Config{
		AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: "http://127.0.0.1:1/",
		Sleep: s.Sleep, MaxRetries: 2,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Installation(context.Background(), 1)
	if !errors.Is(err, githubapp.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, s.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}
