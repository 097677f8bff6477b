package relay_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// volatileRedis runs a redis-server of the test's own without persistence
// (no RDB, no AOF) on a free port; restart kills it with SIGKILL and starts
// it again on the same port, empty, as a crashed Redis without AOF comes
// back.
type volatileRedis struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

func startVolatileRedis(t *testing.T) *volatileRedis {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		storetest.Unavailable(t, "redis-server is not installed (apt-get install redis-server); it runs a Redis of the test's own to kill")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &volatileRedis{t: t, bin: bin, port: port}
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *volatileRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *volatileRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.t.TempDir(), "--daemonize", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	opt, _ := redis.ParseURL(r.url())
	c := redis.NewClient(opt)
	defer c.Close()
	waitForWithin(r.t, 30*time.Second, func() bool { return c.Ping(context.Background()).Err() == nil })
}

func (r *volatileRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func TestARedisRestartWithoutPersistenceLosesNoJob(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { redisRestart(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db")) })
	t.Run("postgres", func(t *testing.T) { redisRestart(t, storetest.PostgresURL(t)) })
}

func redisRestart(t *testing.T, dbURL string) {
	rs := startVolatileRedis(t)
	w := newWorld(t, "db", dbURL, func(c *relay.Config) {
		c.QueueBackend, c.RedisURL = "redis", rs.url()
	})
	ctx := context.Background()
	const n = 3
	for range n {
		w.comment("alice", "/patchpanda generate")
	}
	waitForWithin(t, time.Minute, func() bool {
		c, _ := w.relay.DB.CountJobs(ctx)
		p, err := w.relay.DB.PendingOutbox(ctx)
		return c == n && err == nil && p["publish"] == 0
	})
	opt, _ := redis.ParseURL(rs.url())
	rc := redis.NewClient(opt)
	defer rc.Close()
	if l, _ := rc.XLen(ctx, "patchpanda:jobs").Result(); l != n {
		t.Fatalf("stream length before the crash = %d, want %d", l, n)
	}

	rs.kill() // SIGKILL: no AOF, no RDB, the stream is gone
	rs.start()
	if l, _ := rc.XLen(ctx, "patchpanda:jobs").Result(); l != 0 {
		t.Fatalf("stream length after a restart without persistence = %d, want 0", l)
	}
	// The database still shows the jobs queued: the sweeper, once they
	// are older than PATCHPANDA_REPUBLISH_QUEUED_AFTER, publishes them
	// again (here: as if that time had passed).
	if got, err := w.relay.Sweeper.RunOnce(ctx, time.Now().Add(time.Hour)); err != nil || got != n {
		t.Fatalf("sweep = %d, %v; want %d jobs republished", got, err, n)
	}
	waitForWithin(t, 2*time.Minute, func() bool {
		p, err := w.relay.DB.PendingOutbox(ctx)
		return err == nil && p["publish"] == 0
	})
	entries, err := rc.XRange(ctx, "patchpanda:jobs", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[fmt.Sprint(e.Values["id"])+"#"+fmt.Sprint(e.Values["attempt"])]++
	}
	for _, j := range w.jobs() {
		if k := j.ID + "#" + fmt.Sprint(j.Attempt); seen[k] != 1 {
			t.Errorf("job %s attempt %d is on the stream %d times after the restart, want once", j.ID, j.Attempt, seen[k])
		}
	}
	if len(entries) != n {
		t.Errorf("%d entries on the stream, want %d", len(entries), n)
	}
	if groups, err := rc.XInfoGroups(ctx, "patchpanda:jobs").Result(); err != nil || len(groups) != 1 {
		t.Errorf("consumer groups after the restart = %+v, %v; want workers", groups, err)
	}
	// A second sweep right away finds nothing: the republished jobs are
	// fresh again.
	if got, _ := w.relay.Sweeper.RunOnce(ctx, time.Now()); got != 0 {
		t.Errorf("an immediate second sweep republished %d jobs", got)
	}
}
