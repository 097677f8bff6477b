package relay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// eachDatabase runs fn on a world with the db queue over SQLite and over
// PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, w *world), opts ...func(*relay.Config)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newWorld(t, "db", "sqlite:"+filepath.Join(t.TempDir(), "r.db"), opts...)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newWorld(t, "db", storetest.PostgresURL(t), opts...)) })
}

// otherWorker returns a client with a second worker key.
func (w *world) otherWorker() *httpapi.Client {
	w.t.Helper()
	_, key, err := w.relay.Keys.Create(context.Background(), "worker-2", []patchpanda.Scope{patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		w.t.Fatal(err)
	}
	return httpapi.NewClient(w.relay.URL(), key)
}

func TestLeasesAreReceiptsOverHTTP(t *testing.T) {
	eachDatabase(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		w.comment("alice", "/patchpanda generate")
		w.settle()
		m := w.receive()
		lease := w.leases[m.ID]
		other := w.otherWorker()

		if _, err := other.ClaimJob(ctx, m.ID); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Errorf("another key claiming a leased job: %v, want 409", err)
		}
		cost := 999999.0
		steal := patchpanda.WorkerEvent{Type: "started"}
		for name, try := range map[string]func() error{
			"token with the lease id": func() error { _, err := other.JobToken(ctx, m.ID, lease); return err },
			"event with the lease id": func() error { _, err := other.ReportJob(ctx, m.ID, lease, steal); return err },
			"succeeded with a big bill": func() error {
				_, err := other.ReportJob(ctx, m.ID, "", patchpanda.WorkerEvent{Type: "succeeded", CostUSD: &cost})
				return err
			},
		} {
			if err := try(); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
				t.Errorf("another key, %s: %v, want 403", name, err)
			}
		}
		for name, l := range map[string]string{"no header": "", "a made-up lease": "lse_00000000"} {
			if _, err := w.worker.JobToken(ctx, m.ID, l); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
				t.Errorf("the holder with %s: %v, want 409", name, err)
			}
		}
		if n := len(w.gh.IssuedTokens()); n != 1 { // the relay's own installation token only
			t.Errorf("%d tokens minted before the holder asked, want 1 (the relay's own)", n)
		}

		tok, err := w.worker.JobToken(ctx, m.ID, lease)
		if err != nil {
			t.Fatalf("the holder's token: %v", err)
		}
		if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "started"}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"https://evil.example/acme/widgets/pull/8", w.gh.URL() + "/acme/other/pull/8"} {
			if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "succeeded", PullRequestURL: u}); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
				t.Errorf("pull_request_url %s: %v, want 400", u, err)
			}
		}
		if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "succeeded", PullRequestURL: w.gh.URL() + "/acme/widgets/pull/8"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			for _, r := range w.gh.RevokedTokens() {
				if r == tok.Token {
					return true
				}
			}
			return false
		})
		if calls := w.gh.CallsTo(githubtest.RouteRevokeToken); len(calls) != 1 {
			t.Errorf("%d revocations at GitHub, want 1", len(calls))
		}
		if strings.Contains(w.logs.String(), tok.Token) {
			t.Error("the job's token appears in the relay's logs")
		}
	})
}

func TestRedisAndSQSWorkersClaimJobs(t *testing.T) {
	for _, backend := range []string{"redis", "sqs"} {
		t.Run(backend, func(t *testing.T) {
			w := newWorld(t, backend, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
			ctx := context.Background()
			w.comment("alice", "/patchpanda generate")
			w.settle()
			m := w.receive() // claims with the worker key
			if _, err := w.otherWorker().ClaimJob(ctx, m.ID); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
				t.Errorf("a second key claiming: %v, want 409", err)
			}
			if again, err := w.worker.ClaimJob(ctx, m.ID); err != nil || again.LeaseID != w.leases[m.ID] {
				t.Errorf("the holder claiming again = %+v, %v; want the same lease", again, err)
			}
			if _, err := w.worker.JobToken(ctx, m.ID, w.leases[m.ID]); err != nil {
				t.Errorf("token: %v", err)
			}
			if _, err := w.worker.LeaseJob(ctx, 0); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
				t.Errorf("/api/worker/lease on %s: %v, want 409 pointing to claim", backend, err)
			}
		})
	}
}

const blockedRBAC = `rbac:
  roles:
    maintainer:
      users: [eve, bob]
  rules:
    - name: eve-out-of-widgets
      repos: [acme/widgets]
      role: blocked
      users: [eve]
`

func TestReplaysAndReRunsPassTheSameGatesOverHTTP(t *testing.T) {
	eachDatabase(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		w.gh.SetPermission(repo, "eve", "admin")
		w.gh.AddUser("gho_eve", githubtest.User{Login: "eve"})
		w.gh.AddUser("gho_bob", githubtest.User{Login: "bob"})
		w.gh.SetPermission(repo, "bob", "write")
		p, err := w.relay.Billing.CreateProject(ctx, "team-a", 1_000_000, "test") // $1 a month
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.relay.Billing.Bind(ctx, p.ID, repo, "test"); err != nil {
			t.Fatal(err)
		}
		w.comment("alice", "/patchpanda generate")
		w.settle()
		first := w.jobs()[0]

		// A GitHub user whose global role allows replays, blocked on
		// this repository: 403, audited.
		eve := httpapi.NewClient(w.relay.URL(), "gho_eve")
		if _, err := eve.ReplayJob(ctx, first.ID); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
			t.Errorf("replay by a user blocked on the repository: %v, want 403", err)
		}
		// And through "Re-run" on the check run.
		j, _ := w.relay.DB.Job(ctx, first.ID)
		w.send("check_run", "rerun-eve", map[string]any{
			"action":       "rerequested",
			"check_run":    map[string]any{"id": j.CheckRunID, "name": "PatchPanda / tests", "external_id": j.ID, "head_sha": headSHA, "app": map[string]any{"id": w.gh.AppID}, "pull_requests": []any{}},
			"installation": map[string]any{"id": instID},
			"repository":   map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
			"sender":       map[string]any{"login": "eve", "type": "User"},
		}, 202)
		w.settle()
		if js := w.jobs(); len(js) != 1 {
			t.Fatalf("%d jobs after denied replays, want 1", len(js))
		}
		if a := w.auditActions(); strings.Count(a, "command.denied") != 2 {
			t.Errorf("audit = %s, want two command.denied", a)
		}

		// A project over its budget: a replay with an admin key is denied too.
		lease := w.claim(first.ID)
		cost := 41.0
		for _, ev := range []patchpanda.WorkerEvent{{Type: "started"}, {Type: "succeeded", CostUSD: &cost}} {
			if _, err := w.worker.ReportJob(ctx, first.ID, lease, ev); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.admin.ReplayJob(ctx, first.ID); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN || !strings.Contains(err.Error(), "budget") {
			t.Errorf("replay over budget: %v, want 403 naming the budget", err)
		}
		if _, err := httpapi.NewClient(w.relay.URL(), "gho_bob").ReplayJob(ctx, first.ID); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
			t.Errorf("replay over budget by a GitHub user: %v, want 403", err)
		}
		if js := w.jobs(); len(js) != 1 {
			t.Errorf("%d jobs, want no replay over budget", len(js))
		}
	}, withServerConfig(t, blockedRBAC))
}

func TestOneJobPerCommandWhateverTheDeliveryOverHTTP(t *testing.T) {
	w := sqliteWorld(t)
	w.comment("alice", "/patchpanda generate")
	w.settle()
	c := w.gh.Comments(repo, 7)[0]
	body := map[string]any{
		"action": "created", "installation": map[string]any{"id": instID},
		"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"issue":      map[string]any{"number": 7, "pull_request": map[string]any{}},
		"comment":    map[string]any{"id": c.ID, "body": "/patchpanda generate", "user": map[string]any{"login": "alice", "type": "User"}},
		"sender":     map[string]any{"login": "alice", "type": "User"},
	}
	// The same signed body under a new delivery id: accepted, no job.
	w.send("issue_comment", "a-new-delivery-id", body, 202)
	w.settle()
	if js := w.jobs(); len(js) != 1 {
		t.Fatalf("%d jobs after the same comment under a new delivery id, want 1", len(js))
	}
	// Addressed to another App: refused, logged, never stored.
	raw, _ := json.Marshal(body)
	wh := w.gh.Webhook(w.relay.URL()+"/webhooks/github", secret, "issue_comment", json.RawMessage(raw))
	wh.DeliveryID, wh.TargetID = "for-app-999", 999
	resp, err := wh.Send(context.Background(), http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a delivery for App 999 answered %d, want 400", resp.StatusCode)
	}
	if _, err := w.relay.DB.Delivery(context.Background(), 999, "for-app-999"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("the delivery for another App was stored: %v", err)
	}
	if !strings.Contains(w.logs.String(), "webhook for another App refused") {
		t.Error("the refusal is not in the log")
	}
	w.settle()
	if js := w.jobs(); len(js) != 1 {
		t.Errorf("%d jobs, want 1", len(js))
	}
}
