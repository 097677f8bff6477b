// Package redisqueue is the queue.Queue on a Redis stream (Redis 6.2 or
// later; tested on 7). Jobs are stream entries whose field "message" holds
// the encoded message; workers read them through one consumer group, and an
// entry's lease is its time in the group's pending entries list (PEL).
//
//   - Publish: XADD stream * message JSON id ID attempt N.
//   - Receive: first XAUTOCLAIM an entry idle longer than the visibility
//     timeout (a lease that ran out), else XREADGROUP ... BLOCK for a new one.
//   - Ack: XACK, then XDEL, so that the stream holds only unfinished jobs.
//   - Extend and Nack: XCLAIM ... IDLE ... JUSTID, which sets the entry's
//     idle clock without counting a delivery, after checking in the same
//     script that the lease is still the caller's.
//
// The stream is kept short by deleting acked entries rather than by XADD
// MAXLEN ~: trimming by length ignores the consumer group, so under a
// backlog it would drop jobs nobody has read yet, or jobs being worked on.
package redisqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
)

// The names the SPEC fixes.
const (
	DefaultStream = "patchpanda:jobs"
	DefaultGroup  = "workers"
)

// DefaultVisibilityTimeout is the lease length when Options leaves it zero.
const DefaultVisibilityTimeout = 5 * time.Minute

// maxBlock bounds one XREADGROUP BLOCK, because go-redis cannot interrupt a
// blocked read when its context is cancelled, and because a blocked read
// does not notice leases running out. Receive loops until its wait is over.
const maxBlock = time.Second

// Options configures a Queue.
type Options struct {
	// URL is the server, as redis://[user:password@]host:port/db or
	// rediss:// for TLS (PATCHPANDA_REDIS_URL).
	URL string

	// Stream and Group name the stream and the consumer group; empty means
	// DefaultStream and DefaultGroup. Tests use a stream of their own.
	Stream string
	Group  string

	// Consumer names this process in the group; empty means host-pid-random.
	// Each Queue should have its own.
	Consumer string

	// VisibilityTimeout is how long a received message stays leased unless
	// acked or extended; zero means DefaultVisibilityTimeout. Every Queue on
	// one stream should use the same, since a consumer reclaims entries
	// idle longer than its own.
	VisibilityTimeout time.Duration
}

// Queue is a queue.Queue on a Redis stream. Its methods are safe for
// concurrent use.
type Queue struct {
	client     *redis.Client
	stream     string
	group      string
	consumer   string
	visibility time.Duration
	closed     atomic.Bool
}

var _ queue.Queue = (*Queue)(nil)

// Open connects to opts.URL and creates the consumer group (and the stream)
// when missing. It returns an error naming the problem when the URL does not
// parse or the server cannot be reached.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		// ParseURL's errors may quote the URL, password and all.
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "redisqueue: the Redis URL is not of the form redis://[user:password@]host:port/db")
	}
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	if opts.Group == "" {
		opts.Group = DefaultGroup
	}
	if opts.Consumer == "" {
		opts.Consumer = defaultConsumer()
	}
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	q := &Queue{
		client:     redis.NewClient(ro),
		stream:     opts.Stream,
		group:      opts.Group,
		consumer:   opts.Consumer,
		visibility: opts.VisibilityTimeout.Round(time.Millisecond),
	}
	if err := q.createGroup(ctx); err != nil {
		q.client.Close()
		return nil, err
	}
	return q, nil
}

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// createGroup starts the group at the beginning of the stream ("0", not
// "$"), so that jobs published before any worker started are not skipped.
func (q *Queue) createGroup(ctx context.Context) error {
	err := q.client.XGroupCreateMkStream(ctx, q.stream, q.group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("redisqueue: create group %s on %s: %w", q.group, q.stream, err)
	}
	return nil
}

func (q *Queue) check(ctx context.Context, op string) error {
	if q.closed.Load() {
		return fmt.Errorf("redisqueue: %s: %w", op, queue.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisqueue: %s: %w", op, err)
	}
	return nil
}

// Publish encodes m and appends it to the stream. It returns Encode's
// errors, queue.ErrClosed after Close, and the Redis error otherwise.
func (q *Queue) Publish(ctx context.Context, m patchpanda.Message) error {
	b, err := queue.Encode(m)
	if err != nil {
		return err
	}
	if err := q.check(ctx, "publish"); err != nil {
		return err
	}
	// id and attempt are copies, for people reading the stream with
	// XRANGE; consumers read only message.
	err = publishScript.Run(ctx, q.client, []string{q.stream}, q.group, b, m.ID, m.Attempt).Err()
	if err != nil {
		return fmt.Errorf("redisqueue: publish %s attempt %d: %w", m.ID, m.Attempt, err)
	}
	return nil
}

// publishScript appends a message to the stream, first creating the
// consumer group when it is missing: a Redis restarted without persistence
// comes back empty, and XADD alone would make a stream whose workers get
// NOGROUP until one of ours happens to recreate the group. The group
// starts at "0", so the entries published since are read.
var publishScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
else
  local ok = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0')
end
return redis.call('XADD', KEYS[1], '*', 'message', ARGV[2], 'id', ARGV[3], 'attempt', ARGV[4])
`)

// reclaimScript claims, for ARGV[2], the first pending entry idle at least
// ARGV[3] ms: a lease that ran out. It returns {id, fields, deliveries} or
// nil. XAUTOCLAIM scans a bounded slice of the PEL per call, hence the loop;
// the PEL holds only the jobs in flight, so it is short.
var reclaimScript = redis.NewScript(`
local cursor = '0-0'
repeat
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', 1)
  cursor = r[1]
  local entry = r[2][1]
  if entry then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    return {entry[1], entry[2], p[1][4]}
  end
until cursor == '0-0'
return false
`)

// leaseScript sets the idle time of entry ARGV[3] to ARGV[5] ms, if it is
// still leased to consumer ARGV[2] at delivery ARGV[4]. It returns 1 when it
// did, 0 when the lease has ended.
var leaseScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] or p[1][4] ~= tonumber(ARGV[4]) then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[5], 'JUSTID')
return 1
`)

// dropConsumerScript deletes consumer ARGV[2] if it holds no pending
// entries; deleting one that does would lose them.
var dropConsumerScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
`)

// Receive leases the oldest expired lease or else the next new entry,
// waiting up to wait for one. It returns (nil, nil) when none arrived in
// time, an error wrapping ctx.Err() when ctx ends first (within about a
// second), a *queue.MalformedError for an entry Decode rejects,
// queue.ErrClosed after Close, and the Redis error otherwise.
func (q *Queue) Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error) {
	deadline := time.Now().Add(wait)
	recreated := false
	for {
		if err := q.check(ctx, "receive"); err != nil {
			return nil, err
		}
		d, err := q.reclaim(ctx)
		if d != nil || err != nil {
			return d, err
		}

		block := min(time.Until(deadline), maxBlock)
		if block < time.Millisecond {
			block = -1 // no BLOCK at all: BLOCK 0 would wait forever
		}
		res, err := q.client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group:    q.group,
			Consumer: q.consumer,
			Streams:  []string{q.stream, ">"},
			Count:    1,
			Block:    block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			if block < 0 {
				return nil, nil
			}
			continue
		case err != nil && strings.HasPrefix(err.Error(), "NOGROUP") && !recreated:
			// Someone deleted the stream; recreate it once and go on.
			recreated = true
			if err := q.createGroup(ctx); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("redisqueue: receive: %w", cerr)
			}
			return nil, fmt.Errorf("redisqueue: receive from %s: %w", q.stream, err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			if block < 0 {
				return nil, nil
			}
			continue
		}
		m := res[0].Messages[0]
		body, _ := m.Values["message"].(string)
		return q.delivery(m.ID, body, 1)
	}
}

func (q *Queue) reclaim(ctx context.Context) (*queue.Delivery, error) {
	res, err := reclaimScript.Run(ctx, q.client, []string{q.stream}, q.group, q.consumer, q.visibility.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("redisqueue: receive: %w", cerr)
		}
		if strings.Contains(err.Error(), "NOGROUP") {
			return nil, nil // XREADGROUP next recreates the group
		}
		return nil, fmt.Errorf("redisqueue: reclaim expired leases on %s: %w", q.stream, err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("redisqueue: reclaim: unexpected reply %v", res)
	}
	id, _ := res[0].(string)
	fields, _ := res[1].([]any)
	deliveries, _ := res[2].(int64)
	var body string
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == "message" {
			body, _ = fields[i+1].(string)
		}
	}
	return q.delivery(id, body, int(deliveries))
}

func (q *Queue) delivery(id, body string, deliveries int) (*queue.Delivery, error) {
	receipt := id + "/" + strconv.Itoa(deliveries) + "/" + q.consumer
	d := &queue.Delivery{Receipt: receipt, Deliveries: deliveries, LeaseExpiresAt: time.Now().Add(q.visibility)}
	if body == "" {
		return nil, &queue.MalformedError{Receipt: receipt, ID: id, Err: patchpanda.Errorf(patchpanda.EINVALID, "redisqueue: entry has no message field")}
	}
	m, err := queue.Decode([]byte(body))
	if err != nil {
		return nil, &queue.MalformedError{Receipt: receipt, ID: id, Err: err}
	}
	d.Message = m
	return d, nil
}

type lease struct {
	id         string
	deliveries string
	consumer   string
}

func parseReceipt(receipt string) (lease, error) {
	parts := strings.SplitN(receipt, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return lease{}, patchpanda.Errorf(patchpanda.EINVALID, "redisqueue: receipt %q is not one this queue gave out", receipt)
	}
	if _, err := strconv.Atoi(parts[1]); err != nil {
		return lease{}, patchpanda.Errorf(patchpanda.EINVALID, "redisqueue: receipt %q is not one this queue gave out", receipt)
	}
	return lease{id: parts[0], deliveries: parts[1], consumer: parts[2]}, nil
}

// Ack acknowledges and deletes the entry. It returns an EINVALID error for a
// receipt this backend did not make, queue.ErrClosed after Close, and the
// Redis error otherwise. Acking an entry that is gone, or whose lease passed
// to another consumer, returns nil: the work is done, and the other
// consumer's copy is a duplicate that its Ack will find gone.
func (q *Queue) Ack(ctx context.Context, receipt string) error {
	l, err := parseReceipt(receipt)
	if err != nil {
		return err
	}
	if err := q.check(ctx, "ack"); err != nil {
		return err
	}
	_, err = q.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, q.stream, q.group, l.id)
		p.XDel(ctx, q.stream, l.id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisqueue: ack %s: %w", l.id, err)
	}
	return nil
}

func (q *Queue) setIdle(ctx context.Context, op, receipt string, idle time.Duration) error {
	l, err := parseReceipt(receipt)
	if err != nil {
		return err
	}
	if err := q.check(ctx, op); err != nil {
		return err
	}
	n, err := leaseScript.Run(ctx, q.client, []string{q.stream}, q.group, l.consumer, l.id, l.deliveries, idle.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redisqueue: %s %s: %w", op, l.id, err)
	}
	if n == 0 {
		return fmt.Errorf("redisqueue: %s %s: %w", op, l.id, queue.ErrLeaseLost)
	}
	return nil
}

// Nack makes the entry reclaimable at once, by setting its idle time to the
// visibility timeout. It returns an error wrapping queue.ErrLeaseLost when
// the lease has ended, an EINVALID error for a receipt this backend did not
// make, queue.ErrClosed after Close, and the Redis error otherwise.
func (q *Queue) Nack(ctx context.Context, receipt string) error {
	return q.setIdle(ctx, "nack", receipt, q.visibility)
}

// Extend hides the entry for d from now, capped at the visibility timeout:
// a pending entry's idle clock can be set back to zero but not into the
// future. It returns an EINVALID error for a d that is not positive or a
// receipt this backend did not make, an error wrapping queue.ErrLeaseLost
// when the lease has ended, queue.ErrClosed after Close, and the Redis error
// otherwise.
func (q *Queue) Extend(ctx context.Context, receipt string, d time.Duration) error {
	if d <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "redisqueue: extend by %v: want a positive duration", d)
	}
	return q.setIdle(ctx, "extend", receipt, max(q.visibility-d, 0))
}

// Ping returns an error wrapping the cause when Redis does not answer, and
// queue.ErrClosed after Close.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.check(ctx, "ping"); err != nil {
		return err
	}
	if err := q.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisqueue: ping: %w", err)
	}
	return nil
}

// Close removes this consumer from the group when it holds no leases, then
// closes the connections. It returns the error from closing the client, and
// nil when called again.
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	// Best effort: a consumer left behind only clutters XINFO CONSUMERS.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = dropConsumerScript.Run(ctx, q.client, []string{q.stream}, q.group, q.consumer).Err()
	if err := q.client.Close(); err != nil {
		return fmt.Errorf("redisqueue: close: %w", err)
	}
	return nil
}
