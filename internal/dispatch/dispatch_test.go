package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/command"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/dispatch"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const (
	inst    = int64(100)
	headSHA = "1111111111111111111111111111111111111111"
	baseSHA = "2222222222222222222222222222222222222222"
)

// rbacYAML gives members of acme/core the developer role on acme/*, and
// blocks members of acme/ops and the user eve there.
const rbacYAML = `rbac:
  rules:
    - name: core
      repos: ["acme/*"]
      role: developer
      teams: [acme/core]
    - name: ops-blocked
      repos: ["acme/*"]
      role: blocked
      teams: [acme/ops]
    - name: eve-blocked
      repos: [acme/gadgets]
      role: blocked
      users: [eve]
`

// rig is a Dispatcher over a real SQLite store and a counting fake GitHub
// with one installation (acme) of two repositories, widgets and gadgets,
// each with an open pull request #7, and two teams, core and ops.
//
//   - alice has write on widgets and read on gadgets;
//   - mallory has read on widgets;
//   - bob has no permission but is in acme/core;
//   - olga has write on widgets but is in acme/ops (blocked).
type rig struct {
	t       *testing.T
	db      *store.DB
	gh      *githubtest.Server
	d       *dispatch.Dispatcher
	budget  budgets
	n       int
	auditAt int64
	jobsAt  int
}

type budgets map[string]dispatch.Budget

func (b budgets) Check(_ context.Context, repo string) (dispatch.Budget, error) { return b[repo], nil }

func newRig(t *testing.T, serverYAML string) *rig {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(githubtest.Installation{ID: inst, Account: "acme", Repositories: []patchpanda.Repository{
		{Owner: "acme", Name: "widgets", ID: 7001}, {Owner: "acme", Name: "gadgets", ID: 7002}}})
	for _, r := range []string{"acme/widgets", "acme/gadgets"} {
		gh.AddPullRequest(r, githubtest.PullRequest{Number: 7, Author: "alice", HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "feature"})
	}
	gh.SetPermission("acme/widgets", "alice", "write")
	gh.SetPermission("acme/gadgets", "alice", "read")
	gh.SetPermission("acme/widgets", "mallory", "read")
	gh.SetPermission("acme/widgets", "olga", "write")
	gh.SetTeamMember("acme", "core", "bob", "member", "active")
	gh.SetTeamMember("acme", "ops", "olga", "member", "active")
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL(), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	server := &config.Server{}
	if serverYAML != "" {
		if server, err = config.ParseServer("server.yml", []byte(serverYAML)); err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{t: t, db: storetest.SQLite(t), gh: gh, budget: budgets{}}
	r.d = dispatch.New(slog.New(slog.DiscardHandler), client, server, r.budget)
	r.d.DB = r.db
	return r
}

// rows is what one delivery's Commit wrote, each row summarised.
type rows struct {
	Outbox []string
	Audit  []string
	Jobs   []string
}

// deliver records a delivery of event with payload, handles it and
// applies its Commit, and returns the rows that wrote.
func (r *rig) deliver(event string, payload map[string]any) rows {
	r.t.Helper()
	ctx := context.Background()
	r.n++
	body, _ := json.Marshal(payload)
	del := &patchpanda.Delivery{AppID: r.gh.AppID, DeliveryID: fmt.Sprintf("d-%d", r.n), Event: event, Payload: body}
	if err := r.db.InTx(ctx, func(q *store.Queries) error {
		_, err := q.RecordDeliveries(ctx, []*patchpanda.Delivery{del})
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	ds, err := r.db.ClaimDeliveries(ctx, 10, 60e9, "test")
	if err != nil || len(ds) != 1 {
		r.t.Fatalf("claim delivery: %v %v", ds, err)
	}
	commit, err := r.d.Handle(ctx, ds[0])
	if err != nil {
		r.t.Fatalf("Handle: %v", err)
	}
	if commit != nil {
		if err := r.db.InTx(ctx, func(q *store.Queries) error { return commit(ctx, q) }); err != nil {
			r.t.Fatalf("Commit: %v", err)
		}
	}
	if err := r.db.FinishDelivery(ctx, ds[0].ID, "test", patchpanda.DeliveryDone, ""); err != nil {
		r.t.Fatal(err)
	}
	return r.written()
}

// written returns the rows written since the last call.
func (r *rig) written() rows {
	r.t.Helper()
	ctx := context.Background()
	var out rows
	for _, kind := range []string{store.OutboxPublish, store.OutboxGitHub} {
		es, err := r.db.ClaimOutbox(ctx, kind, 100, 3600e9)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, e := range es {
			out.Outbox = append(out.Outbox, outboxRow(e))
		}
	}
	evs, err := r.db.AuditEvents(ctx, patchpanda.AuditFilter{AfterID: r.auditAt, Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.SortFunc(evs, func(a, b patchpanda.AuditEvent) int { return int(a.ID - b.ID) })
	for _, e := range evs {
		out.Audit = append(out.Audit, e.Action+" by "+e.Actor+" on "+jobless(e.Subject))
		r.auditAt = max(r.auditAt, e.ID)
	}
	js, _, err := r.db.Jobs(ctx, patchpanda.JobFilter{Limit: 500})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Reverse(js)
	for _, j := range js[r.jobsAt:] {
		out.Jobs = append(out.Jobs, fmt.Sprintf("%s %s#%d %s by %s attempt %d", j.State, j.Repository.FullName(), j.PullRequest.Number, j.Trigger, j.RequestedBy, j.Attempt))
	}
	r.jobsAt = len(js)
	return out
}

// jobless hides job ids, which differ from run to run.
func jobless(s string) string {
	if strings.HasPrefix(s, "job:") {
		return "job"
	}
	return s
}

func outboxRow(e store.OutboxEntry) string {
	if e.Kind == store.OutboxPublish {
		return "publish job"
	}
	var a feedback.Action
	if err := json.Unmarshal(e.Payload, &a); err != nil {
		return "unreadable: " + err.Error()
	}
	switch {
	case a.Type == "reaction":
		return fmt.Sprintf("reaction %s %s", a.Repository, a.Content)
	case a.Type == "comment":
		first, _, _ := strings.Cut(a.Body, "\n")
		return fmt.Sprintf("comment %s#%d %s", a.Repository, a.Number, first)
	case a.Type == "check_run" && a.Check != nil:
		return fmt.Sprintf("check_run %s %s %s", a.Repository, a.Check.Conclusion, a.Check.Title)
	case a.Type == "check_run":
		return fmt.Sprintf("check_run %s job", a.Repository)
	}
	return string(a.Type)
}

func repoObj(name string) map[string]any {
	id := map[string]int{"widgets": 7001, "gadgets": 7002}[name]
	return map[string]any{"id": id, "name": name, "full_name": "acme/" + name, "owner": map[string]any{"login": "acme"}}
}

// comment is an issue_comment payload for PR #7 of acme/name.
func comment(name, login, body string, commentID int64) map[string]any {
	return map[string]any{
		"action": "created", "installation": map[string]any{"id": inst}, "repository": repoObj(name),
		"issue":   map[string]any{"number": 7, "pull_request": map[string]any{}},
		"comment": map[string]any{"id": commentID, "body": body, "user": map[string]any{"login": login, "type": "User"}},
		"sender":  map[string]any{"login": login, "type": "User"},
	}
}

func pullRequest(name, login, action string) map[string]any {
	return map[string]any{
		"action": action, "number": 7, "installation": map[string]any{"id": inst}, "repository": repoObj(name),
		"pull_request": map[string]any{"number": 7, "draft": false, "user": map[string]any{"login": login, "type": "User"},
			"head": map[string]any{"sha": headSHA, "ref": "feature", "repo": map[string]any{"full_name": "acme/" + name}},
			"base": map[string]any{"sha": baseSHA, "ref": "main", "repo": map[string]any{"full_name": "acme/" + name}}},
		"sender": map[string]any{"login": login, "type": "User"},
	}
}

func rerun(name, login string, checkRunID int64, jobID string) map[string]any {
	return map[string]any{
		"action":       "rerequested",
		"check_run":    map[string]any{"id": checkRunID, "name": feedback.CheckName, "external_id": jobID, "head_sha": headSHA, "app": map[string]any{"id": 4242}, "pull_requests": []any{}},
		"installation": map[string]any{"id": inst}, "repository": repoObj(name),
		"sender": map[string]any{"login": login, "type": "User"},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func check(t *testing.T, got, want rows) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows written (-want +got):\n%s", d)
	}
}

var accepted = func(repo, by string) rows {
	return rows{
		Outbox: []string{"publish job", "check_run " + repo + " job", "reaction " + repo + " eyes"},
		Audit:  []string{"job.enqueued by " + by + " on job", "command.accepted by " + by + " on job"},
		Jobs:   []string{"queued " + repo + "#7 comment by " + by + " attempt 1"},
	}
}

func TestEachCommandWritesItsRows(t *testing.T) {
	r := newRig(t, rbacYAML)
	r.gh.SetFile("acme/widgets", "main", ".testbot.yml", []byte("version: 1\ntriggers:\n  pull_request: [opened]\n"))
	cases := []struct {
		name    string
		event   string
		payload map[string]any
		want    rows
	}{
		{"a writer's generate makes a job, a reaction and a check run", "issue_comment",
			comment("widgets", "alice", "/patchpanda generate", 1), accepted("acme/widgets", "alice")},
		{"the same writer with read on the other repository is denied there", "issue_comment",
			comment("gadgets", "alice", "/patchpanda generate", 2), rows{
				Outbox: []string{"comment acme/gadgets#7 @alice, PatchPanda cannot do that for you: alice has read permission on acme/gadgets; write is required."},
				Audit:  []string{"command.denied by alice on acme/gadgets#7"}}},
		{"a reader is denied with one reply", "issue_comment",
			comment("widgets", "mallory", "/patchpanda generate", 3), rows{
				Outbox: []string{"comment acme/widgets#7 @mallory, PatchPanda cannot do that for you: mallory has read permission on acme/widgets; write is required."},
				Audit:  []string{"command.denied by mallory on acme/widgets#7"}}},
		{"a member of a developer team is allowed without repository permission", "issue_comment",
			comment("widgets", "bob", "/patchpanda generate", 4), accepted("acme/widgets", "bob")},
		{"a writer in a blocked team is denied", "issue_comment",
			comment("widgets", "olga", "/patchpanda generate", 5), rows{
				Outbox: []string{`comment acme/widgets#7 @olga, PatchPanda cannot do that for you: olga is blocked on acme/widgets by rbac.rules[1] "ops-blocked" (team acme/ops).`},
				Audit:  []string{"command.denied by olga on acme/widgets#7"}}},
		{"help answers with the help text only", "issue_comment",
			comment("widgets", "mallory", "/patchpanda help", 6), rows{Outbox: []string{"comment acme/widgets#7 " + firstLine(helpReply())}}},
		{"a typo gets a suggestion", "issue_comment",
			comment("widgets", "alice", "/patchpanda generte", 7), rows{
				Outbox: []string{"comment acme/widgets#7 @alice, `/patchpanda generte` is not a PatchPanda command. Did you mean `/patchpanda generate`?"}}},
		{"a pull_request event by a reader is denied silently", "pull_request",
			pullRequest("widgets", "mallory", "opened"), rows{Audit: []string{"command.denied by mallory on acme/widgets#7"}}},
		{"a pull_request event by a writer makes a job without a reaction", "pull_request",
			pullRequest("widgets", "alice", "opened"), rows{
				Outbox: []string{"publish job", "check_run acme/widgets job"},
				Audit:  []string{"job.enqueued by alice on job", "command.accepted by alice on job"},
				Jobs:   []string{"queued acme/widgets#7 pull_request by alice attempt 1"}}},
		{"a pull_request action the config does not name does nothing", "pull_request",
			pullRequest("widgets", "alice", "synchronize"), rows{}},
		{"cancel moves the newest job to cancelled", "issue_comment",
			comment("widgets", "alice", "/patchpanda cancel", 8), rows{
				Outbox: []string{"check_run acme/widgets job", "reaction acme/widgets eyes"},
				Audit:  []string{"job.state_changed by alice on job"}}},
		{"retry replays the newest job as the next attempt", "issue_comment",
			comment("widgets", "alice", "/patchpanda retry", 9), rows{
				Outbox: []string{"publish job", "check_run acme/widgets job", "reaction acme/widgets eyes"},
				Audit:  []string{"job.enqueued by alice on job", "job.replayed by alice on job"},
				Jobs:   []string{"queued acme/widgets#7 replay by alice attempt 2"}}},
		{"cancel with nothing running says so", "issue_comment",
			comment("gadgets", "bob", "/patchpanda cancel", 10), rows{
				Outbox: []string{"comment acme/gadgets#7 @bob, there is no queued or running PatchPanda job on this pull request to cancel."}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, r.deliver(c.event, c.payload), c.want) })
	}
}

func firstLine(s string) string { f, _, _ := strings.Cut(s, "\n"); return f }

func helpReply() string { return command.HelpText() }

func TestPermissionLookupsAreCachedPerInstallationRepositoryAndUser(t *testing.T) {
	r := newRig(t, "")
	r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 1))
	r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 2))
	if n := len(r.gh.CallsTo(githubtest.RouteGetPermission)); n != 1 {
		t.Errorf("%d permission look-ups for two commands by one user on one repository, want 1 (cached)", n)
	}
	got := r.deliver("issue_comment", comment("gadgets", "alice", "/patchpanda generate", 3))
	if len(got.Jobs) != 0 {
		t.Errorf("write permission on acme/widgets made a job on acme/gadgets: %v", got.Jobs)
	}
	if n := len(r.gh.CallsTo(githubtest.RouteGetPermission)); n != 2 {
		t.Errorf("%d permission look-ups after a second repository, want 2", n)
	}
}

func TestTeamLookupsAreCachedPerTeam(t *testing.T) {
	r := newRig(t, rbacYAML)
	// bob is in core (developer) and not in ops (blocked): both are
	// looked up, and neither answer may stand for the other.
	got := r.deliver("issue_comment", comment("widgets", "bob", "/patchpanda generate", 1))
	check(t, got, accepted("acme/widgets", "bob"))
	got = r.deliver("issue_comment", comment("gadgets", "bob", "/patchpanda generate", 2))
	check(t, got, accepted("acme/gadgets", "bob"))
	if n := len(r.gh.CallsTo(githubtest.RouteGetTeamMembership)); n != 2 {
		t.Errorf("%d team look-ups, want 2 (core and ops once each, then cached)", n)
	}
}

func TestOverBudgetWritesAnActionRequiredCheckAndNoJob(t *testing.T) {
	r := newRig(t, "")
	r.budget["acme/widgets"] = dispatch.Budget{Project: "team-a", Over: true, Detail: "spent $41.00 of $1.00"}
	got := r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 1))
	want := rows{
		Outbox: []string{"check_run acme/widgets action_required Over budget", "comment acme/widgets#7 @alice, No job was started: the billing project **team-a** is over its budget."},
		Audit:  []string{"budget.exceeded by alice on acme/widgets#7"},
	}
	check(t, got, want)
}

func TestCheckRunRerunReplaysTheJob(t *testing.T) {
	r := newRig(t, "")
	r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 1))
	js, _, _ := r.db.Jobs(context.Background(), patchpanda.JobFilter{})
	got := r.deliver("check_run", rerun("widgets", "alice", 55, js[0].ID))
	check(t, got, rows{
		Outbox: []string{"publish job", "check_run acme/widgets job"},
		Audit:  []string{"job.enqueued by alice on job", "job.replayed by alice on job", "command.accepted by alice on job"},
		Jobs:   []string{"queued acme/widgets#7 check_rerun by alice attempt 2"},
	})
	if got := r.deliver("check_run", rerun("widgets", "alice", 55, "job_unknown")); !cmp.Equal(got, rows{}) {
		t.Errorf("a re-run of an unknown job wrote %+v", got)
	}
}
