package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const (
	headSHA = "1111111111111111111111111111111111111111"
	baseSHA = "2222222222222222222222222222222222222222"
)

// rig is a jobs.Service over a real SQLite store and the fake GitHub,
// with two repositories of one installation.
type rig struct {
	t   *testing.T
	db  *store.DB
	gh  *githubtest.Server
	svc *jobs.Service
}

func newRig(t *testing.T) *rig {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(githubtest.Installation{ID: 100, Account: "acme", Repositories: []patchpanda.Repository{
		{Owner: "acme", Name: "widgets", ID: 7001}, {Owner: "acme", Name: "gadgets", ID: 7002}}})
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL(), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	keeper, err := secrets.Open(context.Background(), "", filepath.Join(t.TempDir(), "secrets.key"))
	if err != nil {
		t.Fatal(err)
	}
	svc := jobs.NewService(db, client, slog.New(slog.DiscardHandler))
	svc.Sealer = keeper
	return &rig{t: t, db: db, gh: gh, svc: svc}
}

// The worker keys of the tests.
var (
	w1 = &patchpanda.Principal{Kind: patchpanda.PrincipalKey, Name: "worker-1", KeyID: 1, Scopes: []patchpanda.Scope{patchpanda.ScopeWorker}}
	w2 = &patchpanda.Principal{Kind: patchpanda.PrincipalKey, Name: "worker-2", KeyID: 2, Scopes: []patchpanda.Scope{patchpanda.ScopeWorker}}
)

// claim claims job id for who and returns the lease id.
func (r *rig) claim(id string, who *patchpanda.Principal) string {
	r.t.Helper()
	l, err := r.svc.Claim(context.Background(), id, who)
	if err != nil {
		r.t.Fatalf("claim %s: %v", id, err)
	}
	return l.ID
}

// enqueue makes a queued job on acme/name and returns it.
func (r *rig) enqueue(name string) *patchpanda.Job {
	r.t.Helper()
	ctx := context.Background()
	j := &patchpanda.Job{Repository: patchpanda.Repository{Owner: "acme", Name: name, ID: 7001}, InstallationID: 100,
		PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: headSHA, BaseSHA: baseSHA}, RequestedBy: "alice", Trigger: patchpanda.TriggerComment}
	if err := r.db.InTx(ctx, func(q *store.Queries) error {
		_, err := jobs.Enqueue(ctx, q, j, 0, "alice")
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	r.drain()
	return j
}

// drain takes the outbox entries written so far and returns them
// summarised: "publish" or the feedback action's type.
func (r *rig) drain() []string {
	r.t.Helper()
	var out []string
	for _, kind := range []string{store.OutboxPublish, store.OutboxGitHub} {
		es, err := r.db.ClaimOutbox(context.Background(), kind, 100, time.Hour)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, e := range es {
			if kind == store.OutboxPublish {
				out = append(out, "publish")
				continue
			}
			var a feedback.Action
			json.Unmarshal(e.Payload, &a)
			out = append(out, string(a.Type))
		}
	}
	return out
}

// audit returns the reasons of a job's audit events, oldest first.
func (r *rig) audit(action, jobID string) []string {
	r.t.Helper()
	evs, err := r.db.AuditEvents(context.Background(), patchpanda.AuditFilter{Action: action, Subject: "job:" + jobID, Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.SortFunc(evs, func(a, b patchpanda.AuditEvent) int { return int(a.ID - b.ID) })
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

func (r *rig) move(id, ev string) error {
	ctx := context.Background()
	return r.db.InTx(ctx, func(q *store.Queries) error {
		_, err := jobs.Move(ctx, q, id, patchpanda.JobEvent{Type: ev}, time.Minute, "worker")
		return err
	})
}

func TestEnqueueWritesTheJobItsMessageCheckAndAudit(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	j := &patchpanda.Job{Repository: patchpanda.Repository{Owner: "acme", Name: "widgets", ID: 7001}, InstallationID: 100,
		PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: headSHA, BaseSHA: baseSHA}, RequestedBy: "alice", Trigger: patchpanda.TriggerComment, UniqueKey: "k1"}
	for i, wantCreated := range []bool{true, false} {
		k := *j
		if i > 0 {
			k.ID = ""
		}
		var created bool
		if err := r.db.InTx(ctx, func(q *store.Queries) error {
			var err error
			created, err = jobs.Enqueue(ctx, q, &k, 0, "alice")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if created != wantCreated || k.ID == "" {
			t.Fatalf("enqueue %d: created %v id %q, want %v", i, created, k.ID, wantCreated)
		}
		j.ID = k.ID
	}
	if d := cmp.Diff([]string{"publish", "check_run"}, r.drain()); d != "" {
		t.Errorf("outbox (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"comment on acme/widgets#7"}, r.audit(patchpanda.AuditJobEnqueued, j.ID)); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
	got, _ := r.db.Job(ctx, j.ID)
	if got.State != patchpanda.JobQueued || got.Attempt != 1 || got.Kind != patchpanda.JobKindGenerateTests || got.RootID != j.ID {
		t.Errorf("job = %+v", got)
	}
}

func TestEveryTransition(t *testing.T) {
	type step struct {
		event string
		ok    bool
	}
	cases := []struct {
		name  string
		steps []step
		final patchpanda.JobState
	}{
		{"queued, started, progress, succeeded", []step{{"started", true}, {"progress", true}, {"succeeded", true}}, patchpanda.JobSucceeded},
		{"running fails", []step{{"started", true}, {"failed", true}}, patchpanda.JobFailed},
		{"a queued job can fail (the worker gave up before starting)", []step{{"failed", true}}, patchpanda.JobFailed},
		{"a queued job can be cancelled", []step{{"cancelled", true}}, patchpanda.JobCancelled},
		{"a running job can be cancelled", []step{{"started", true}, {"cancelled", true}}, patchpanda.JobCancelled},
		{"progress before start is refused", []step{{"progress", false}}, patchpanda.JobQueued},
		{"success before start is refused", []step{{"succeeded", false}}, patchpanda.JobQueued},
		{"started twice is refused", []step{{"started", true}, {"started", false}}, patchpanda.JobRunning},
		{"nothing moves a finished job", []step{{"started", true}, {"succeeded", true}, {"failed", false}, {"started", false}, {"cancelled", false}, {"progress", false}}, patchpanda.JobSucceeded},
	}
	r := newRig(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := r.enqueue("widgets")
			var want []string
			state := patchpanda.JobQueued
			for _, s := range c.steps {
				err := r.move(j.ID, s.event)
				if s.ok != (err == nil) || !s.ok && patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
					t.Fatalf("%s: %v, want ok=%v (or a conflict)", s.event, err, s.ok)
				}
				if s.ok {
					next, _ := state.Next(s.event)
					if next != state {
						want = append(want, fmt.Sprintf("%s → %s", state, next))
					}
					state = next
				}
			}
			got, _ := r.db.Job(context.Background(), j.ID)
			if got.State != c.final {
				t.Errorf("state %s, want %s", got.State, c.final)
			}
			if d := cmp.Diff(want, r.audit(patchpanda.AuditJobState, j.ID)); d != "" {
				t.Errorf("state audit (-want +got):\n%s", d)
			}
			checks := 0
			for _, a := range r.drain() {
				if a == "check_run" {
					checks++
				}
			}
			if checks != len(want) {
				t.Errorf("%d check run updates, want one per state change (%d)", checks, len(want))
			}
			if got.State.Terminal() && (got.FinishedAt == nil || got.LeaseExpiresAt != nil) {
				t.Errorf("finished job: finished_at %v lease %v", got.FinishedAt, got.LeaseExpiresAt)
			}
		})
	}
}

func TestTokensOnlyForLiveJobs(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		events []string
		ok     bool
	}{
		{"queued and claimed", nil, true},
		{"running", []string{"started"}, true},
		{"succeeded", []string{"started", "succeeded"}, false},
		{"failed", []string{"started", "failed"}, false},
		{"cancelled", []string{"cancelled"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := r.enqueue("widgets")
			lease := r.claim(j.ID, w1)
			for _, ev := range c.events {
				if err := r.move(j.ID, ev); err != nil {
					t.Fatal(err)
				}
			}
			before := len(r.gh.IssuedTokens())
			tok, err := r.svc.Token(ctx, j.ID, lease, w1)
			if !c.ok {
				if patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
					t.Errorf("token for a %s job: %v, want conflict", c.name, err)
				}
				if n := len(r.gh.IssuedTokens()); n != before {
					t.Errorf("a token was minted for a %s job", c.name)
				}
				return
			}
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if tok.Repository != "acme/widgets" || tok.Permissions["contents"] != "write" {
				t.Errorf("token = %v %v", tok, tok.Permissions)
			}
			issued := r.gh.IssuedTokens()
			last := issued[len(issued)-1]
			if d := cmp.Diff([]string{"acme/widgets"}, last.Repositories); d != "" {
				t.Errorf("token reaches (-want +got):\n%s", d)
			}
			if len(r.audit(patchpanda.AuditTokenMinted, j.ID)) != 1 {
				t.Errorf("no token.minted audit event")
			}
		})
	}
}

func TestReaperPolicies(t *testing.T) {
	for _, policy := range []string{"requeue", "fail"} {
		t.Run(policy, func(t *testing.T) {
			r := newRig(t)
			ctx := context.Background()
			r.svc.StuckPolicy = policy
			stuck := r.enqueue("widgets")
			live := r.enqueue("gadgets")
			queued := r.enqueue("widgets")
			leases := map[string]string{}
			// live starts with a long heartbeat, stuck with one that runs
			// out at once.
			for _, c := range []struct {
				id        string
				heartbeat time.Duration
			}{{live.ID, time.Hour}, {stuck.ID, time.Millisecond}} {
				r.svc.Heartbeat = time.Hour
				leases[c.id] = r.claim(c.id, w1)
				r.svc.Heartbeat = c.heartbeat
				if _, err := r.svc.Report(ctx, c.id, leases[c.id], patchpanda.WorkerEvent{Type: "started"}, w1); err != nil {
					t.Fatal(err)
				}
			}
			r.svc.Heartbeat = time.Hour
			r.drain()
			time.Sleep(5 * time.Millisecond)
			n, err := r.svc.Reap(ctx)
			if err != nil || n != 1 {
				t.Fatalf("Reap = %d, %v; want 1", n, err)
			}
			want := map[string]patchpanda.JobState{"requeue": patchpanda.JobQueued, "fail": patchpanda.JobFailed}[policy]
			for id, state := range map[string]patchpanda.JobState{stuck.ID: want, live.ID: patchpanda.JobRunning, queued.ID: patchpanda.JobQueued} {
				if j, _ := r.db.Job(ctx, id); j.State != state {
					t.Errorf("job %s is %s, want %s", id, j.State, state)
				}
			}
			wantOutbox := map[string][]string{"requeue": {"publish", "check_run"}, "fail": {"check_run"}}[policy]
			if d := cmp.Diff(wantOutbox, r.drain()); d != "" {
				t.Errorf("outbox after reaping (-want +got):\n%s", d)
			}
			if got := r.audit(patchpanda.AuditJobState, stuck.ID); len(got) != 2 {
				t.Errorf("state audit = %v, want started and the reaper's", got)
			}
			if n, _ := r.svc.Reap(ctx); n != 0 {
				t.Errorf("a second Reap found %d", n)
			}
			// The stuck worker comes back too late: its lease is gone.
			_, err = r.svc.Report(ctx, stuck.ID, leases[stuck.ID], patchpanda.WorkerEvent{Type: "succeeded"}, w1)
			if patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
				t.Errorf("a late succeeded after the reaper: %v, want conflict", err)
			}
			if j, _ := r.db.Job(ctx, stuck.ID); j.State != want {
				t.Errorf("the late event moved the job to %s", j.State)
			}
		})
	}
}

func TestReportChecksTheEvent(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	j := r.enqueue("widgets")
	lease := r.claim(j.ID, w1)
	big := 2e6
	neg := -1.0
	for name, ev := range map[string]patchpanda.WorkerEvent{
		"unknown type":     {Type: "exploded"},
		"cost too high":    {Type: "started", CostUSD: &big},
		"negative cost":    {Type: "started", CostUSD: &neg},
		"not a URL":        {Type: "started", PullRequestURL: "javascript:alert(1)"},
		"message too long": {Type: "progress", Message: string(make([]byte, 10001))},
	} {
		if _, err := r.svc.Report(ctx, j.ID, lease, ev, w1); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := r.svc.Report(ctx, "job_nope", lease, patchpanda.WorkerEvent{Type: "started"}, w1); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("unknown job: %v, want not found", err)
	}
}
