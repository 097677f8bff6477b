package githubapp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestInstallation(t *testing.T) {
	e := setup(t, setupOptions{})
	got, err := e.c.Installation(e.ctx, e.inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &githubapp.Installation{
		ID: e.inst.ID, Account: "octo", AccountID: e.inst.AccountID, AccountType: "Organization",
		RepositorySelection: "selected", Permissions: githubtest.DefaultPermissions(), Events: e.inst.Events,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("installation (-want +got):\n%s", diff)
	}
	if _, err := e.c.Installation(e.ctx, 1); !errors.Is(err, githubapp.ErrNotFound) {
		t.Errorf("unknown installation: err = %v", err)
	}
}

func TestHookDeliveriesPageWithCursor(t *testing.T) {
	e := setup(t, setupOptions{})
	var want []int64
	for i := range 5 {
		d := e.gh.AddHookDelivery(githubtest.HookDelivery{
			Event: "issue_comment", Action: "created", InstallationID: e.inst.ID, RepositoryID: 9,
			Status: "Invalid HTTP Response: 503", StatusCode: 503 - i%2*301, DeliveredAt: t0.Add(time.Duration(i) * time.Minute),
		})
		want = append([]int64{d.ID}, want...) // newest first
	}
	var got []int64
	var first githubapp.HookDelivery
	cursor, pages := "", 0
	for {
		list, next, err := e.c.HookDeliveries(e.ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 {
			first = list[0]
		}
		pages++
		for _, d := range list {
			got = append(got, d.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery ids (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	all := e.gh.HookDeliveries()
	newest := all[len(all)-1]
	wantFirst := githubapp.HookDelivery{
		ID: newest.ID, GUID: newest.GUID, DeliveredAt: newest.DeliveredAt, Status: newest.Status,
		StatusCode: newest.StatusCode, Event: "issue_comment", Action: "created", InstallationID: e.inst.ID, RepositoryID: 9,
	}
	if diff := cmp.Diff(wantFirst, first); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
	if !first.Failed() {
		t.Errorf("a 503 delivery is not Failed")
	}
	if q := e.gh.CallsTo(githubtest.RouteListDeliveries)[1].Query; q.Get("per_page") != "2" || q.Get("cursor") == "" {
		t.Errorf("second page query = %v", q)
	}

	t.Run("redeliver asks GitHub to send it again", func(t *testing.T) {
		if err := e.c.Redeliver(e.ctx, newest.ID); err != nil {
			t.Fatal(err)
		}
		after := e.gh.HookDeliveries()
		last := after[len(after)-1]
		if len(after) != 6 || !last.Redelivery || last.GUID != newest.GUID {
			t.Errorf("deliveries after redelivery: %+v", last)
		}
		if err := e.c.Redeliver(e.ctx, 123); !errors.Is(err, githubapp.ErrNotFound) {
			t.Errorf("unknown delivery: err = %v", err)
		}
	})
}

func TestContents(t *testing.T) {
	e := setup(t, setupOptions{})
	big := strings.Repeat("line of yaml: true\n", 40)
	e.gh.SetFile("octo/widgets", "abc123", ".testbot.yml", []byte(big))
	e.gh.SetFile("octo/widgets", "main", ".testbot.yml", []byte("on: main\n"))
	e.gh.SetFile("octo/widgets", "main", "dir/a.go", []byte("package a\n"))
	tests := []struct {
		name, repo, path, ref string
		want                  string
		wantErr               error
		wantCode              string
	}{
		{"file at a sha", "widgets", ".testbot.yml", "abc123", big, nil, ""},
		{"file on the default branch", "widgets", ".testbot.yml", "", "on: main\n", nil, ""},
		{"missing file is not found", "widgets", "nope.yml", "abc123", "", githubapp.ErrNotFound, patchpanda.ENOTFOUND},
		{"file missing at that ref is not found", "widgets", "dir/a.go", "abc123", "", githubapp.ErrNotFound, patchpanda.ENOTFOUND},
		{"repository outside the installation is not found", "elsewhere", ".testbot.yml", "", "", githubapp.ErrNotFound, patchpanda.ENOTFOUND},
		{"directory is not a file", "widgets", "dir", "", "", nil, patchpanda.EINVALID},
		{"dot-dot path is refused", "widgets", "../etc/passwd", "", "", nil, patchpanda.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := e.c.Contents(e.ctx, e.inst.ID, "octo", tt.repo, tt.path, tt.ref)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantCode != "" {
				if got := patchpanda.ErrorCode(err); got != tt.wantCode {
					t.Errorf("code = %q, want %q (err %v)", got, tt.wantCode, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Content) != tt.want || f.Path != tt.path || len(f.SHA) != 40 {
				t.Errorf("file = %q %q %q", f.Path, f.SHA, f.Content)
			}
		})
	}
	if q := e.gh.CallsTo(githubtest.RouteGetContents)[0].Query.Get("ref"); q != "abc123" {
		t.Errorf("ref sent = %q", q)
	}
}

func TestWhoMayDoWhat(t *testing.T) {
	e := setup(t, setupOptions{})
	e.gh.SetPermission("octo/widgets", "mona", "maintain")
	e.gh.SetPermission("octo/widgets", "hubot", "admin")
	e.gh.SetTeamMember("octo", "testers", "mona", "maintainer", "active")
	e.gh.SetTeamMember("octo", "testers", "newbie", "member", "pending")

	t.Run("collaborator permission", func(t *testing.T) {
		for user, want := range map[string]githubapp.Permission{
			"mona":     {Permission: "write", Role: "maintain"},
			"hubot":    {Permission: "admin", Role: "admin"},
			"stranger": {Permission: "none", Role: "none"},
		} {
			got, err := e.c.CollaboratorPermission(e.ctx, e.inst.ID, "octo", "widgets", user)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", user, diff)
			}
		}
		if _, err := e.c.CollaboratorPermission(e.ctx, e.inst.ID, "octo", "elsewhere", "mona"); !errors.Is(err, githubapp.ErrNotFound) {
			t.Errorf("unknown repository: err = %v", err)
		}
	})
	t.Run("team membership", func(t *testing.T) {
		tests := []struct {
			user, org string
			want      githubapp.Membership
			active    bool
		}{
			{"mona", "octo", githubapp.Membership{State: "active", Role: "maintainer"}, true},
			{"newbie", "octo", githubapp.Membership{State: "pending", Role: "member"}, false},
			{"stranger", "octo", githubapp.Membership{}, false},
			{"mona", "another-org", githubapp.Membership{}, false},
		}
		for _, tt := range tests {
			got, err := e.c.TeamMembership(e.ctx, e.inst.ID, tt.org, "testers", tt.user)
			if err != nil {
				t.Fatalf("%s in %s: %v", tt.user, tt.org, err)
			}
			if got != tt.want || got.Active() != tt.active {
				t.Errorf("%s in %s: got %+v, want %+v", tt.user, tt.org, got, tt.want)
			}
		}
	})
	t.Run("person calling with their own token", func(t *testing.T) {
		e.gh.AddUser("gho_mona", githubtest.User{Login: "mona", ID: 583231, Name: "Mona"})
		u, err := e.c.AuthenticatedUser(e.ctx, "gho_mona")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&githubapp.User{Login: "mona", ID: 583231, Type: "User", Name: "Mona"}, u); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		m, err := e.c.UserTeamMembership(e.ctx, "gho_mona", "octo", "testers", "mona")
		if err != nil || !m.Active() {
			t.Errorf("membership = %+v, %v", m, err)
		}
		if _, err := e.c.AuthenticatedUser(e.ctx, "gho_forged"); !errors.Is(err, githubapp.ErrUnauthorized) {
			t.Errorf("forged token: err = %v, want ErrUnauthorized", err)
		}
		if _, err := e.c.AuthenticatedUser(e.ctx, ""); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("empty token: err = %v, want EINVALID", err)
		}
		if c := e.gh.CallsTo(githubtest.RouteGetUser)[0]; c.Auth != githubtest.AuthUser || c.User != "mona" {
			t.Errorf("GET /user call = %+v", c)
		}
	})
}

func TestPullRequestAndItsFiles(t *testing.T) {
	e := setup(t, setupOptions{})
	var files []githubtest.PullRequestFile
	var want []githubapp.PullRequestFile
	for i := range 250 {
		f := githubtest.PullRequestFile{Filename: fmt.Sprintf("pkg/f%03d.go", i), Additions: i, Deletions: 1, Patch: fmt.Sprintf("@@ -1 +1,%d @@\n+x", i)}
		if i == 3 {
			f.Status, f.PreviousFilename = "renamed", "old.go"
		}
		files = append(files, f)
		status := f.Status
		if status == "" {
			status = "modified"
		}
		want = append(want, githubapp.PullRequestFile{Filename: f.Filename, PreviousFilename: f.PreviousFilename, Status: status, Additions: i, Deletions: 1, Patch: f.Patch})
	}
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{
		Number: 12, Title: "Add things", Author: "mona", AuthorAssociation: "FIRST_TIME_CONTRIBUTOR",
		HeadSHA: "headsha", HeadRef: "feature", HeadRepo: "mona/widgets", BaseSHA: "basesha", Files: files,
	})
	pr, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 12)
	if err != nil {
		t.Fatal(err)
	}
	wantPR := &githubapp.PullRequest{
		Number: 12, Title: "Add things", State: "open", Author: "mona", AuthorAssociation: "FIRST_TIME_CONTRIBUTOR",
		HeadSHA: "headsha", HeadRef: "feature", HeadRepo: "mona/widgets", BaseSHA: "basesha", BaseRef: "main",
		BaseRepo: "octo/widgets", HTMLURL: "https://github.com/octo/widgets/pull/12",
	}
	if diff := cmp.Diff(wantPR, pr); diff != "" {
		t.Errorf("pull request (-want +got):\n%s", diff)
	}
	if !pr.Fork() {
		t.Error("a PR from mona/widgets is not a fork")
	}
	got, err := e.c.PullRequestFiles(e.ctx, e.inst.ID, "octo", "widgets", 12)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if n := len(e.gh.CallsTo(githubtest.RouteListPullFiles)); n != 3 {
		t.Errorf("pages fetched = %d, want 3", n)
	}
	if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 99); !errors.Is(err, githubapp.ErrNotFound) {
		t.Errorf("unknown PR: err = %v", err)
	}
}

func TestCommentsAndReactions(t *testing.T) {
	e := setup(t, setupOptions{})
	trigger := e.gh.AddComment(githubtest.Comment{Repo: "octo/widgets", Number: 5, Body: "/patchpanda generate", User: "mona"})
	for i := range 140 {
		e.gh.AddComment(githubtest.Comment{Repo: "octo/widgets", Number: 5, Body: fmt.Sprintf("chatter %d", i), User: "mona"})
	}

	if err := e.c.ReactToComment(e.ctx, e.inst.ID, "octo", "widgets", trigger.ID, "eyes"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.ReactToComment(e.ctx, e.inst.ID, "octo", "widgets", trigger.ID, "eyes"); err != nil {
		t.Fatalf("reacting twice: %v", err)
	}
	if diff := cmp.Diff([]githubtest.Reaction{{CommentID: trigger.ID, Content: "eyes", Repo: "octo/widgets", User: "patchpanda[bot]"}},
		e.gh.Reactions(), cmpIgnoreReactionID); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	if err := e.c.ReactToComment(e.ctx, e.inst.ID, "octo", "widgets", trigger.ID, "thumbsup"); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("bad reaction: err = %v", err)
	}

	const marker = "<!-- patchpanda:sticky -->"
	created, err := e.c.CreateComment(e.ctx, e.inst.ID, "octo", "widgets", 5, marker+"\nDenied: you may not trigger runs.")
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.Author != "patchpanda[bot]" || created.AuthorType != "Bot" {
		t.Errorf("created = %+v", created)
	}
	all, err := e.c.Comments(e.ctx, e.inst.ID, "octo", "widgets", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 142 {
		t.Fatalf("listed %d comments, want 142", len(all))
	}
	var sticky *githubapp.Comment
	for i := range all {
		if strings.Contains(all[i].Body, marker) {
			sticky = &all[i]
		}
	}
	if sticky == nil || sticky.ID != created.ID {
		t.Fatalf("sticky comment not found by marker")
	}
	e.clock.Advance(time.Minute)
	updated, err := e.c.UpdateComment(e.ctx, e.inst.ID, "octo", "widgets", sticky.ID, marker+"\nAllowed now.")
	if err != nil {
		t.Fatal(err)
	}
	if !updated.UpdatedAt.After(updated.CreatedAt) {
		t.Errorf("updated comment times: %v / %v", updated.CreatedAt, updated.UpdatedAt)
	}
	got := e.gh.Comments("octo/widgets", 5)
	if last := got[len(got)-1]; last.Body != marker+"\nAllowed now." || last.Edits != 1 {
		t.Errorf("stored comment = %+v", last)
	}
	if _, err := e.c.UpdateComment(e.ctx, e.inst.ID, "octo", "widgets", 1, "x"); !errors.Is(err, githubapp.ErrNotFound) {
		t.Errorf("unknown comment: err = %v", err)
	}
}

var cmpIgnoreReactionID = cmp.Transformer("noID", func(r githubtest.Reaction) githubtest.Reaction { r.ID = 0; return r })

func TestCheckRunLifecycle(t *testing.T) {
	e := setup(t, setupOptions{})
	const name = "PatchPanda / tests"
	cr, err := e.c.CreateCheckRun(e.ctx, e.inst.ID, "octo", "widgets", githubapp.CheckRunOptions{
		Name: name, HeadSHA: "headsha", Status: "queued", ExternalID: "job-1", DetailsURL: "https://relay.example/jobs/1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.ID == 0 || cr.Status != "queued" || cr.ExternalID != "job-1" {
		t.Errorf("created = %+v", cr)
	}
	if _, err := e.c.UpdateCheckRun(e.ctx, e.inst.ID, "octo", "widgets", cr.ID, githubapp.CheckRunOptions{Name: name, Status: "in_progress",
		Output: &githubapp.CheckRunOutput{Title: "Generating", Summary: "Working on it"}}); err != nil {
		t.Fatal(err)
	}
	var annotations []githubapp.Annotation
	for i := range 120 {
		annotations = append(annotations, githubapp.Annotation{Path: "a.go", StartLine: i + 1, EndLine: i + 1, Level: "warning", Message: "uncovered"})
	}
	done, err := e.c.UpdateCheckRun(e.ctx, e.inst.ID, "octo", "widgets", cr.ID, githubapp.CheckRunOptions{Name: name, Conclusion: "success",
		Output: &githubapp.CheckRunOutput{Title: "3 tests added", Summary: "Coverage 81%", Text: "details", Annotations: annotations}})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "completed" || done.Conclusion != "success" {
		t.Errorf("done = %+v", done)
	}

	runs := e.gh.CheckRuns("octo/widgets")
	if len(runs) != 1 {
		t.Fatalf("check runs = %d", len(runs))
	}
	var history []string
	for _, h := range runs[0].History {
		history = append(history, fmt.Sprintf("%s/%s/%s/%d", h.Status, h.Conclusion, h.Output.Title, len(h.Output.Annotations)))
	}
	wantHistory := []string{"queued///0", "in_progress//Generating/0", "completed/success/3 tests added/50", "completed/success/3 tests added/100", "completed/success/3 tests added/120"}
	if diff := cmp.Diff(wantHistory, history); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got := runs[0]; got.CompletedAt.IsZero() || got.HeadSHA != "headsha" || got.DetailsURL != "https://relay.example/jobs/1" {
		t.Errorf("final run = %+v", got)
	}

	t.Run("options GitHub would refuse are refused before calling", func(t *testing.T) {
		before := len(e.gh.Calls())
		bad := []githubapp.CheckRunOptions{
			{HeadSHA: "x"},
			{Name: name},
			{Name: name, HeadSHA: "x", Status: "completed"},
			{Name: name, HeadSHA: "x", Conclusion: "great"},
			{Name: name, HeadSHA: "x", Output: &githubapp.CheckRunOutput{Title: "t"}},
			{Name: name, HeadSHA: "x", Output: &githubapp.CheckRunOutput{Title: "t", Summary: "s", Annotations: []githubapp.Annotation{{Path: "a", StartLine: 3, EndLine: 2, Level: "warning", Message: "m"}}}},
		}
		for i, o := range bad {
			if _, err := e.c.CreateCheckRun(e.ctx, e.inst.ID, "octo", "widgets", o); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
				t.Errorf("case %d: err = %v, want EINVALID", i, err)
			}
		}
		if after := len(e.gh.Calls()); after != before {
			t.Errorf("%d calls made", after-before)
		}
	})
	t.Run("an installation without checks permission is forbidden", func(t *testing.T) {
		inst := e.gh.AddInstallation(githubtest.Installation{Account: "readonly", Repositories: []patchpanda.Repository{{Name: "r"}},
			Permissions: map[string]string{"metadata": "read", "contents": "read"}})
		_, err := e.c.CreateCheckRun(e.ctx, inst.ID, "readonly", "r", githubapp.CheckRunOptions{Name: name, HeadSHA: "x"})
		if !errors.Is(err, githubapp.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
	})
}
