package redisqueue_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/queuetest"
	"github.com/patchpanda/patchpanda/internal/queue/redisqueue"
)

// redisURL returns PATCHPANDA_TEST_REDIS_URL after checking that the server
// answers. It skips the test when the variable is unset or the server is
// unreachable, and fails it instead when CI=true.
func redisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("PATCHPANDA_TEST_REDIS_URL")
	miss := t.Skipf
	if os.Getenv("CI") == "true" {
		miss = t.Fatalf
	}
	if url == "" {
		miss("PATCHPANDA_TEST_REDIS_URL is not set; set it to a Redis you can write to, e.g. redis://127.0.0.1:6379/0 (see docs/queue.md)")
		return ""
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("PATCHPANDA_TEST_REDIS_URL does not parse: %v", err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		miss("Redis at PATCHPANDA_TEST_REDIS_URL is unreachable: %v", err)
	}
	return url
}

// testStream returns a stream name of the test's own and deletes the stream
// when the test ends.
func testStream(t *testing.T, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	stream := "patchpanda:test:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		opts, _ := redis.ParseURL(url)
		c := redis.NewClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Del(ctx, stream).Err(); err != nil {
			t.Errorf("delete test stream %s: %v", stream, err)
		}
	})
	return stream
}

func open(t *testing.T, opts redisqueue.Options) *redisqueue.Queue {
	t.Helper()
	q, err := redisqueue.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestConformance(t *testing.T) {
	url := redisURL(t)
	queuetest.Run(t, func(t *testing.T, visibility time.Duration) queue.Queue {
		return open(t, redisqueue.Options{URL: url, Stream: testStream(t, url), VisibilityTimeout: visibility})
	})
}

func TestTwoConsumersShareTheWork(t *testing.T) {
	url := redisURL(t)
	stream := testStream(t, url)
	a := open(t, redisqueue.Options{URL: url, Stream: stream, Consumer: "a"})
	b := open(t, redisqueue.Options{URL: url, Stream: stream, Consumer: "b"})
	ctx := t.Context()

	const n = 40
	for i := range n {
		if err := a.Publish(ctx, queuetest.Message("job-"+string(rune('A'+i)), 1)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for name, q := range map[string]*redisqueue.Queue{"a": a, "b": b} {
		wg.Go(func() {
			for {
				d, err := q.Receive(ctx, 300*time.Millisecond)
				if err != nil {
					t.Errorf("consumer %s: Receive: %v", name, err)
					return
				}
				if d == nil {
					return
				}
				mu.Lock()
				if other, dup := got[d.Message.ID]; dup {
					t.Errorf("%s went to consumer %s and to consumer %s", d.Message.ID, other, name)
				}
				got[d.Message.ID] = name
				mu.Unlock()
				// The other consumer's Queue can ack it too: receipts
				// name their consumer.
				if err := a.Ack(ctx, d.Receipt); err != nil {
					t.Errorf("Ack: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("received %d distinct messages, want %d", len(got), n)
	}
}

func TestAckDeletesTheEntry(t *testing.T) {
	url := redisURL(t)
	stream := testStream(t, url)
	q := open(t, redisqueue.Options{URL: url, Stream: stream})
	ctx := t.Context()
	if err := q.Publish(ctx, queuetest.Message("job-1", 1)); err != nil {
		t.Fatal(err)
	}
	d, err := q.Receive(ctx, time.Second)
	if err != nil || d == nil {
		t.Fatalf("Receive = %v, %v", d, err)
	}
	if err := q.Ack(ctx, d.Receipt); err != nil {
		t.Fatal(err)
	}
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	if n, err := c.XLen(ctx, stream).Result(); err != nil || n != 0 {
		t.Errorf("XLEN after ack = %d, %v; want 0", n, err)
	}
}

func TestMalformedEntry(t *testing.T) {
	url := redisURL(t)
	stream := testStream(t, url)
	q := open(t, redisqueue.Options{URL: url, Stream: stream})
	ctx := t.Context()
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	for _, values := range [][]any{{"message", `{"version":7}`}, {"something", "else"}} {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := q.Receive(ctx, time.Second)
		var bad *queue.MalformedError
		if !errors.As(err, &bad) {
			t.Fatalf("Receive of %v = %v, want a *queue.MalformedError", values, err)
		}
		if err := q.Ack(ctx, bad.Receipt); err != nil {
			t.Fatalf("Ack of the bad entry: %v", err)
		}
	}
	if d, err := q.Receive(ctx, 0); d != nil || err != nil {
		t.Errorf("Receive after dropping the bad entries = %v, %v; want nothing", d, err)
	}
}

func TestReceiveRecreatesADeletedStream(t *testing.T) {
	url := redisURL(t)
	stream := testStream(t, url)
	q := open(t, redisqueue.Options{URL: url, Stream: stream})
	ctx := t.Context()
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if d, err := q.Receive(ctx, 0); d != nil || err != nil {
		t.Fatalf("Receive after the stream was deleted = %v, %v; want nothing", d, err)
	}
	if err := q.Publish(ctx, queuetest.Message("job-1", 1)); err != nil {
		t.Fatal(err)
	}
	if d, err := q.Receive(ctx, time.Second); d == nil || err != nil {
		t.Fatalf("Receive after the group was recreated = %v, %v; want the message", d, err)
	}
}

func TestOpenRejectsABadURLWithoutQuotingIt(t *testing.T) {
	_, err := redisqueue.Open(t.Context(), redisqueue.Options{URL: "http://user:s3cret@host:6379"})
	if patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Fatalf("Open(http URL) = %v, want an EINVALID error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error quotes the password: %v", err)
	}
}

func TestForeignReceipts(t *testing.T) {
	url := redisURL(t)
	q := open(t, redisqueue.Options{URL: url, Stream: testStream(t, url)})
	for _, receipt := range []string{"", "1-0", "1-0/x/c", "1-0/1/"} {
		if err := q.Extend(t.Context(), receipt, time.Second); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("Extend(%q) = %v, want an EINVALID error", receipt, err)
		}
	}
	if err := q.Extend(t.Context(), "1-0/1/nobody", time.Second); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Extend of an entry that does not exist = %v, want ErrLeaseLost", err)
	}
}

// Redis restarted without persistence comes back empty: the next publish
// recreates the stream with its consumer group, so a worker reading the
// group (not only ours, which recreates it itself) gets the job.
func TestPublishRecreatesAGroupARestartLost(t *testing.T) {
	url := redisURL(t)
	stream := testStream(t, url)
	q := open(t, redisqueue.Options{URL: url, Stream: stream})
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := t.Context()
	if err := c.Del(ctx, stream).Err(); err != nil { // what a restart without AOF leaves
		t.Fatal(err)
	}
	if err := q.Publish(ctx, queuetest.Message("after-restart", 1)); err != nil {
		t.Fatal(err)
	}
	groups, err := c.XInfoGroups(ctx, stream).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != "workers" {
		t.Fatalf("groups after publishing into an empty Redis = %+v, %v; want the workers group", groups, err)
	}
	res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "plain-worker", Streams: []string{stream, ">"}, Count: 10, Block: -1}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != 1 {
		t.Fatalf("a plain XREADGROUP got %+v, %v; want the one job", res, err)
	}
}
