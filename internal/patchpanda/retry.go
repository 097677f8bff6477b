package patchpanda

import (
	"math/rand/v2"
	"time"
)

// Permanent reports whether retrying err cannot help: the input was
// invalid, the thing is gone, or it is not allowed. Anything else —
// unavailable, rate limited, internal — is worth retrying.
func Permanent(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, ENOTFOUND, EFORBIDDEN, EUNSUPPORTED, ETOOLARGE:
		return true
	}
	return false
}

// Backoff returns how long to wait before attempt n+1: exponential from 2
// seconds, capped at 10 minutes, with ±20% jitter so retries spread out.
func Backoff(attempt int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 10*time.Minute)
	jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}
