package relay_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/queue/redisqueue"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// proxy forwards TCP to target until it is taken down, when it drops
// every connection and refuses new ones: a Redis that died.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	return p
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func TestADeadRedisLosesNoJob(t *testing.T) {
	u := os.Getenv("PATCHPANDA_TEST_REDIS_URL")
	if u == "" {
		storetest.Unavailable(t, "PATCHPANDA_TEST_REDIS_URL is not set; see docs/testing.md")
	}
	pu, _ := url.Parse(u)
	pu.Path = "/11"
	opt, _ := redis.ParseURL(pu.String())
	rc := redis.NewClient(opt)
	if err := rc.Ping(context.Background()).Err(); err != nil {
		storetest.Unavailable(t, "Redis does not answer: "+err.Error())
	}
	rc.Del(context.Background(), "patchpanda:jobs")
	rc.Close()
	px := newProxy(t, pu.Host)
	viaProxy := *pu
	viaProxy.Host = px.ln.Addr().String()

	w := newWorld(t, "db", "sqlite:"+filepath.Join(t.TempDir(), "r.db"), func(c *relay.Config) {
		c.QueueBackend, c.RedisURL = "redis", viaProxy.String()
	})
	px.setDown(true) // Redis dies

	w.comment("alice", "/patchpanda generate") // still acknowledged: the database has it
	waitForWithin(t, time.Minute, func() bool {
		n, _ := w.relay.DB.CountJobs(context.Background())
		return n == 1
	})
	ctx := context.Background()
	p, _ := w.relay.DB.PendingOutbox(ctx)
	if p["publish"] != 1 {
		t.Fatalf("pending publishes with Redis down = %d, want 1", p["publish"])
	}

	px.setDown(false) // Redis is back; the outbox retries with backoff
	waitForWithin(t, 2*time.Minute, func() bool {
		p, err := w.relay.DB.PendingOutbox(ctx)
		return err == nil && p["publish"] == 0
	})
	q, err := redisqueue.Open(ctx, redisqueue.Options{URL: pu.String(), Consumer: "dead-redis-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	d, err := q.Receive(ctx, 5*time.Second)
	if err != nil || d == nil {
		t.Fatalf("no job on the stream after Redis came back: %v", err)
	}
	if d.Message.RequestedBy != "alice" {
		t.Errorf("message = %+v", d.Message)
	}
	if again, _ := q.Receive(ctx, time.Second); again != nil {
		t.Errorf("the job was published twice: %+v", again.Message)
	}
}
