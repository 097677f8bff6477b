package dispatch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/dispatch"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// job returns the newest job of acme/name.
func (r *rig) job(name string) *patchpanda.Job {
	r.t.Helper()
	js, _, err := r.db.Jobs(context.Background(), patchpanda.JobFilter{Repository: "acme/" + name})
	if err != nil || len(js) == 0 {
		r.t.Fatalf("no job on acme/%s: %v", name, err)
	}
	return js[0]
}

func TestReRunsPassTheSameGates(t *testing.T) {
	r := newRig(t, rbacYAML)
	r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 1))
	r.deliver("issue_comment", comment("gadgets", "bob", "/patchpanda generate", 2))
	widgets, gadgets := r.job("widgets"), r.job("gadgets")
	r.gh.SetPermission("acme/gadgets", "eve", "admin")
	cases := []struct {
		name    string
		payload map[string]any
		want    rows
	}{
		{"a user blocked on the repository by name", rerun("gadgets", "eve", 501, gadgets.ID),
			rows{Audit: []string{"command.denied by eve on acme/gadgets#7"}}},
		{"a writer in a blocked team", rerun("widgets", "olga", 502, widgets.ID),
			rows{Audit: []string{"command.denied by olga on acme/widgets#7"}}},
		{"a reader", rerun("widgets", "mallory", 503, widgets.ID),
			rows{Audit: []string{"command.denied by mallory on acme/widgets#7"}}},
		{"a job of another repository than the event's", rerun("widgets", "alice", 504, gadgets.ID),
			rows{Audit: []string{"command.denied by alice on acme/widgets#7"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, r.deliver("check_run", c.payload), c.want) })
	}
	evs, _ := r.db.AuditEvents(context.Background(), patchpanda.AuditFilter{Action: patchpanda.AuditCommandDenied, Limit: 100})
	var reasons []string
	for _, e := range evs {
		reasons = append(reasons, e.Reason)
	}
	if all := strings.Join(reasons, "\n"); !strings.Contains(all, "eve is blocked on acme/gadgets") || !strings.Contains(all, "belongs to acme/gadgets") {
		t.Errorf("denial reasons do not say why:\n%s", all)
	}
}

func TestOneJobPerCommandWhateverTheDelivery(t *testing.T) {
	r := newRig(t, "")
	first := r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 42))
	check(t, first, accepted("acme/widgets", "alice"))
	// The same comment under a new delivery id: nothing more.
	if got := r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 42)); len(got.Jobs) != 0 {
		t.Errorf("a redelivered comment made a job: %v", got.Jobs)
	}
	// A re-run, sent twice under two delivery ids: one replay.
	j := r.job("widgets")
	r.deliver("check_run", rerun("widgets", "alice", 77, j.ID))
	if got := r.deliver("check_run", rerun("widgets", "alice", 77, j.ID)); len(got.Jobs) != 0 {
		t.Errorf("a redelivered re-run made a job: %v", got.Jobs)
	}
	js, _, _ := r.db.Jobs(context.Background(), patchpanda.JobFilter{})
	if len(js) != 2 {
		t.Errorf("%d jobs, want the command's and one re-run", len(js))
	}
}

func TestReplaysFromTheAPIPassTheSameGates(t *testing.T) {
	r := newRig(t, rbacYAML)
	ctx := context.Background()
	r.deliver("issue_comment", comment("gadgets", "bob", "/patchpanda generate", 1))
	j := r.job("gadgets")
	key := &patchpanda.Principal{Kind: patchpanda.PrincipalKey, Name: "ops", KeyID: 3, Scopes: []patchpanda.Scope{patchpanda.ScopeJobsWrite}}
	user := func(login string) *patchpanda.Principal {
		return &patchpanda.Principal{Kind: patchpanda.PrincipalGitHubUser, Name: login, Scopes: []patchpanda.Scope{patchpanda.ScopeJobsWrite}}
	}
	r.gh.SetPermission("acme/gadgets", "eve", "admin")
	cases := []struct {
		name    string
		who     *patchpanda.Principal
		over    bool
		allowed bool
		reason  string
	}{
		{"an API key within budget", key, false, true, ""},
		{"an API key over budget", key, true, false, "over its budget"},
		{"a GitHub user with a developer team", user("bob"), false, true, "developer"},
		{"a GitHub user over budget", user("bob"), true, false, "over its budget"},
		{"a GitHub user blocked on that repository only", user("eve"), false, false, "eve is blocked on acme/gadgets"},
		{"a GitHub user without permission", user("mallory"), false, false, "no permission"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.budget["acme/gadgets"] = dispatch.Budget{Project: "team-a", Over: c.over, Detail: "spent $41.00 of $1.00"}
			v, err := r.d.DecideReplay(ctx, j, c.who)
			if err != nil {
				t.Fatal(err)
			}
			if v.Allowed != c.allowed || !strings.Contains(v.Reason, c.reason) {
				t.Errorf("verdict = %+v, want allowed=%v with %q", v, c.allowed, c.reason)
			}
		})
	}
}

func TestTeamLookupErrorsFailClosed(t *testing.T) {
	r := newRig(t, rbacYAML)
	// GitHub fails the membership look-up (olga's blocked team): no job,
	// and the delivery fails to be retried rather than let her through.
	r.gh.FailNext("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", 502, 10)
	r.n++
	_, err := r.d.Handle(context.Background(), patchpanda.Delivery{AppID: r.gh.AppID, DeliveryID: "x", Event: "issue_comment",
		Payload: mustJSON(comment("widgets", "olga", "/patchpanda generate", 9))})
	if err == nil {
		t.Fatal("a failed team look-up decided anyway")
	}
	if got := r.written(); !cmp.Equal(got, rows{}) {
		t.Errorf("rows written: %+v", got)
	}
}

func TestForkPullRequestsNeedATrustedPerson(t *testing.T) {
	r := newRig(t, rbacYAML)
	r.gh.AddPullRequest("acme/widgets", githubtest.PullRequest{Number: 7, Author: "eve", HeadSHA: headSHA, BaseSHA: baseSHA, HeadRepo: "eve/widgets"})
	r.gh.SetPermission("acme/widgets", "carol", "triage")
	// bob is a developer by team but cannot push: not trusted on a fork.
	for _, login := range []string{"carol", "bob"} {
		got := r.deliver("issue_comment", comment("widgets", login, "/patchpanda generate", int64(len(login))))
		if len(got.Jobs) != 0 || len(got.Audit) != 1 || !strings.HasPrefix(got.Audit[0], "command.denied") {
			t.Errorf("%s on a fork: %+v, want one denial", login, got)
		}
	}
	check(t, r.deliver("issue_comment", comment("widgets", "alice", "/patchpanda generate", 99)), accepted("acme/widgets", "alice"))
}
