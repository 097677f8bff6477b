// Package ratelimit is a token bucket per key, in memory: enough to keep one
// relay process under a rate (GitHub's content-creation limit per
// installation, coverage uploads per repository).
package ratelimit

import (
	"sync"
	"time"
)

// Buckets holds one token bucket per key. It is safe for concurrent use.
type Buckets[K comparable] struct {
	mu      sync.Mutex
	perMin  float64
	burst   float64
	buckets map[K]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New allows perMinute takes a minute per key, in bursts of up to burst
// (a full bucket to start with).
func New[K comparable](perMinute, burst int, now func() time.Time) *Buckets[K] {
	return &Buckets[K]{perMin: float64(perMinute), burst: float64(max(burst, 1)), buckets: map[K]*bucket{}, now: now}
}

// Take takes a token for key. When there is none it returns false and how
// long until there will be one.
func (b *Buckets[K]) Take(key K) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if len(b.buckets) > 10000 {
		// Forget keys whose bucket has refilled: they are as good as new.
		full := time.Duration(b.burst / b.perMin * float64(time.Minute))
		for k, bk := range b.buckets {
			if now.Sub(bk.at) > full {
				delete(b.buckets, k)
			}
		}
	}
	bk, ok := b.buckets[key]
	if !ok {
		bk = &bucket{tokens: b.burst, at: now}
		b.buckets[key] = bk
	}
	bk.tokens = min(b.burst, bk.tokens+now.Sub(bk.at).Minutes()*b.perMin)
	bk.at = now
	if bk.tokens >= 1 {
		bk.tokens--
		return 0, true
	}
	return time.Duration((1 - bk.tokens) / b.perMin * float64(time.Minute)), false
}
