package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue/redisqueue"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// Two relays share PostgreSQL and Redis with no load balancer: each
// delivery goes to one relay and its redelivery to the other. Together
// they must make exactly the jobs one relay would: one per delivery.
func TestTwoRelaysMakeEachJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2,000 webhooks")
	}
	const n = 1000
	redisURL := os.Getenv("PATCHPANDA_TEST_REDIS_URL")
	if redisURL == "" {
		storetest.Unavailable(t, "PATCHPANDA_TEST_REDIS_URL is not set; see docs/testing.md")
	}
	pu, _ := url.Parse(redisURL)
	pu.Path = "/12"
	redisURL = pu.String()
	ctx := context.Background()
	opt, _ := redis.ParseURL(redisURL)
	rc := redis.NewClient(opt)
	if err := rc.Ping(ctx).Err(); err != nil {
		storetest.Unavailable(t, "Redis does not answer: "+err.Error())
	}
	rc.Del(ctx, "patchpanda:jobs")
	rc.Close()
	dbURL := storetest.PostgresURL(t)

	gh := githubtest.New(t)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	os.WriteFile(keyFile, gh.PrivateKeyPEM, 0o600)
	gh.AddInstallation(githubtest.Installation{ID: instID, Account: "acme", Repositories: []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 7001}}})
	gh.AddPullRequest(repo, githubtest.PullRequest{Number: 7, Author: "alice", HeadSHA: headSHA, BaseSHA: baseSHA})
	gh.SetPermission(repo, "alice", "write")
	set := func(c *relay.Config) {
		c.WebhookSecrets = []string{secret}
		c.GitHubAppID, c.GitHubPrivateKey, c.GitHubAPIURL = gh.AppID, keyFile, gh.URL()
		c.QueueBackend, c.RedisURL = "redis", redisURL
		c.JobHeartbeat, c.StuckJobPolicy = 10*time.Minute, "requeue"
	}
	a, _ := start(t, dbURL, set)
	b, _ := start(t, dbURL, set)

	payload := func(i int) []byte {
		body, _ := json.Marshal(map[string]any{
			"action": "created", "installation": map[string]any{"id": instID},
			"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
			"issue":      map[string]any{"number": 7, "pull_request": map[string]any{}},
			"comment":    map[string]any{"id": 100000 + i, "body": "/patchpanda generate", "user": map[string]any{"login": "alice", "type": "User"}},
			"sender":     map[string]any{"login": "alice", "type": "User"},
		})
		return body
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				first, second := a, b
				if i%2 == 1 {
					first, second = b, a
				}
				id := fmt.Sprintf("two-relays-%d", i)
				for k, r := range []*relay.Relay{first, second} {
					wh := gh.Webhook(r.URL()+"/webhooks/github", secret, "issue_comment", json.RawMessage(payload(i)))
					wh.DeliveryID = id
					resp, err := wh.Send(ctx, client)
					if err != nil {
						errs <- err
						continue
					}
					resp.Body.Close()
					if want := []int{202, 200}[k]; resp.StatusCode != want {
						errs <- fmt.Errorf("delivery %s to relay %d answered %d, want %d", id, k, resp.StatusCode, want)
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	waitForWithin(t, 5*time.Minute, func() bool {
		c, err := a.DB.DeliveryCounts(ctx)
		if err != nil || c["pending"] > 0 {
			return false
		}
		p, err := a.DB.PendingOutbox(ctx)
		return err == nil && p["publish"] == 0
	})
	c, _ := a.DB.DeliveryCounts(ctx)
	if c["done"] != n {
		t.Errorf("deliveries = %v, want %d done", c, n)
	}
	if got, _ := a.DB.CountJobs(ctx); got != n {
		t.Errorf("%d jobs, want %d", got, n)
	}
	// Every job reached the stream once; none twice.
	q, err := redisqueue.Open(ctx, redisqueue.Options{URL: redisURL, Consumer: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	seen := map[string]int{}
	for {
		d, err := q.Receive(ctx, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			break
		}
		seen[d.Message.ID]++
		q.Ack(ctx, d.Receipt)
	}
	if len(seen) != n {
		t.Errorf("%d distinct jobs on the stream, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("job %s published %d times", id, k)
		}
	}
}
