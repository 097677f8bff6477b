package ttlcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheExpiresEntriesAfterTTL(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New[string, bool](time.Minute, 10, clock.now)
	c.Set("acme/platform:alice", true)

	clock.advance(59 * time.Second)
	if v, ok := c.Get("acme/platform:alice"); !ok || !v {
		t.Fatalf("Get before ttl = %v, %v; want true, true", v, ok)
	}
	clock.advance(time.Second)
	if _, ok := c.Get("acme/platform:alice"); ok {
		t.Fatal("Get at ttl found the entry; want it expired")
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d after expiry, want 0", c.Len())
	}
}

func TestCacheEvictsWhenFull(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New[int, string](time.Minute, 2, clock.now)
	c.Set(1, "one")
	clock.advance(time.Second)
	c.Set(2, "two")
	clock.advance(time.Second)
	c.Set(3, "three") // evicts 1, the closest to expiring

	if _, ok := c.Get(1); ok {
		t.Error("entry 1 survived; want it evicted")
	}
	for _, k := range []int{2, 3} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("entry %d was evicted; want it kept", k)
		}
	}
	c.Set(3, "drei") // replacing an entry evicts nothing
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	c.Delete(2)
	if _, ok := c.Get(2); ok {
		t.Error("entry 2 survived Delete")
	}
}

func TestCacheGetOrLoadCachesValuesNotErrors(t *testing.T) {
	c := New[string, string](time.Minute, 10, nil)
	calls := 0
	load := func(err error) func(context.Context) (string, error) {
		return func(context.Context) (string, error) {
			calls++
			if err != nil {
				return "", err
			}
			return "write", nil
		}
	}
	boom := errors.New("github down")
	if _, err := c.GetOrLoad(context.Background(), "k", load(boom)); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	for range 2 {
		v, err := c.GetOrLoad(context.Background(), "k", load(nil))
		if err != nil || v != "write" {
			t.Fatalf("GetOrLoad = %q, %v; want write, nil", v, err)
		}
	}
	if calls != 2 {
		t.Errorf("load called %d times, want 2 (the error, then one success)", calls)
	}
}

func TestCacheIsSafeForConcurrentUse(t *testing.T) {
	c := New[string, int](time.Minute, 50, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := fmt.Sprint(i % 70)
				c.Set(k, g)
				c.Get(k)
				if i%17 == 0 {
					c.Delete(k)
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 50 {
		t.Errorf("Len = %d, want at most 50", n)
	}
}
