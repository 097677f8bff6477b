package relay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

func sqliteWorld(t *testing.T, opts ...func(*relay.Config)) *world {
	return newWorld(t, "db", "sqlite:"+filepath.Join(t.TempDir(), "r.db"), opts...)
}

func withServerConfig(t *testing.T, yaml string) func(*relay.Config) {
	p := filepath.Join(t.TempDir(), "server.yml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *relay.Config) { c.ServerConfig = p }
}

func (w *world) jobs() []*patchpanda.Job {
	w.t.Helper()
	js, _, err := w.relay.DB.Jobs(context.Background(), patchpanda.JobFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return js
}

func (w *world) auditActions() string {
	evs, _ := w.relay.DB.AuditEvents(context.Background(), patchpanda.AuditFilter{})
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return strings.Join(out, ",")
}

func (w *world) lastComment() string {
	cs := w.gh.Comments(repo, 7)
	if len(cs) == 0 {
		return ""
	}
	return cs[len(cs)-1].Body
}

func TestADeniedUserGetsOneReplyAndNoJob(t *testing.T) {
	w := sqliteWorld(t)
	w.comment("mallory", "/patchpanda generate")
	w.settle()
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("%d jobs, want none", len(js))
	}
	c := w.lastComment()
	if !strings.Contains(c, "@mallory") || !strings.Contains(c, "read") {
		t.Errorf("reply = %q, want it to name mallory and the missing permission", c)
	}
	if !strings.Contains(w.auditActions(), "command.denied") {
		t.Errorf("audit = %s, want command.denied", w.auditActions())
	}
	if n := len(w.gh.CallsTo(githubtest.RouteCreateComment)); n != 1 {
		t.Errorf("%d comments posted, want exactly 1", n)
	}
}

func TestForkPullRequestsNeedATrustedCommander(t *testing.T) {
	w := sqliteWorld(t)
	w.gh.AddPullRequest(repo, githubtest.PullRequest{Number: 9, Author: "eve", HeadSHA: strings.Repeat("3", 40), BaseSHA: baseSHA, HeadRepo: "eve/widgets"})
	w.gh.SetPermission(repo, "eve", "read")
	w.gh.SetPermission(repo, "carol", "triage")
	send := func(login string) {
		c := w.gh.AddComment(githubtest.Comment{Repo: repo, Number: 9, Body: "/patchpanda generate", User: login})
		w.send("issue_comment", "fork-"+login, map[string]any{
			"action": "created", "installation": map[string]any{"id": instID},
			"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
			"issue":      map[string]any{"number": 9, "pull_request": map[string]any{}},
			"comment":    map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": login, "type": "User"}},
			"sender":     map[string]any{"login": login, "type": "User"},
		}, 202)
		w.settle()
	}
	send("carol")
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("a command by carol (triage) on a fork PR made a job")
	}
	send("alice")
	js := w.jobs()
	if len(js) != 1 || js[0].PullRequest.Number != 9 || js[0].RequestedBy != "alice" {
		t.Fatalf("jobs = %+v, want one by alice on #9", js)
	}
}

func TestInvalidConfigFailsTheCheckRunWithAnAnnotation(t *testing.T) {
	w := sqliteWorld(t)
	w.gh.SetFile(repo, headSHA, ".testbot.yml", []byte("version: 1\ngenerate:\n  max_files: 9000\n"))
	w.comment("alice", "/patchpanda generate")
	w.settle()
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("an invalid config made a job")
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Fatalf("check runs = %+v, want one failure", runs)
	}
	anns := runs[0].Output.Annotations
	if len(anns) != 1 || anns[0].Path != ".testbot.yml" || anns[0].StartLine != 3 || !strings.Contains(anns[0].Message, "9000") {
		t.Errorf("annotations = %+v, want one on .testbot.yml line 3", anns)
	}
	if !strings.Contains(w.auditActions(), "config.rejected") {
		t.Errorf("audit = %s", w.auditActions())
	}
}

func TestADisallowedOverrideNamesTheServerRule(t *testing.T) {
	w := sqliteWorld(t, withServerConfig(t, "rules:\n  - name: acme-strict\n    match: acme/*\n    allowed_overrides: [generate.paths]\n"))
	w.gh.SetFile(repo, headSHA, ".testbot.yml", []byte("version: 1\ngenerate:\n  framework: jest\n"))
	w.comment("alice", "/patchpanda generate")
	w.settle()
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("a disallowed override made a job")
	}
	runs := w.checkRuns()
	if len(runs) != 1 || runs[0].Conclusion != "failure" || !strings.Contains(runs[0].Output.Summary, "acme-strict") {
		t.Fatalf("check runs = %+v, want a failure naming rule acme-strict", runs)
	}
	if anns := runs[0].Output.Annotations; len(anns) != 1 || anns[0].StartLine != 3 {
		t.Errorf("annotations = %+v, want one on line 3", anns)
	}
}

func TestARedeliveredCommentMakesOneJob(t *testing.T) {
	w := sqliteWorld(t)
	id := w.comment("alice", "/patchpanda generate")
	w.settle()
	body := map[string]any{
		"action": "created", "installation": map[string]any{"id": instID},
		"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"issue":      map[string]any{"number": 7, "pull_request": map[string]any{}},
		"comment":    map[string]any{"id": 1, "body": "/patchpanda generate", "user": map[string]any{"login": "alice", "type": "User"}},
		"sender":     map[string]any{"login": "alice", "type": "User"},
	}
	w.send("issue_comment", id, body, 200)
	w.settle()
	if js := w.jobs(); len(js) != 1 {
		t.Fatalf("%d jobs after a redelivery, want 1", len(js))
	}
}

func TestRetryAndCheckRunRerunReplayTheLastJob(t *testing.T) {
	w := sqliteWorld(t)
	w.comment("alice", "/patchpanda generate")
	w.settle()
	first := w.jobs()[0]
	ctx := context.Background()
	w.claim(first.ID)
	if _, err := w.report(first.ID, patchpanda.WorkerEvent{Type: "failed", Message: "model timed out"}); err != nil {
		t.Fatal(err)
	}
	w.comment("alice", "/patchpanda retry")
	w.settle()
	js := w.jobs()
	if len(js) != 2 || js[0].Attempt != 2 || js[0].ReplayOf != first.ID || js[0].RootID != first.ID || js[0].Trigger != patchpanda.TriggerReplay {
		t.Fatalf("after retry: %+v", js[0])
	}
	if !strings.Contains(w.auditActions(), "job.replayed") {
		t.Errorf("audit = %s", w.auditActions())
	}

	// Re-run on the check run of the second attempt makes the third.
	second, err := w.relay.DB.Job(ctx, js[0].ID)
	if err != nil || second.CheckRunID == 0 {
		t.Fatalf("second attempt has no check run: %+v %v", second, err)
	}
	rerun := map[string]any{
		"action":       "rerequested",
		"check_run":    map[string]any{"id": second.CheckRunID, "name": "PatchPanda / tests", "external_id": second.ID, "head_sha": headSHA, "app": map[string]any{"id": w.gh.AppID}, "pull_requests": []any{}},
		"installation": map[string]any{"id": instID},
		"repository":   map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"sender":       map[string]any{"login": "alice", "type": "User"},
	}
	w.send("check_run", "rerun-1", rerun, 202)
	w.send("check_run", "rerun-1", rerun, 200)
	w.settle()
	js = w.jobs()
	if len(js) != 3 || js[0].Attempt != 3 || js[0].Trigger != patchpanda.TriggerCheckRerun || js[0].ReplayOf != second.ID {
		t.Fatalf("after re-run: %d jobs, newest %+v", len(js), js[0])
	}
	// The REST API replays too.
	j, err := w.admin.ReplayJob(ctx, js[0].ID)
	if err != nil || j.Attempt != 4 {
		t.Fatalf("API replay = %+v, %v", j, err)
	}
}

func TestIllegalTransitionsAre409(t *testing.T) {
	w := sqliteWorld(t)
	w.comment("alice", "/patchpanda generate")
	w.settle()
	id := w.jobs()[0].ID
	ctx := context.Background()
	w.claim(id)
	for _, ev := range []string{"progress", "succeeded"} {
		if _, err := w.report(id, patchpanda.WorkerEvent{Type: ev}); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Errorf("%s on a queued job: %v, want conflict", ev, err)
		}
	}
	if _, err := w.report(id, patchpanda.WorkerEvent{Type: "exploded"}); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("unknown type: %v, want invalid", err)
	}
	if _, err := w.worker.ReportJob(ctx, "job_nope", "lse_x", patchpanda.WorkerEvent{Type: "started"}); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("unknown job: %v, want not found", err)
	}
}

func TestAStuckJobIsRequeuedOrFailedByPolicy(t *testing.T) {
	for _, policy := range []string{"requeue", "fail"} {
		t.Run(policy, func(t *testing.T) {
			w := sqliteWorld(t, func(c *relay.Config) { c.JobHeartbeat = time.Second; c.StuckJobPolicy = policy })
			w.comment("alice", "/patchpanda generate")
			w.settle()
			ctx := context.Background()
			m := w.receive()
			if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "started"}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond) // past the heartbeat
			if n, err := w.relay.Jobs.Reap(ctx); err != nil || n != 1 {
				t.Fatalf("Reap = %d, %v", n, err)
			}
			j, _ := w.relay.DB.Job(ctx, m.ID)
			want := map[string]patchpanda.JobState{"requeue": patchpanda.JobQueued, "fail": patchpanda.JobFailed}[policy]
			if j.State != want {
				t.Fatalf("stuck job is %s, want %s", j.State, want)
			}
			// The dead worker comes back: its lease is gone, and so is
			// any chance to report the job done.
			if _, err := w.report(m.ID, patchpanda.WorkerEvent{Type: "succeeded"}); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
				t.Errorf("a late succeeded after the reaper: %v, want 409", err)
			}
			if j, _ := w.relay.DB.Job(ctx, m.ID); j.State != want {
				t.Errorf("the late event moved the job to %s", j.State)
			}
			if policy == "requeue" {
				if again := w.receive(); again.ID != m.ID {
					t.Errorf("leased %s after requeue, want %s", again.ID, m.ID)
				}
			}
		})
	}
}

func TestCommandsThatDoNotTrigger(t *testing.T) {
	w := sqliteWorld(t)
	w.comment("alice", "> /patchpanda generate\n\n```\n/patchpanda generate\n```")
	w.comment("alice", "/patchpanda generte")
	w.settle()
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("quoted or misspelt commands made %d jobs", len(js))
	}
	if c := w.lastComment(); !strings.Contains(c, "Did you mean `/patchpanda generate`") {
		t.Errorf("reply to a typo = %q", c)
	}
	// A bot's comment never triggers.
	bot := map[string]any{
		"action": "created", "installation": map[string]any{"id": instID},
		"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"issue":      map[string]any{"number": 7, "pull_request": map[string]any{}},
		"comment":    map[string]any{"id": 99, "body": "/patchpanda generate", "user": map[string]any{"login": "renovate[bot]", "type": "Bot"}},
		"sender":     map[string]any{"login": "renovate[bot]", "type": "Bot"},
	}
	w.send("issue_comment", "bot-1", bot, 202)
	w.settle()
	if js := w.jobs(); len(js) != 0 {
		t.Fatal("a bot's comment made a job")
	}
}

func TestOverBudgetGetsNoJobAndAnActionRequiredCheck(t *testing.T) {
	w := sqliteWorld(t)
	ctx := context.Background()
	p, err := w.relay.Billing.CreateProject(ctx, "team-a", 1_000_000, "test") // $1 a month
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.relay.Billing.Bind(ctx, p.ID, repo, "test"); err != nil {
		t.Fatal(err)
	}
	w.comment("alice", "/patchpanda generate")
	w.settle()
	first := w.jobs()
	if len(first) != 1 || first[0].BillingProject != "team-a" {
		t.Fatalf("jobs = %+v, want one billed to team-a", first)
	}
	cost := 1.5
	w.claim(first[0].ID)
	for _, ev := range []patchpanda.WorkerEvent{{Type: "started"}, {Type: "succeeded", CostUSD: &cost}} {
		if _, err := w.report(first[0].ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	w.comment("alice", "/patchpanda generate")
	w.settle()
	if js := w.jobs(); len(js) != 1 {
		t.Fatalf("%d jobs, want the first only", len(js))
	}
	var over bool
	for _, cr := range w.checkRuns() {
		if cr.Conclusion == "action_required" && strings.Contains(cr.Output.Summary, "team-a") && strings.Contains(cr.Output.Summary, "1.50") {
			over = true
		}
	}
	if !over {
		t.Errorf("no action_required check run with the numbers: %+v", w.checkRuns())
	}
	if !strings.Contains(w.auditActions(), "budget.exceeded") {
		t.Errorf("audit = %s", w.auditActions())
	}
}

func TestPeopleReachTheAPIWithTheirGitHubToken(t *testing.T) {
	w := sqliteWorld(t, withServerConfig(t, "rbac:\n  roles:\n    maintainer:\n      users: [alice]\n"))
	w.gh.AddUser("gho_alice_token", githubtest.User{Login: "alice"})
	w.gh.AddUser("gho_mallory_token", githubtest.User{Login: "mallory"})
	ctx := context.Background()
	alice := httpapi.NewClient(w.relay.URL(), "gho_alice_token")
	if _, err := alice.Jobs(ctx, patchpanda.JobFilter{}); err != nil {
		t.Fatalf("maintainer listing jobs with a GitHub token: %v", err)
	}
	if _, err := alice.ListKeys(ctx); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
		t.Errorf("maintainer listing keys: %v, want forbidden", err)
	}
	mallory := httpapi.NewClient(w.relay.URL(), "gho_mallory_token")
	if _, err := mallory.Jobs(ctx, patchpanda.JobFilter{}); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
		t.Errorf("user without a role: %v, want forbidden", err)
	}
	if _, err := httpapi.NewClient(w.relay.URL(), "gho_nobody").Jobs(ctx, patchpanda.JobFilter{}); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
		t.Errorf("unknown token: %v, want unauthorized", err)
	}
	if strings.Contains(w.logs.String(), "gho_alice_token") {
		t.Error("a GitHub token appears in the logs")
	}
}

func TestPullRequestEventsTriggerWhenTheDefaultBranchSaysSo(t *testing.T) {
	w := sqliteWorld(t)
	w.gh.SetFile(repo, "main", ".testbot.yml", []byte("version: 1\ntriggers:\n  pull_request: [opened]\n"))
	pr := func(action, id, head string) {
		w.send("pull_request", id, map[string]any{
			"action": action, "number": 7, "installation": map[string]any{"id": instID},
			"pull_request": map[string]any{"number": 7, "draft": false, "user": map[string]any{"login": "alice", "type": "User"},
				"head": map[string]any{"sha": head, "ref": "feature", "repo": map[string]any{"full_name": repo}},
				"base": map[string]any{"sha": baseSHA, "ref": "main", "repo": map[string]any{"full_name": repo}}},
			"repository": map[string]any{"id": 7001, "name": "widgets", "full_name": repo, "owner": map[string]any{"login": "acme"}},
			"sender":     map[string]any{"login": "alice", "type": "User"},
		}, 202)
		w.settle()
	}
	pr("synchronize", "pr-sync", headSHA)
	if js := w.jobs(); len(js) != 0 {
		t.Fatalf("synchronize made a job though only opened is configured")
	}
	pr("opened", "pr-open", headSHA)
	js := w.jobs()
	if len(js) != 1 || js[0].Trigger != patchpanda.TriggerPullRequest || js[0].RequestedBy != "alice" {
		t.Fatalf("jobs = %+v, want one pull_request job", js)
	}
	// A pull request cannot turn triggers on for itself: its new commit's
	// file asks for reopened, which the default branch does not allow.
	newHead := strings.Repeat("4", 40)
	w.gh.SetFile(repo, newHead, ".testbot.yml", []byte("version: 1\ntriggers:\n  pull_request: [reopened]\n"))
	pr("reopened", "pr-reopen", newHead)
	if js := w.jobs(); len(js) != 1 {
		t.Fatalf("a PR's own change to triggers made a job")
	}
	var rejected bool
	for _, cr := range w.checkRuns() {
		if cr.HeadSHA == newHead && cr.Conclusion == "failure" && strings.Contains(cr.Output.Summary, "triggers") {
			rejected = true
		}
	}
	if !rejected {
		t.Errorf("the PR's own triggers were not rejected with a failing check run: %+v", w.checkRuns())
	}
}
