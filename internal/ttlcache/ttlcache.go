// Package ttlcache keeps values for a short time, bounded in number: the
// relay's permission and team look-ups, repository configs and GitHub
// token principals, so that a burst of events does not repeat the same
// GitHub calls.
package ttlcache

import (
	"context"
	"sync"
	"time"
)

// Cache keeps values for a short time. It is safe for concurrent use. Errors are never cached; a caller
// that wants to remember "not a member" stores false.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	items map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	value   V
	expires time.Time
}

// New returns a cache whose entries live for ttl and which holds at
// most maxEntries (at least 1). now is the clock; nil means time.Now.
func New[K comparable, V any](ttl time.Duration, maxEntries int, now func() time.Time) *Cache[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{ttl: ttl, max: max(maxEntries, 1), now: now, items: map[K]cacheEntry[V]{}}
}

// Get returns the value stored for k and true, or the zero value and false
// when there is none or it has expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !c.now().Before(e.expires) {
		delete(c.items, k)
		var zero V
		return zero, false
	}
	return e.value, true
}

// Set stores v for k for the cache's ttl. When the cache is full it first
// drops expired entries, then the entry closest to expiring.
func (c *Cache[K, V]) Set(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.items[k]; !ok && len(c.items) >= c.max {
		c.evict(now)
	}
	c.items[k] = cacheEntry[V]{value: v, expires: now.Add(c.ttl)}
}

// evict makes room for one entry. c.mu is held.
func (c *Cache[K, V]) evict(now time.Time) {
	var (
		oldest K
		first  = true
		at     time.Time
	)
	for k, e := range c.items {
		if !now.Before(e.expires) {
			delete(c.items, k)
			continue
		}
		if first || e.expires.Before(at) {
			oldest, at, first = k, e.expires, false
		}
	}
	if len(c.items) >= c.max && !first {
		delete(c.items, oldest)
	}
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, k)
}

// Len returns the number of entries held, expired ones included until
// they are next touched.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// GetOrLoad returns the cached value for k, or calls load, caches what it
// returns and returns it. It returns load's error, uncached. Concurrent
// misses for the same key may each call load; the last result is kept.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	v, err := load(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	c.Set(k, v)
	return v, nil
}
