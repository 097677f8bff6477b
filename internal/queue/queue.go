// Package queue is the contract between the relay, which enqueues jobs, and
// the workers that run them, whatever carries the jobs in between: the
// relay's database (dbqueue), a Redis stream (redisqueue) or an SQS queue
// (sqsqueue). It also owns the wire format of a job, the version 1 message
// (Encode, Decode).
//
// Delivery is at least once. A consumer receives a message under a lease:
// until it acks the message, the message is hidden from other consumers for
// the visibility timeout, after which it is delivered again. A consumer that
// needs longer extends the lease (a heartbeat). Because a message can arrive
// twice, consumers treat the message's id and attempt together as an
// idempotency key.
//
// Every backend passes the conformance suite in package queuetest.
package queue

import (
	"context"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Publisher puts jobs on a queue. The relay's outbox dispatcher is its only
// caller.
type Publisher interface {
	// Publish validates m with Encode and enqueues it. It returns an
	// EINVALID *patchpanda.Error, and enqueues nothing, when m is not a
	// valid message or carries something that looks like a secret; any
	// other error means the message may or may not have been enqueued, and
	// publishing it again is safe because consumers deduplicate on id and
	// attempt.
	Publish(ctx context.Context, m patchpanda.Message) error
}

// Consumer takes jobs off a queue under a lease.
type Consumer interface {
	// Receive waits up to wait for a message and leases it to the caller.
	// It returns (nil, nil) when nothing arrived in time; a wait of zero or
	// less checks once without blocking. Backends round the wait to their
	// own granularity (SQS: whole seconds), so it is approximate. When ctx
	// is done Receive returns promptly with an error wrapping ctx.Err().
	// For a message that cannot be decoded it returns a *MalformedError,
	// leaving the message leased so that the caller can Ack it away or let
	// it come back.
	Receive(ctx context.Context, wait time.Duration) (*Delivery, error)

	// Ack removes the message leased under receipt for good. Acking twice
	// returns nil or ErrLeaseLost. After the lease was lost (it expired and
	// the message went to another consumer) Ack returns ErrLeaseLost or
	// nil, depending on whether the backend can tell; either way the caller
	// has nothing left to do.
	Ack(ctx context.Context, receipt string) error

	// Nack gives the message leased under receipt back to the queue, to be
	// delivered again soon, rather than after the visibility timeout. It
	// returns ErrLeaseLost when the lease has already ended.
	Nack(ctx context.Context, receipt string) error

	// Extend keeps the message leased under receipt hidden for d from now.
	// Backends may cap d (Redis at its visibility timeout, SQS at 12
	// hours), so heartbeat more often than the visibility timeout. It
	// returns ErrLeaseLost when the lease has ended (acked, or expired and
	// taken by another consumer) and an EINVALID error when d is not
	// positive.
	Extend(ctx context.Context, receipt string, d time.Duration) error
}

// Queue is a whole backend: both sides of the contract, a readiness probe
// and Close. All methods are safe for concurrent use.
type Queue interface {
	Publisher
	Consumer

	// Ping returns an error wrapping the cause when the backend cannot be
	// reached. GET /readyz calls it.
	Ping(ctx context.Context) error

	// Close releases the backend's connections. Methods called after Close
	// return an error wrapping ErrClosed; calling Close again returns nil.
	Close() error
}

// Delivery is one message handed to a consumer under a lease.
type Delivery struct {
	// Message is the decoded job.
	Message patchpanda.Message

	// Receipt names this lease for Ack, Nack and Extend. It is opaque, a
	// plain string so that it can be kept across requests (the db backend
	// hands it to workers over HTTP), and it is different each time the
	// same message is delivered.
	Receipt string

	// Deliveries counts how many times the message has been handed out,
	// this time included, or is 0 when the backend cannot tell.
	Deliveries int

	// LeaseExpiresAt is about when the message becomes visible again
	// unless it is acked or its lease is extended.
	LeaseExpiresAt time.Time
}

// ErrLeaseLost is returned (wrapped) by Ack, Nack and Extend when the lease
// named by a receipt has ended: the message was acked, or its lease expired
// and it may now be with another consumer.
var ErrLeaseLost = &patchpanda.Error{Code: patchpanda.ECONFLICT, Message: "the job's lease has ended: it was acked, or it expired and may be with another consumer"}

// ErrClosed is returned (wrapped) by every method of a Queue after Close.
var ErrClosed = &patchpanda.Error{Code: patchpanda.EUNAVAILABLE, Message: "the queue is closed"}

// MalformedError is returned by Receive for a message that Decode rejects.
// The message stays leased under Receipt: Ack it to drop it, or leave it to
// be delivered again (and dead-lettered, where the backend does that).
type MalformedError struct {
	Receipt string // the lease on the bad message
	ID      string // the backend's own id for the message, for logs
	Err     error  // why Decode rejected it
}

// Error describes the bad message without quoting its body, which could hold
// anything.
func (e *MalformedError) Error() string {
	return "queue: malformed message " + e.ID + ": " + e.Err.Error()
}

// Unwrap returns the decoding error.
func (e *MalformedError) Unwrap() error { return e.Err }
