package relay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/redis/go-redis/v9"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/redisqueue"
	"github.com/patchpanda/patchpanda/internal/queue/sqsqueue"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const (
	secret  = "webhook-secret"
	repo    = "acme/widgets"
	instID  = int64(100)
	headSHA = "1111111111111111111111111111111111111111"
	baseSHA = "2222222222222222222222222222222222222222"
)

// world is a relay wired to a fake GitHub with one installed repository
// and one open pull request (#7) by alice, who has write access.
type world struct {
	t      *testing.T
	gh     *githubtest.Server
	relay  *relay.Relay
	worker *httpapi.Client
	admin  *httpapi.Client
	// receive returns the next queue message for the worker, leased or
	// claimed by it: its lease id is in leases.
	receive func() patchpanda.Message
	leases  map[string]string
	logs    *syncBuffer
}

// claim claims job id for the worker key and returns the lease id.
func (w *world) claim(id string) string {
	w.t.Helper()
	l, err := w.worker.ClaimJob(context.Background(), id)
	if err != nil {
		w.t.Fatalf("claim %s: %v", id, err)
	}
	if l.LeaseID == "" || !l.LeaseExpiresAt.After(time.Now()) {
		w.t.Fatalf("claim %s = %+v, want a lease id and a future expiry", id, l)
	}
	w.leases[id] = l.LeaseID
	return l.LeaseID
}

// report sends a worker event under the worker's lease of job id.
func (w *world) report(id string, ev patchpanda.WorkerEvent) (*patchpanda.Job, error) {
	return w.worker.ReportJob(context.Background(), id, w.leases[id], ev)
}

func newWorld(t *testing.T, backend, dbURL string, opts ...func(*relay.Config)) *world {
	t.Helper()
	gh := githubtest.New(t)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, gh.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	gh.AddInstallation(githubtest.Installation{ID: instID, Account: "acme", Repositories: []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 7001}}})
	gh.AddPullRequest(repo, githubtest.PullRequest{Number: 7, Author: "alice", HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "feature"})
	gh.SetPermission(repo, "alice", "write")
	gh.SetPermission(repo, "mallory", "read")

	w := &world{t: t, gh: gh, leases: map[string]string{}}
	set := func(c *relay.Config) {
		c.WebhookSecrets = []string{secret}
		c.GitHubAppID = gh.AppID
		c.GitHubPrivateKey = keyFile
		c.GitHubAPIURL = gh.URL()
		c.QueueBackend = backend
		c.JobHeartbeat = 10 * time.Minute
		c.StuckJobPolicy = "requeue"
		c.RedeliveryEvery = time.Hour // tests run the reconciler themselves
	}
	ctx := context.Background()
	switch backend {
	case "redis":
		u := os.Getenv("PATCHPANDA_TEST_REDIS_URL")
		if u == "" {
			storetest.Unavailable(t, "PATCHPANDA_TEST_REDIS_URL is not set; see docs/testing.md")
		}
		pu, _ := url.Parse(u)
		pu.Path = "/13" // a database of the relay tests' own
		u = pu.String()
		opt, _ := redis.ParseURL(u)
		rc := redis.NewClient(opt)
		if err := rc.Ping(ctx).Err(); err != nil {
			storetest.Unavailable(t, "Redis at PATCHPANDA_TEST_REDIS_URL does not answer: "+err.Error())
		}
		rc.Del(ctx, "patchpanda:jobs")
		rc.Close()
		q, err := redisqueue.Open(ctx, redisqueue.Options{URL: u, Consumer: "test-worker"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		opts = append(opts, func(c *relay.Config) { c.RedisURL = u })
		w.receive = func() patchpanda.Message { m := receiveFrom(t, q); w.claim(m.ID); return m }
	case "sqs":
		endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
		if endpoint == "" {
			storetest.Unavailable(t, "AWS_ENDPOINT_URL_SQS is not set; see docs/testing.md")
		}
		client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		var b [4]byte
		rand.Read(b[:])
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("relay-e2e-" + hex.EncodeToString(b[:]))})
		if err != nil {
			storetest.Unavailable(t, "the SQS emulator at AWS_ENDPOINT_URL_SQS does not answer: "+err.Error())
		}
		q := sqsqueue.New(client, sqsqueue.Options{QueueURL: *out.QueueUrl})
		t.Cleanup(func() { client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
		opts = append(opts, func(c *relay.Config) { c.SQSQueueURL = *out.QueueUrl })
		w.receive = func() patchpanda.Message { m := receiveFrom(t, q); w.claim(m.ID); return m }
	default:
		w.receive = func() patchpanda.Message {
			l, err := w.worker.LeaseJob(ctx, 10*time.Second)
			if err != nil || l == nil {
				t.Fatalf("lease: %v, %v", l, err)
			}
			if !l.LeaseExpiresAt.After(time.Now()) || l.LeaseID == "" {
				t.Errorf("lease %q expires %v: want a lease id and a future expiry", l.LeaseID, l.LeaseExpiresAt)
			}
			w.leases[l.Job.ID] = l.LeaseID
			return *l.Job
		}
	}
	w.relay, w.logs = start(t, dbURL, append([]func(*relay.Config){set}, opts...)...)
	_, workerKey, err := w.relay.Keys.Create(ctx, "worker", []patchpanda.Scope{patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, adminKey, err := w.relay.Keys.Create(ctx, "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	w.worker = httpapi.NewClient(w.relay.URL(), workerKey)
	w.admin = httpapi.NewClient(w.relay.URL(), adminKey)
	return w
}

type receiver interface {
	Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error)
	Ack(ctx context.Context, receipt string) error
}

func receiveFrom(t *testing.T, q receiver) patchpanda.Message {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		d, err := q.Receive(context.Background(), 2*time.Second)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if d != nil {
			if err := q.Ack(context.Background(), d.Receipt); err != nil {
				t.Fatalf("ack: %v", err)
			}
			return d.Message
		}
	}
	t.Fatal("no message on the queue within 60s")
	return patchpanda.Message{}
}

// comment sends an issue_comment webhook for PR #7 and returns its delivery id.
func (w *world) comment(login, body string) string {
	w.t.Helper()
	id := fmt.Sprintf("comment-%d", time.Now().UnixNano())
	c := w.gh.AddComment(githubtest.Comment{Repo: repo, Number: 7, Body: body, User: login})
	w.send("issue_comment", id, map[string]any{
		"action":       "created",
		"installation": map[string]any{"id": instID},
		"repository":   map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"issue":        map[string]any{"number": 7, "pull_request": map[string]any{"url": "https://api.github.com/repos/acme/widgets/pulls/7"}},
		"comment":      map[string]any{"id": c.ID, "body": body, "user": map[string]any{"login": login, "type": "User"}, "author_association": "MEMBER"},
		"sender":       map[string]any{"login": login, "type": "User"},
	}, 202)
	return id
}

func (w *world) send(event, id string, payload any, want int) {
	w.t.Helper()
	body, _ := json.Marshal(payload)
	wh := w.gh.Webhook(w.relay.URL()+"/webhooks/github", secret, event, json.RawMessage(body))
	wh.DeliveryID = id
	resp, err := wh.Send(context.Background(), http.DefaultClient)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		w.t.Fatalf("webhook %s answered %d, want %d", event, resp.StatusCode, want)
	}
}

// settle waits until every delivery is processed and the outbox is empty.
func (w *world) settle() {
	w.t.Helper()
	waitForWithin(w.t, 60*time.Second, func() bool {
		c, err := w.relay.DB.DeliveryCounts(context.Background())
		if err != nil || c["pending"] > 0 {
			return false
		}
		p, err := w.relay.DB.PendingOutbox(context.Background())
		return err == nil && p["github"] == 0 && p["publish"] == 0
	})
}

func (w *world) checkRuns() []githubtest.CheckRun { return w.gh.CheckRuns(repo) }

func TestCommentToJobEndToEnd(t *testing.T) {
	backends := []struct{ name, backend string }{{"db", "db"}, {"redis", "redis"}, {"sqs", "sqs"}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dbs := map[string]func(t *testing.T) string{"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "r.db") }}
			if b.backend == "db" {
				dbs["postgres"] = func(t *testing.T) string { return storetest.PostgresURL(t) }
			}
			for dbName, dbURL := range dbs {
				t.Run(dbName, func(t *testing.T) { commentToJob(t, newWorld(t, b.backend, dbURL(t))) })
			}
		})
	}
}

func commentToJob(t *testing.T, w *world) {
	ctx := context.Background()
	w.gh.SetFile(repo, headSHA, ".testbot.yml", []byte("version: 1\ngenerate:\n  framework: pytest\n"))
	w.comment("alice", "Thanks!\n\n/patchpanda generate src/ \"lib/a b.py\"")
	w.settle()

	// GitHub saw the token exchange, the config fetch, the permission check,
	// the reaction and the check run.
	for _, route := range []string{githubtest.RouteCreateToken, githubtest.RouteGetContents, githubtest.RouteGetPermission,
		githubtest.RouteCreateReaction, githubtest.RouteCreateCheckRun} {
		if len(w.gh.CallsTo(route)) == 0 {
			t.Errorf("the fake GitHub saw no call to %s", route)
		}
	}
	if rs := w.gh.Reactions(); len(rs) != 1 || rs[0].Content != "eyes" {
		t.Errorf("reactions = %+v, want one eyes", rs)
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Status != "queued" || runs[0].Name != "PatchPanda / tests" {
		t.Fatalf("check runs = %+v, want one queued", runs)
	}

	// One message on the queue, in the spec's format, with no secret in it.
	m := w.receive()
	raw, _ := json.Marshal(m)
	for _, s := range []string{"ghs_", "ppk_", secret, "BEGIN"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("queue message contains %q: %s", s, raw)
		}
	}
	if m.Version != 1 || m.Kind != "generate_tests" || m.Attempt != 1 || m.Trigger != patchpanda.TriggerComment ||
		m.Repository.FullName() != repo || m.InstallationID != instID || m.PullRequest.Number != 7 ||
		m.PullRequest.HeadSHA != headSHA || m.PullRequest.BaseSHA != baseSHA || m.RequestedBy != "alice" {
		t.Errorf("message = %s", raw)
	}
	var cfg struct {
		Generate struct {
			Paths     []string
			Framework string
		}
	}
	json.Unmarshal(m.Config, &cfg)
	if strings.Join(cfg.Generate.Paths, ",") != "src/,lib/a b.py" || cfg.Generate.Framework != "pytest" {
		t.Errorf("config = %s", m.Config)
	}

	// The worker mints a token for that repository only, and reports.
	tok, err := w.worker.JobToken(ctx, m.ID, w.leases[m.ID])
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if !strings.HasPrefix(tok.Token, "ghs_") || tok.Repository != repo || tok.Permissions["contents"] != "write" {
		t.Errorf("token = %v %v", tok, tok.Permissions)
	}
	issued := w.gh.IssuedTokens()
	last := issued[len(issued)-1]
	delete(last.Permissions, "metadata") // GitHub always adds metadata:read
	if len(last.Repositories) != 1 || last.Repositories[0] != repo || len(last.Permissions) != 2 {
		t.Errorf("minted token scope = %v %v, want %s with contents and pull_requests", last.Repositories, last.Permissions, repo)
	}
	for name, s := range map[string]string{"installation token": tok.Token, "webhook secret": secret, "App private key": string(w.gh.PrivateKeyPEM[40:80])} {
		if strings.Contains(w.logs.String(), s) {
			t.Errorf("the %s appears in the relay's logs", name)
		}
	}
	cost := 0.42
	// The fake GitHub's web pages are on its own host.
	prURL := w.gh.URL() + "/acme/widgets/pull/8"
	for _, ev := range []patchpanda.WorkerEvent{
		{Type: "started"}, {Type: "progress", Message: "writing tests for src/"},
		{Type: "succeeded", PullRequestURL: prURL, CostUSD: &cost},
	} {
		if _, err := w.report(m.ID, ev); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		// The check run shows the job's state when GitHub is told, so a
		// worker faster than the outbox skips a state; wait, as a real
		// worker's minutes of work would.
		w.settle()
	}
	if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "started"}); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Errorf("started after succeeded: %v, want conflict (409)", err)
	}
	w.settle()

	runs = w.checkRuns()
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	cr := runs[0]
	if cr.Status != "completed" || cr.Conclusion != "success" || !strings.Contains(cr.Output.Summary, prURL) ||
		!strings.Contains(cr.Output.Summary, "@alice") || !strings.Contains(cr.Output.Text, "pytest") {
		t.Errorf("final check run = %+v", cr)
	}
	var states []string
	for _, h := range cr.History {
		states = append(states, h.Status)
	}
	if got := strings.Join(states, ","); !strings.HasPrefix(got, "queued") || !strings.Contains(got, "in_progress") || !strings.HasSuffix(got, "completed") {
		t.Errorf("check run went %s, want queued → in_progress → completed", got)
	}
	j, err := w.admin.Job(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != patchpanda.JobSucceeded || j.CostMicros != 420000 || len(j.Events) != 3 {
		t.Errorf("job = %+v", j)
	}
	audit, _ := w.relay.DB.AuditEvents(ctx, patchpanda.AuditFilter{})
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"job.enqueued", "command.accepted", "token.minted", "job.state_changed"} {
		if !strings.Contains(strings.Join(actions, ","), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}
