// Package queuetest is the conformance suite every queue backend passes, and
// the sample messages tests elsewhere use.
//
// A backend's test calls Run with a function that opens a fresh, empty queue:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T, visibility time.Duration) queue.Queue {
//			q := memqueue.New(memqueue.Options{VisibilityTimeout: visibility})
//			t.Cleanup(func() { q.Close() })
//			return q
//		})
//	}
//
// The suite never fails because the machine is slow: where a lease could
// have expired because a step took long, it checks the clock and logs
// instead of failing.
package queuetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
)

// Message returns a valid version 1 message with the given id and attempt,
// the same every time for the same arguments.
func Message(id string, attempt int) patchpanda.Message {
	return patchpanda.Message{
		Version:        patchpanda.MessageVersion,
		ID:             id,
		Kind:           patchpanda.JobKindGenerateTests,
		Attempt:        attempt,
		Repository:     patchpanda.Repository{Owner: "octo-org", Name: "hello-world", ID: 1296269},
		InstallationID: 42,
		PullRequest: patchpanda.PullRequest{
			Number:  7,
			HeadSHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
			BaseSHA: "9049f1265b7d61be4a8904a9a27120d2064dab3b",
		},
		RequestedBy:    "octocat",
		Trigger:        patchpanda.TriggerComment,
		Config:         json.RawMessage(`{"language":"go","paths":["internal/"],"max_cost_usd":2.5}`),
		BillingProject: "default",
		CreatedAt:      time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC),
	}
}

// The visibility timeouts the suite asks for: short where it waits for a
// redelivery, long where a redelivery would only be noise.
const (
	shortVisibility = time.Second
	longVisibility  = 2 * time.Minute
)

// patience bounds how long the suite waits for something that must happen
// (a redelivery, a cancelled call returning). It is generous so that only a
// broken backend, not a slow machine, runs into it.
const patience = 30 * time.Second

// NewFunc opens a fresh, empty queue whose leases last visibility (rounded up
// to the backend's granularity), and arranges for it to be closed and
// removed when t ends.
type NewFunc func(t *testing.T, visibility time.Duration) queue.Queue

// Run runs the conformance suite against the queues newQueue opens, one
// fresh queue per subtest.
func Run(t *testing.T, newQueue NewFunc) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, newQueue NewFunc)
	}{
		{"a published message is received exactly as sent", testRoundTrip},
		{"publish rejects an invalid message", testPublishInvalid},
		{"publish refuses a message carrying a secret", testPublishSecret},
		{"an empty queue returns nothing within the wait", testEmpty},
		{"an acked message is gone", testAck},
		{"acking twice is harmless", testAckTwice},
		{"an unacked message comes back after the visibility timeout", testRedelivery},
		{"a nacked message comes back without waiting for the timeout", testNack},
		{"extending a lease keeps the message hidden", testExtend},
		{"extend after ack reports the lease lost", testExtendAfterAck},
		{"extend after the lease expired and was taken reports the lease lost", testExtendAfterLoss},
		{"extend refuses a duration that is not positive", testExtendInvalid},
		{"concurrent consumers never share a lease", testConcurrent},
		{"many messages are all delivered", testMany},
		{"ping answers", testPing},
		{"a cancelled receive returns promptly", testCancel},
		{"methods fail after close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every subtest has its own queue and mostly waits for
			// timeouts, so running them side by side costs little CPU.
			t.Parallel()
			tt.fn(t, newQueue)
		})
	}
}

func testRoundTrip(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	want := Message("round-trip", 3)
	want.Trigger = patchpanda.TriggerReplay
	want.Config = json.RawMessage(`{"nested":{"list":[1,2.5,"три",null,true]},"empty":{}}`)
	want.BillingProject = ""
	publish(t, q, want)

	start := time.Now()
	d := receive(t, q, patience)
	if d == nil {
		t.Fatalf("Receive returned nothing within %v after a publish", patience)
	}
	if diff := cmp.Diff(want, d.Message); diff != "" {
		t.Errorf("received message differs (-published +received):\n%s", diff)
	}
	if d.Receipt == "" {
		t.Error("Delivery.Receipt is empty")
	}
	if d.Deliveries != 0 && d.Deliveries != 1 {
		t.Errorf("Delivery.Deliveries = %d on a first delivery, want 1 (or 0 for unknown)", d.Deliveries)
	}
	if !d.LeaseExpiresAt.After(start) {
		t.Errorf("Delivery.LeaseExpiresAt = %v, want a time after the receive started (%v)", d.LeaseExpiresAt, start)
	}
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

func testPublishInvalid(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	m := Message("invalid", 1)
	m.PullRequest.HeadSHA = "main"
	err := q.Publish(t.Context(), m)
	if code := patchpanda.ErrorCode(err); code != patchpanda.EINVALID {
		t.Fatalf("Publish(message with head_sha %q) = %v, want an %s error", m.PullRequest.HeadSHA, err, patchpanda.EINVALID)
	}
	if d := receive(t, q, 0); d != nil {
		t.Errorf("Receive after a rejected publish = %+v, want nothing", d.Message)
	}
}

func testPublishSecret(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	m := Message("secret", 1)
	m.Config = json.RawMessage(`{"env":{"GITHUB_TOKEN":"ghs_16C7e42F292c6912E7710c838347Ae178B4a"}}`)
	err := q.Publish(t.Context(), m)
	if code := patchpanda.ErrorCode(err); code != patchpanda.EINVALID {
		t.Fatalf("Publish(message with a token in its config) = %v, want an %s error", err, patchpanda.EINVALID)
	}
	if strings.Contains(err.Error(), "ghs_16C7") {
		t.Errorf("the error quotes the token: %v", err)
	}
}

func testEmpty(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	for _, wait := range []time.Duration{0, 200 * time.Millisecond} {
		if d := receive(t, q, wait); d != nil {
			t.Errorf("Receive(wait %v) on an empty queue = %+v, want nil", wait, d.Message)
		}
	}
}

func testAck(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, shortVisibility)
	ctx := t.Context()
	publish(t, q, Message("ack", 1))
	d := mustReceive(t, q)
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	// Wait well past the visibility timeout: an acked message must not
	// come back.
	deadline := time.Now().Add(3*shortVisibility + time.Second)
	for time.Now().Before(deadline) {
		if d := receive(t, q, time.Until(deadline)); d != nil {
			t.Fatalf("Receive after Ack returned %s attempt %d again", d.Message.ID, d.Message.Attempt)
		}
	}
}

func testAckTwice(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	publish(t, q, Message("ack-twice", 1))
	d := mustReceive(t, q)
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Fatalf("first Ack: %v", err)
	}
	if err := q.Ack(ctx, d.Receipt); err != nil && !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("second Ack = %v, want nil or ErrLeaseLost", err)
	}
}

func testRedelivery(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, shortVisibility)
	ctx := t.Context()
	want := Message("redeliver", 1)
	publish(t, q, want)
	first := mustReceive(t, q)

	second := receive(t, q, patience)
	if second == nil {
		t.Fatalf("an unacked message did not come back within %v (visibility timeout %v)", patience, shortVisibility)
	}
	if diff := cmp.Diff(want, second.Message); diff != "" {
		t.Errorf("redelivered message differs (-published +received):\n%s", diff)
	}
	if second.Receipt == first.Receipt {
		t.Errorf("the redelivery has the same receipt as the first delivery: %q", first.Receipt)
	}
	if second.Deliveries != 0 && second.Deliveries < first.Deliveries {
		t.Errorf("Deliveries on a redelivery = %d, less than the first delivery's %d", second.Deliveries, first.Deliveries)
	}
	if err := q.Ack(ctx, second.Receipt); err != nil {
		t.Errorf("Ack of the redelivery: %v", err)
	}
}

func testNack(t *testing.T, newQueue NewFunc) {
	// The long timeout shows the message came back because of the nack,
	// not because its lease ran out.
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	publish(t, q, Message("nack", 1))
	first := mustReceive(t, q)
	if err := q.Nack(ctx, first.Receipt); err != nil {
		t.Fatalf("Nack: %v", err)
	}
	second := receive(t, q, patience)
	if second == nil {
		t.Fatalf("a nacked message did not come back within %v", patience)
	}
	if second.Message.ID != "nack" {
		t.Errorf("received %q after the nack, want %q", second.Message.ID, "nack")
	}
	if err := q.Ack(ctx, second.Receipt); err != nil {
		t.Errorf("Ack of the redelivery: %v", err)
	}
	if err := q.Nack(ctx, second.Receipt); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Nack after Ack = %v, want ErrLeaseLost", err)
	}
}

// testExtend heartbeats a lease for three visibility timeouts while another
// goroutine polls, then stops heartbeating and expects the message back. A
// poll that got the message is a failure only when the heartbeats provably
// held the lease at that moment.
func testExtend(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, shortVisibility)
	ctx := t.Context()
	publish(t, q, Message("extend", 1))

	recvStart := time.Now()
	d := mustReceive(t, q)
	// The lease is provably held until heldUntil: the backend granted (or
	// last extended) it no earlier than the call that did so started.
	heldUntil := recvStart.Add(shortVisibility)

	type leak struct {
		id       string
		returned time.Time
	}
	leaks := make(chan leak, 1)
	pollCtx, stopPolling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for pollCtx.Err() == nil {
			got, err := q.Receive(pollCtx, 200*time.Millisecond)
			if err == nil && got != nil {
				leaks <- leak{got.Message.ID, time.Now()}
				return
			}
		}
	})

	for until := time.Now().Add(3 * shortVisibility); time.Now().Before(until); {
		time.Sleep(shortVisibility / 4)
		sent := time.Now()
		if !sent.Before(heldUntil) {
			t.Logf("the machine was too slow to heartbeat in time (%v late); stopping early", sent.Sub(heldUntil))
			break
		}
		if err := q.Extend(ctx, d.Receipt, shortVisibility); err != nil {
			stopPolling()
			wg.Wait()
			t.Fatalf("Extend while the lease was provably held: %v", err)
		}
		heldUntil = sent.Add(shortVisibility)
	}
	stopPolling()
	wg.Wait()

	select {
	case l := <-leaks:
		if l.returned.Before(heldUntil) {
			t.Fatalf("another Receive got %s at %s while heartbeats held its lease until %s",
				l.id, l.returned.Format(time.StampMilli), heldUntil.Format(time.StampMilli))
		}
		t.Logf("the message went to the poller after its lease could have lapsed (a slow machine, not a failure)")
		return
	default:
	}

	// Heartbeats stopped: the message must come back.
	again := receive(t, q, patience)
	if again == nil {
		t.Fatalf("the message did not come back within %v after heartbeats stopped", patience)
	}
	if err := q.Ack(ctx, again.Receipt); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

func testExtendAfterAck(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	publish(t, q, Message("extend-after-ack", 1))
	d := mustReceive(t, q)
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if err := q.Extend(ctx, d.Receipt, time.Minute); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Extend after Ack = %v, want ErrLeaseLost", err)
	}
}

func testExtendAfterLoss(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, shortVisibility)
	ctx := t.Context()
	publish(t, q, Message("extend-after-loss", 1))
	first := mustReceive(t, q)
	second := receive(t, q, patience)
	if second == nil {
		t.Fatalf("an unacked message did not come back within %v", patience)
	}
	if err := q.Extend(ctx, first.Receipt, time.Minute); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Extend with the first, expired receipt = %v, want ErrLeaseLost", err)
	}
	if err := q.Ack(ctx, second.Receipt); err != nil {
		t.Errorf("Ack with the current receipt: %v", err)
	}
}

func testExtendInvalid(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	publish(t, q, Message("extend-invalid", 1))
	d := mustReceive(t, q)
	for _, dur := range []time.Duration{0, -time.Second} {
		if err := q.Extend(ctx, d.Receipt, dur); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("Extend(%v) = %v, want an %s error", dur, err, patchpanda.EINVALID)
		}
	}
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

// delivered records one delivery for the concurrency checks.
type delivered struct {
	key         string    // id/attempt
	callStarted time.Time // when the Receive that returned it started
	returned    time.Time // when that Receive returned
	acked       time.Time // when Ack returned nil, or zero
}

// checkDeliveries fails t when one message was handed out twice in a way
// at-least-once delivery does not allow: a second delivery that returned
// while the first lease was provably held, or that started after the first
// was acked.
func checkDeliveries(t *testing.T, visibility time.Duration, all []delivered) {
	t.Helper()
	byKey := map[string][]delivered{}
	for _, d := range all {
		byKey[d.key] = append(byKey[d.key], d)
	}
	for key, ds := range byKey {
		for i, a := range ds {
			for j, b := range ds {
				if i == j || b.returned.Before(a.returned) {
					continue
				}
				switch {
				case !a.acked.IsZero() && b.callStarted.After(a.acked):
					t.Errorf("%s was delivered again after it was acked", key)
				case b.returned.Before(a.callStarted.Add(visibility)):
					t.Errorf("%s was delivered to two consumers while the first lease was provably held", key)
				default:
					t.Logf("%s was delivered twice after its lease could have lapsed (a slow machine)", key)
				}
			}
		}
	}
}

func testConcurrent(t *testing.T, newQueue NewFunc) {
	runConsumers(t, newQueue, 24, 6, 1)
}

func testMany(t *testing.T, newQueue NewFunc) {
	runConsumers(t, newQueue, 200, 4, 4)
}

// runConsumers publishes n messages from publishers goroutines while
// consumers goroutines receive and ack them, and checks that every message
// arrived and none was shared while leased.
func runConsumers(t *testing.T, newQueue NewFunc, n, consumers, publishers int) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()

	want := map[string]bool{}
	var msgs []patchpanda.Message
	for i := range n {
		m := Message(fmt.Sprintf("job-%03d", i), 1+i%3)
		msgs = append(msgs, m)
		want[key(m)] = true
	}

	var pub sync.WaitGroup
	pubErrs := make(chan error, publishers)
	for p := range publishers {
		pub.Go(func() {
			for i := p; i < len(msgs); i += publishers {
				if err := q.Publish(ctx, msgs[i]); err != nil {
					pubErrs <- fmt.Errorf("publish %s: %w", msgs[i].ID, err)
					return
				}
			}
		})
	}

	var (
		mu   sync.Mutex
		all  []delivered
		seen = map[string]bool{}
		errs []error
	)
	done := make(chan struct{})
	deadline := time.Now().Add(2 * patience)
	var cons sync.WaitGroup
	for range consumers {
		cons.Go(func() {
			for time.Now().Before(deadline) {
				select {
				case <-done:
					return
				default:
				}
				start := time.Now()
				d, err := q.Receive(ctx, 500*time.Millisecond)
				returned := time.Now()
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("receive: %w", err))
					mu.Unlock()
					return
				}
				if d == nil {
					continue
				}
				rec := delivered{key: key(d.Message), callStarted: start, returned: returned}
				if err := q.Ack(ctx, d.Receipt); err == nil {
					rec.acked = time.Now()
				} else if !errors.Is(err, queue.ErrLeaseLost) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("ack %s: %w", rec.key, err))
					mu.Unlock()
				}
				mu.Lock()
				all = append(all, rec)
				seen[rec.key] = true
				if len(seen) == len(want) {
					select {
					case <-done:
					default:
						close(done)
					}
				}
				mu.Unlock()
			}
		})
	}
	pub.Wait()
	close(pubErrs)
	for err := range pubErrs {
		t.Error(err)
	}
	cons.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	var missing []string
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d messages never arrived within %v, e.g. %v", len(missing), n, 2*patience, missing[:min(5, len(missing))])
	}
	checkDeliveries(t, longVisibility, all)
}

func key(m patchpanda.Message) string { return fmt.Sprintf("%s/%d", m.ID, m.Attempt) }

func testPing(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	if err := q.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testCancel(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		d, err := q.Receive(ctx, time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Receive(cancelled ctx) = %v, %v; want an error wrapping context.Canceled", d, err)
		}
	})

	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		type result struct {
			d   *queue.Delivery
			err error
		}
		res := make(chan result, 1)
		go func() {
			d, err := q.Receive(ctx, 10*time.Minute)
			res <- result{d, err}
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case r := <-res:
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("Receive after cancel = %v, %v; want an error wrapping context.Canceled", r.d, r.err)
			}
		case <-time.After(patience):
			t.Fatalf("Receive(wait 10m) did not return within %v of its context being cancelled", patience)
		}
	})

	t.Run("past its deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		res := make(chan error, 1)
		go func() {
			_, err := q.Receive(ctx, 10*time.Minute)
			res <- err
		}()
		select {
		case err := <-res:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Receive past its deadline = %v, want an error wrapping context.DeadlineExceeded", err)
			}
		case <-time.After(patience):
			t.Fatalf("Receive(wait 10m) did not return within %v of its context's deadline", patience)
		}
	})
}

func testClose(t *testing.T, newQueue NewFunc) {
	q := newQueue(t, longVisibility)
	ctx := t.Context()
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Publish(ctx, Message("closed", 1)); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if _, err := q.Receive(ctx, 0); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Receive after Close = %v, want ErrClosed", err)
	}
	if err := q.Ping(ctx); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func publish(t *testing.T, q queue.Queue, m patchpanda.Message) {
	t.Helper()
	if err := q.Publish(t.Context(), m); err != nil {
		t.Fatalf("Publish %s: %v", m.ID, err)
	}
}

func receive(t *testing.T, q queue.Queue, wait time.Duration) *queue.Delivery {
	t.Helper()
	d, err := q.Receive(t.Context(), wait)
	if err != nil {
		t.Fatalf("Receive(wait %v): %v", wait, err)
	}
	return d
}

func mustReceive(t *testing.T, q queue.Queue) *queue.Delivery {
	t.Helper()
	d := receive(t, q, patience)
	if d == nil {
		t.Fatalf("Receive returned nothing within %v after a publish", patience)
	}
	return d
}
