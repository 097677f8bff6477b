package ratelimit

import (
	"testing"
	"time"
)

func TestBucketsAllowABurstThenTheRate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := New[string](60, 3, func() time.Time { return now })
	for i := range 3 {
		if _, ok := b.Take("a"); !ok {
			t.Fatalf("take %d of the burst refused", i+1)
		}
	}
	wait, ok := b.Take("a")
	if ok || wait != time.Second {
		t.Fatalf("after the burst: ok=%v wait=%s, want refused for 1s", ok, wait)
	}
	if _, ok := b.Take("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(time.Second)
	if _, ok := b.Take("a"); !ok {
		t.Fatal("no token after waiting")
	}
}
