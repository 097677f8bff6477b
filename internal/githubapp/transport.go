package githubapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// errRetriesExhausted marks a transport failure that persisted through
// every retry.
var errRetriesExhausted = errors.New("no answer after retries")

type routeKey struct{}

// withRoute tells the transport which REST route a request belongs to, for
// logs and the Observe hook (paths carry owner names and ids; routes do not).
func withRoute(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, routeKey{}, route)
}

func routeOf(ctx context.Context) string {
	r, _ := ctx.Value(routeKey{}).(string)
	return r
}

// transport sends each request, and retries it on 5xx, on transport
// errors and on rate-limit answers, waiting as GitHub asks: Retry-After,
// else X-RateLimit-Reset when X-RateLimit-Remaining is 0, else a minute
// doubling per retry for a secondary limit. 5xx back off exponentially
// from Config.RetryBase. When a wait would exceed Config.MaxWait or the
// context's deadline it gives up at once and hands the answer up, so a
// caller learns of a long rate limit without being blocked by it.
type transport struct {
	base    http.RoundTripper
	c       *Client
	attempt time.Duration // per-attempt timeout
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	route := routeOf(ctx)
	key, keyed := t.c.budgetKey(req)
	var lastErr error
	for attempt := 0; ; attempt++ {
		if keyed {
			if err := t.waitForBudget(ctx, key); err != nil {
				return nil, err
			}
		}
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, fmt.Errorf("retry %s %s: request body cannot be replayed: %w", req.Method, route, lastErr)
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("retry %s %s: %w", req.Method, route, err)
				}
				r.Body = body
			}
		}
		start := time.Now()
		resp, err := t.send(r)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if obs := t.c.cfg.Observe; obs != nil {
			obs(req.Method, route, status, time.Since(start))
		}
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}

		var wait time.Duration
		var reason string
		switch {
		case err != nil:
			lastErr = err
			wait, reason = t.c.backoff(attempt), "transport error"
		case status >= 500:
			wait, reason = t.c.backoff(attempt), "server error"
			if d, ok := retryAfter(resp, t.c.now()); ok {
				wait = d
			}
		case status == http.StatusForbidden || status == http.StatusTooManyRequests:
			body, rerr := peekBody(resp)
			if rerr != nil {
				return resp, nil
			}
			d, limited := rateLimitWait(resp, body, t.c.now(), attempt)
			if !limited {
				return resp, nil
			}
			wait, reason = d, "rate limited"
			if keyed {
				t.c.observeBudget(key, resp, d)
			}
		default:
			if keyed && status < 300 {
				t.c.observeBudget(key, resp, 0)
			}
			return resp, nil
		}

		giveUp := attempt >= t.c.cfg.MaxRetries || wait > t.c.cfg.MaxWait
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			giveUp = true
		}
		if giveUp {
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errRetriesExhausted, err)
			}
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		attrs := []any{slog.String("method", req.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("wait", wait), slog.Int("attempt", attempt+1)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		t.c.log.WarnContext(ctx, "github: retrying after "+reason, attrs...)
		if err := t.c.cfg.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// send makes one attempt, bounded by the per-attempt timeout; the timeout
// is released when the response body is closed.
func (t *transport) send(r *http.Request) (*http.Response, error) {
	if t.attempt <= 0 {
		return t.base.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.attempt)
	resp, err := t.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// peekBody reads up to 64 KiB of the body and puts it back.
func peekBody(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return b, nil
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// rateLimitWait tells whether a 403/429 answer is a rate limit and how long
// to wait before the next try, following GitHub's guidance. n counts the
// retries made so far, to double the wait for a secondary limit.
func rateLimitWait(resp *http.Response, body []byte, now time.Time, n int) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if d, ok := retryAfter(resp, now); ok {
		return d, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// The reset is in whole seconds: a second more avoids arriving
			// just before it.
			return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, true
		}
		return time.Minute, true
	}
	if resp.StatusCode == http.StatusTooManyRequests || isSecondaryLimit(body) {
		return time.Minute << min(n, 6), true
	}
	return 0, false
}

// backoff is the wait before retry attempt+1 after a 5xx or transport
// error: RetryBase doubled per attempt, at most 30 s.
func (c *Client) backoff(attempt int) time.Duration {
	return min(c.cfg.RetryBase<<min(attempt, 10), 30*time.Second)
}

// sleep waits d or until ctx is done, and returns ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
