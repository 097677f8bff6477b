// Package poll is the loop the relay's background workers share: take a
// batch, and another while there was one, then wait for a wake-up or the
// next tick.
package poll

import (
	"context"
	"time"
)

// Waker wakes a Run loop early. The zero value is not usable; use NewWaker.
type Waker struct{ c chan struct{} }

// NewWaker returns a Waker.
func NewWaker() *Waker { return &Waker{c: make(chan struct{}, 1)} }

// Wake tells the loop there is work. It never blocks.
func (w *Waker) Wake() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// Run calls once until it reports no work (0) or an error, then waits for
// w, the next tick of every, or ctx to end; it returns when ctx ends.
// Errors go to onErr, except those caused by ctx ending.
func Run(ctx context.Context, w *Waker, every time.Duration, once func(context.Context) (int, error), onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := once(ctx)
			if err != nil {
				if ctx.Err() == nil {
					onErr(err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.c:
		case <-t.C:
		}
	}
}
