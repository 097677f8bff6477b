package githubapp

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AppBudget is the budget key of calls made as the App itself (its JWT):
// token minting, hook deliveries, installations. Installation ids are
// positive, so it never collides with one.
const AppBudget int64 = 0

// Budget remembers, per installation (and for the App, AppBudget), until
// when GitHub's rate limit is spent. Every call path of one Client shares
// it: the transport records a spent budget from any answer that says so (a
// 403/429 rate limit, or X-RateLimit-Remaining: 0 on a success) and, while
// it is spent, waits or refuses a call without sending it; the intake
// processor and the outbox ask it which installations to leave alone. It is
// safe for concurrent use.
type Budget struct {
	mu    sync.Mutex
	until map[int64]time.Time
	now   func() time.Time
}

func newBudget(now func() time.Time) *Budget {
	return &Budget{until: map[int64]time.Time{}, now: now}
}

// Spend records that key's budget is spent until at. A later time than one
// already recorded wins; an earlier one is ignored.
func (b *Budget) Spend(key int64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if at.After(b.until[key]) {
		b.until[key] = at
	}
}

// Until returns when key's budget is available again, or the zero time
// when it is available now.
func (b *Budget) Until(key int64) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	at, ok := b.until[key]
	if !ok {
		return time.Time{}
	}
	if !at.After(b.now()) {
		delete(b.until, key)
		return time.Time{}
	}
	return at
}

// Spent returns the installations whose budget is spent now, with when
// each is available again. AppBudget is included when the App's own budget
// is spent.
func (b *Budget) Spent() map[int64]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	out := map[int64]time.Time{}
	for k, at := range b.until {
		if !at.After(now) {
			delete(b.until, k)
			continue
		}
		out[k] = at
	}
	return out
}

// Budget returns the Client's shared rate-limit budget.
func (c *Client) Budget() *Budget { return c.budget }

// tokenOwner is the installation an installation token was minted for.
type tokenOwner struct {
	installation int64
	expires      time.Time
}

// rememberTokenLocked notes which installation tok belongs to, so the
// transport charges calls made with it to that installation's budget. The
// caller holds c.mu.
func (c *Client) rememberTokenLocked(tok *InstallationToken, installationID int64) {
	now := c.now()
	if len(c.owners) > 1000 {
		for k, o := range c.owners {
			if !o.expires.After(now) {
				delete(c.owners, k)
			}
		}
	}
	c.owners[tok.Token] = tokenOwner{installation: installationID, expires: tok.ExpiresAt}
}

// budgetKey tells whose budget a request spends: the App's for its JWT,
// an installation's for a token minted for it, nobody's (false) for
// anything else (a person's own token).
func (c *Client) budgetKey(req *http.Request) (int64, bool) {
	auth := req.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "token ")
	}
	if !ok || tok == "" {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok == c.jwt {
		return AppBudget, true
	}
	if o, ok := c.owners[tok]; ok {
		return o.installation, true
	}
	return 0, false
}

// observeBudget records a spent budget from an answer: a rate limit, or a
// success that used the last request of the hour.
func (c *Client) observeBudget(key int64, resp *http.Response, limitedFor time.Duration) {
	now := c.now()
	if limitedFor > 0 {
		c.budget.Spend(key, now.Add(limitedFor))
		return
	}
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		c.budget.Spend(key, time.Unix(reset, 0).Add(time.Second))
	}
}

// spentError is what a call gets, without being sent, while its budget is
// spent for longer than the client may wait.
func spentError(at time.Time) error {
	return &APIError{StatusCode: http.StatusTooManyRequests, RateLimited: true, RetryAt: at,
		Message: "rate limit spent; the request was not sent"}
}

// waitForBudget holds a request while its budget is spent: it sleeps when
// the wait is within MaxWait and the context's deadline, and otherwise
// returns a rate-limit error at once so the caller can put the work aside.
func (t *transport) waitForBudget(ctx context.Context, key int64) error {
	at := t.c.budget.Until(key)
	if at.IsZero() {
		return nil
	}
	wait := at.Sub(t.c.now())
	if wait > t.c.cfg.MaxWait {
		return spentError(at)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return spentError(at)
	}
	return t.c.cfg.Sleep(ctx, wait)
}
