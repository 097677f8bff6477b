package memqueue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/memqueue"
	"github.com/patchpanda/patchpanda/internal/queue/queuetest"
)

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, visibility time.Duration) queue.Queue {
		q := memqueue.New(memqueue.Options{VisibilityTimeout: visibility})
		t.Cleanup(func() { q.Close() })
		return q
	})
}

func TestMalformedMessageStaysLeased(t *testing.T) {
	ctx := t.Context()
	q := memqueue.New(memqueue.Options{})
	defer q.Close()
	if err := q.PublishRaw(ctx, []byte(`{"version":9}`)); err != nil {
		t.Fatal(err)
	}
	_, err := q.Receive(ctx, 0)
	var bad *queue.MalformedError
	if !errors.As(err, &bad) {
		t.Fatalf("Receive of a version 9 message = %v, want a *queue.MalformedError", err)
	}
	if d, err := q.Receive(ctx, 0); d != nil || err != nil {
		t.Fatalf("Receive while the bad message is leased = %v, %v; want nothing", d, err)
	}
	if err := q.Ack(ctx, bad.Receipt); err != nil {
		t.Fatalf("Ack of the bad message: %v", err)
	}
	if n := q.Len(); n != 0 {
		t.Errorf("Len after acking the bad message = %d, want 0", n)
	}
}
