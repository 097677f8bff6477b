package poll

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunDrainsThenWaitsForAWakeUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWaker()
	var calls, work atomic.Int64
	work.Store(3)
	errs := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		Run(ctx, w, time.Hour, func(context.Context) (int, error) {
			calls.Add(1)
			if work.Load() > 0 {
				work.Add(-1)
				return 1, nil
			}
			if work.Load() < 0 {
				return 0, errors.New("boom")
			}
			return 0, nil
		}, func(err error) { errs <- err })
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 4 && time.Now().Before(deadline) { // 3 batches, then one that finds none
		time.Sleep(time.Millisecond)
	}
	if got := calls.Load(); got != 4 {
		t.Fatalf("calls = %d, want 4 (drain, then wait)", got)
	}
	work.Store(-1)
	w.Wake()
	select {
	case err := <-errs:
		if err.Error() != "boom" {
			t.Fatalf("onErr got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a wake-up did not run the loop")
	}
	cancel()
	<-done
}
