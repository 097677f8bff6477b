package coveragesvc

import (
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

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
