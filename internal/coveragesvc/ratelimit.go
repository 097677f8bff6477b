package coveragesvc

import (
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// limiter is a token bucket per repository, in memory: each relay process
// allows the rate on its own.
type limiter struct {
	mu      sync.Mutex
	perMin  float64
	buckets map[string]*tokens
	now     func() time.Time
}

type tokens struct {
	n  float64
	at time.Time
}

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{perMin: float64(perMinute), buckets: map[string]*tokens{}, now: now}
}

// take takes a token for key or says how long until there is one.
func (l *limiter) take(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > 10000 {
		for k, b := range l.buckets { // forget repositories whose bucket has refilled
			if now.Sub(b.at) > time.Minute {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &tokens{n: l.perMin, at: now}
		l.buckets[key] = b
	}
	b.n = min(l.perMin, b.n+now.Sub(b.at).Minutes()*l.perMin)
	b.at = now
	if b.n >= 1 {
		b.n--
		return 0, true
	}
	return time.Duration((1 - b.n) / l.perMin * float64(time.Minute)), false
}

// RateLimitedError is an upload refused by the per-repository rate limit.
// It carries an ERATELIMITED *patchpanda.Error and the wait.
type RateLimitedError struct {
	Wait time.Duration
	err  *patchpanda.Error
}

func (e *RateLimitedError) Error() string { return e.err.Error() }

// Unwrap returns the *patchpanda.Error.
func (e *RateLimitedError) Unwrap() error { return e.err }

// RetryAfter returns how long to wait before trying again.
func (e *RateLimitedError) RetryAfter() time.Duration { return e.Wait }
