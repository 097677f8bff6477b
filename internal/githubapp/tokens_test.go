package githubapp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestTokenIsNarrowedToWhatIsAsked(t *testing.T) {
	e := setup(t, setupOptions{})
	tok, err := e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{
		Repositories: []string{"widgets"},
		Permissions:  map[string]string{"contents": "write", "pull_requests": "write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := githubapp.InstallationToken{
		ExpiresAt:    t0.Add(time.Hour),
		Permissions:  map[string]string{"contents": "write", "pull_requests": "write", "metadata": "read"},
		Repositories: []string{"octo/widgets"},
	}
	got := *tok
	got.Token = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	issued := e.gh.IssuedTokens()
	if len(issued) != 1 || issued[0].Token != tok.Token {
		t.Fatalf("issued = %+v", issued)
	}
	if diff := cmp.Diff([]string{"octo/widgets"}, issued[0].Repositories); diff != "" {
		t.Errorf("GitHub narrowed the token to (-want +got):\n%s", diff)
	}
	body := strings.TrimSpace(string(e.gh.CallsTo(githubtest.RouteCreateToken)[0].Body))
	if want := `{"repositories":["widgets"],"permissions":{"contents":"write","pull_requests":"write"}}`; body != want {
		t.Errorf("request body = %s, want %s", body, want)
	}
}

func TestTokenRequestsGitHubWouldMisreadAreRefused(t *testing.T) {
	tests := []struct {
		name string
		req  githubapp.TokenRequest
		want string
	}{
		{"unknown permission would be dropped and widen the token", githubapp.TokenRequest{Permissions: map[string]string{"contnets": "read"}}, `"contnets" is not a GitHub App permission`},
		{"unknown access level", githubapp.TokenRequest{Permissions: map[string]string{"contents": "sudo"}}, "not read, write or admin"},
		{"repository with its owner", githubapp.TokenRequest{Repositories: []string{"octo/widgets"}}, "without its owner"},
		{"repository id zero", githubapp.TokenRequest{RepositoryIDs: []int64{0}}, "is not a repository id"},
	}
	e := setup(t, setupOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.Token(e.ctx, e.inst.ID, tt.req)
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !contains(err, tt.want) {
				t.Errorf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
	if n := len(e.gh.Calls()); n != 0 {
		t.Errorf("%d calls made for invalid requests", n)
	}
	t.Run("repositories the installation lacks are GitHub's 422", func(t *testing.T) {
		_, err := e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{Repositories: []string{"elsewhere"}})
		if !errors.Is(err, githubapp.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("unknown installation is not found", func(t *testing.T) {
		_, err := e.c.Token(e.ctx, 999999, githubapp.TokenRequest{})
		if !errors.Is(err, githubapp.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func TestTokensAreCachedUntilAMinuteBeforeExpiry(t *testing.T) {
	e := setup(t, setupOptions{})
	narrow := githubapp.TokenRequest{Repositories: []string{"widgets", "gadgets"}, Permissions: map[string]string{"contents": "read", "checks": "write"}}
	sameNarrowReordered := githubapp.TokenRequest{Repositories: []string{"gadgets", "widgets"}, Permissions: map[string]string{"checks": "write", "contents": "read"}}
	mints := func() int { return len(e.gh.CallsTo(githubtest.RouteCreateToken)) }

	steps := []struct {
		name    string
		advance time.Duration
		req     githubapp.TokenRequest
		mints   int
	}{
		{"first request mints", 0, narrow, 1},
		{"same request is served from cache", 0, narrow, 1},
		{"same request in another order is the same key", 0, sameNarrowReordered, 1},
		{"a wider request mints its own token", 0, githubapp.TokenRequest{}, 2},
		{"58 minutes later the narrow token is still good", 58 * time.Minute, narrow, 2},
		{"within a minute of expiry it is replaced", 90 * time.Second, narrow, 3},
		{"asking for 30 minutes of validity replaces a token with less", 30 * time.Minute, githubapp.TokenRequest{Repositories: []string{"widgets", "gadgets"}, Permissions: narrow.Permissions, MinValidity: 31 * time.Minute}, 4},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e.clock.Advance(s.advance)
			tok, err := e.c.Token(e.ctx, e.inst.ID, s.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := mints(); got != s.mints {
				t.Errorf("mints = %d, want %d", got, s.mints)
			}
			if left := tok.ExpiresAt.Sub(e.clock.Now()); left <= time.Minute {
				t.Errorf("token handed out with only %v left", left)
			}
		})
	}

	t.Run("installation calls share the full token", func(t *testing.T) {
		e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 1})
		before := mints()
		for range 3 {
			if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 1); err != nil {
				t.Fatal(err)
			}
		}
		if got := mints() - before; got > 1 {
			t.Errorf("3 calls minted %d tokens", got)
		}
	})
}

func TestConcurrentCallersShareOneMint(t *testing.T) {
	e := setup(t, setupOptions{})
	// Hold the first mint back so the others pile up behind it.
	e.gh.SecondaryRateLimitNext(githubtest.RouteCreateToken, time.Second, 1)
	req := githubapp.TokenRequest{Repositories: []string{"widgets"}}
	var wg sync.WaitGroup
	tokens := make([]string, 10)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := e.c.Token(e.ctx, e.inst.ID, req)
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.Token
		}()
	}
	wg.Wait()
	if n := len(e.gh.IssuedTokens()); n != 1 {
		t.Errorf("minted %d tokens for 10 concurrent callers, want 1", n)
	}
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("callers got different tokens: %q", tokens)
			break
		}
	}
}

func TestWaitingCallerRetriesWhenTheMinterGivesUp(t *testing.T) {
	entered := make(chan struct{}, 1)
	var sleeps atomic.Int32
	e := setup(t, setupOptions{tweak: func(c *githubapp.Config) {
		// The first minter is stuck waiting out a rate limit until its
		// caller gives up; the second waits out the shared budget the
		// limit spent (at once, here).
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			if sleeps.Add(1) > 1 {
				return nil
			}
			entered <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
	}})
	e.gh.SecondaryRateLimitNext(githubtest.RouteCreateToken, 10*time.Second, 1)
	ctx, cancel := context.WithCancel(e.ctx)
	leader := make(chan error, 1)
	go func() {
		_, err := e.c.Token(ctx, e.inst.ID, githubapp.TokenRequest{})
		leader <- err
	}()
	<-entered
	waiter := make(chan error, 1)
	go func() {
		_, err := e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{})
		waiter <- err
	}()
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: err = %v, want context.Canceled", err)
	}
	if err := <-waiter; err != nil {
		t.Errorf("the other caller inherited the cancellation: %v", err)
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.SetFile("octo/widgets", "main", "a.txt", []byte("A"))
	if _, err := e.c.Contents(e.ctx, e.inst.ID, "octo", "widgets", "a.txt", ""); err != nil {
		t.Fatal(err)
	}
	e.gh.RevokeTokens()
	f, err := e.c.Contents(e.ctx, e.inst.ID, "octo", "widgets", "a.txt", "")
	if err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if string(f.Content) != "A" {
		t.Errorf("content = %q", f.Content)
	}
	if n := len(e.gh.IssuedTokens()); n != 2 {
		t.Errorf("minted %d tokens, want 2", n)
	}
}
