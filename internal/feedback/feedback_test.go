package feedback_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const headSHA = "1111111111111111111111111111111111111111"

func TestRenderShowsTheJobsState(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(time.Minute)
	type fields struct {
		Status, Conclusion, Title string
		StartedAt, CompletedAt    time.Time
		SummaryHas                []string
	}
	cases := []struct {
		name string
		job  patchpanda.Job
		want fields
	}{
		{"queued waits for a worker", patchpanda.Job{State: patchpanda.JobQueued},
			fields{Status: "queued", Title: "Queued", SummaryHas: []string{"Waiting for a worker."}}},
		{"running shows the latest progress", patchpanda.Job{State: patchpanda.JobRunning, StartedAt: &start, Message: "writing tests"},
			fields{Status: "in_progress", Title: "Generating tests", StartedAt: start, SummaryHas: []string{"Latest progress: writing tests"}}},
		{"succeeded links the pull request and shows the cost", patchpanda.Job{State: patchpanda.JobSucceeded, FinishedAt: &end, ResultURL: "https://github.com/acme/widgets/pull/8", CostMicros: 420000, BillingProject: "team-a"},
			fields{Status: "completed", Conclusion: "success", Title: "Tests generated", CompletedAt: end,
				SummaryHas: []string{"Done: https://github.com/acme/widgets/pull/8", "| Cost | $0.42 |", "| Billing project | team-a |"}}},
		{"failed gives the reason", patchpanda.Job{State: patchpanda.JobFailed, FinishedAt: &end, Message: "model timed out"},
			fields{Status: "completed", Conclusion: "failure", Title: "Test generation failed", CompletedAt: end, SummaryHas: []string{"Failed: model timed out"}}},
		{"failed without a reason says so", patchpanda.Job{State: patchpanda.JobFailed},
			fields{Status: "completed", Conclusion: "failure", Title: "Test generation failed", SummaryHas: []string{"Failed: no reason given"}}},
		{"cancelled", patchpanda.Job{State: patchpanda.JobCancelled, FinishedAt: &end},
			fields{Status: "completed", Conclusion: "cancelled", Title: "Cancelled", CompletedAt: end, SummaryHas: []string{"Cancelled."}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := c.job
			j.ID, j.Attempt, j.RequestedBy, j.Trigger = "job_1", 2, "alice", patchpanda.TriggerComment
			j.PullRequest.HeadSHA = headSHA
			got := feedback.Render(&j)
			if got.Name != feedback.CheckName || got.HeadSHA != headSHA || got.ExternalID != "job_1" {
				t.Errorf("name, head, external id = %q %q %q", got.Name, got.HeadSHA, got.ExternalID)
			}
			gf := fields{Status: got.Status, Conclusion: got.Conclusion, Title: got.Output.Title, StartedAt: got.StartedAt, CompletedAt: got.CompletedAt, SummaryHas: c.want.SummaryHas}
			if d := cmp.Diff(c.want, gf); d != "" {
				t.Errorf("check run (-want +got):\n%s", d)
			}
			for _, s := range append(c.want.SummaryHas, "@alice (comment)", "`job_1`, attempt 2") {
				if !strings.Contains(got.Output.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, got.Output.Summary)
				}
			}
			if c.job.CostMicros == 0 && strings.Contains(got.Output.Summary, "Cost") {
				t.Errorf("summary shows a cost for a job that cost nothing")
			}
		})
	}
}

// sender is a Sender over a real store and the fake GitHub, with one
// installation of acme/widgets.
func sender(t *testing.T) (*feedback.Sender, *githubtest.Server, *store.DB) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(githubtest.Installation{ID: 100, Account: "acme", Repositories: []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 7001}}})
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL(), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	return &feedback.Sender{GitHub: client, DB: db}, gh, db
}

func newJob(t *testing.T, db *store.DB) *patchpanda.Job {
	t.Helper()
	j := &patchpanda.Job{ID: patchpanda.NewJobID(time.Now()), Attempt: 1, Kind: patchpanda.JobKindGenerateTests,
		Repository: patchpanda.Repository{Owner: "acme", Name: "widgets", ID: 7001}, InstallationID: 100,
		PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: headSHA}, RequestedBy: "alice", Trigger: patchpanda.TriggerComment}
	if _, err := db.CreateJob(context.Background(), j, 0); err != nil {
		t.Fatal(err)
	}
	return j
}

func send(t *testing.T, s *feedback.Sender, a feedback.Action) error {
	t.Helper()
	b, _ := json.Marshal(a)
	return s.Send(context.Background(), store.OutboxEntry{ID: 1, Kind: store.OutboxGitHub, JobID: a.JobID, Payload: b})
}

func TestAJobHasOneCheckRunUpdatedInPlace(t *testing.T) {
	s, gh, db := sender(t)
	ctx := context.Background()
	j := newJob(t, db)
	if err := send(t, s, feedback.JobCheck(j)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddJobEvent(ctx, j.ID, patchpanda.JobEvent{Type: patchpanda.EventStarted}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, feedback.JobCheck(j)); err != nil {
		t.Fatal(err)
	}
	// Carried out twice (at least once), the same state changes nothing.
	if err := send(t, s, feedback.JobCheck(j)); err != nil {
		t.Fatal(err)
	}
	runs := gh.CheckRuns("acme/widgets")
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	if n := len(gh.CallsTo(githubtest.RouteCreateCheckRun)); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	var statuses []string
	for _, h := range runs[0].History {
		statuses = append(statuses, h.Status)
	}
	if d := cmp.Diff([]string{"queued", "in_progress", "in_progress"}, statuses); d != "" {
		t.Errorf("check run history (-want +got):\n%s", d)
	}
	if runs[0].ExternalID != j.ID {
		t.Errorf("external id %q, want the job id %q", runs[0].ExternalID, j.ID)
	}
}

func TestActionsReachGitHub(t *testing.T) {
	s, gh, _ := sender(t)
	c := gh.AddComment(githubtest.Comment{Repo: "acme/widgets", Number: 7, Body: "/patchpanda generate", User: "alice"})
	for _, a := range []feedback.Action{
		feedback.Reaction(100, "acme/widgets", c.ID, "eyes"),
		feedback.Comment(100, "acme/widgets", 7, "@alice, no."),
		{Type: "check_run", InstallationID: 100, Repository: "acme/widgets",
			Check: &feedback.Check{HeadSHA: headSHA, Conclusion: "action_required", Title: "Over budget", Summary: "over"}},
	} {
		if err := send(t, s, a); err != nil {
			t.Fatalf("%s: %v", a.Type, err)
		}
	}
	if rs := gh.Reactions(); len(rs) != 1 || rs[0].Content != "eyes" {
		t.Errorf("reactions = %+v", rs)
	}
	if cs := gh.Comments("acme/widgets", 7); len(cs) != 2 || cs[1].Body != "@alice, no." {
		t.Errorf("comments = %+v", cs)
	}
	if runs := gh.CheckRuns("acme/widgets"); len(runs) != 1 || runs[0].Conclusion != "action_required" || runs[0].Status != "completed" {
		t.Errorf("check runs = %+v", runs)
	}
	if err := send(t, s, feedback.Action{Type: "telegram", Repository: "acme/widgets"}); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("unknown action: %v, want invalid", err)
	}
}

func TestALostCreateResponseMakesNoSecondCheckRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, gh, _ := sender(t)
		s.DB = db
		ctx := context.Background()
		j := newJob(t, db)
		gh.DropResponseNext(githubtest.RouteCreateCheckRun, 1)
		if err := send(t, s, feedback.JobCheck(j)); err == nil {
			t.Fatal("a create whose answer was lost reported success")
		}
		// The outbox tries again, and a second relay does the same.
		other := &feedback.Sender{GitHub: s.GitHub, DB: db}
		for _, sd := range []*feedback.Sender{s, other} {
			if err := send(t, sd, feedback.JobCheck(j)); err != nil {
				t.Fatalf("retry: %v", err)
			}
		}
		runs := gh.CheckRuns("acme/widgets")
		if len(runs) != 1 {
			t.Fatalf("%d check runs after a lost create answer, want 1", len(runs))
		}
		got, _ := db.Job(ctx, j.ID)
		if got.CheckRunID != runs[0].ID {
			t.Errorf("job records check run %d, want %d", got.CheckRunID, runs[0].ID)
		}
	})
}

func TestTwoRelaysCreateOneCheckRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, gh, _ := sender(t)
		s.DB = db
		j := newJob(t, db)
		// Relay A claimed the creation and is still at it: relay B does
		// not create a second run, and asks to be retried.
		if ok, err := db.ClaimCheckRunCreation(context.Background(), j.ID, time.Minute); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		err := send(t, s, feedback.JobCheck(j))
		var ra interface{ RetryAfter() time.Time }
		if !errors.As(err, &ra) {
			t.Fatalf("second relay: %v, want a retry-after error", err)
		}
		if n := len(gh.CallsTo(githubtest.RouteCreateCheckRun)); n != 0 {
			t.Errorf("%d creates while another relay held the claim", n)
		}
	})
}
