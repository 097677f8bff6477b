package webhook_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

var (
	ledger  = patchpanda.Repository{Owner: "acme-labs", Name: "ledger", ID: 700111222}
	maria   = webhook.User{Login: "maria-dev", ID: 4410021, Type: "User"}
	headSHA = "3f9d2a7c1e5b4d6f8a0b2c4e6d8f0a1b3c5d7e9f"
	baseSHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
)

const installationID = 51234567

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		fixture string
		want    webhook.Event
	}{
		{
			name: "ping to an App webhook", event: "ping", fixture: "ping.json",
			want: &webhook.PingEvent{Zen: "Keep it logically awesome.", HookID: 480112233, AppID: 912345, Sender: maria},
		},
		{
			name: "command comment on a pull request", event: "issue_comment", fixture: "issue_comment_created_on_pr.json",
			want: &webhook.IssueCommentEvent{
				Action:            "created",
				CommentID:         2120001001,
				Body:              "Looks good.\r\n\r\n/patchpanda generate internal/money --framework testify",
				User:              maria,
				AuthorAssociation: "MEMBER",
				IssueNumber:       42,
				IsPullRequest:     true,
				Repository:        ledger,
				InstallationID:    installationID,
				Sender:            maria,
			},
		},
		{
			name: "bot edits a comment on a plain issue", event: "issue_comment", fixture: "issue_comment_edited_on_issue_by_bot.json",
			want: &webhook.IssueCommentEvent{
				Action:            "edited",
				CommentID:         2120001002,
				Body:              "Dependency dashboard updated.",
				User:              webhook.User{Login: "renovate[bot]", ID: 29139614, Type: "Bot"},
				AuthorAssociation: "NONE",
				IssueNumber:       17,
				IsPullRequest:     false,
				Repository:        ledger,
				InstallationID:    installationID,
				Sender:            webhook.User{Login: "renovate[bot]", ID: 29139614, Type: "Bot"},
			},
		},
		{
			name: "pull request opened from a fork", event: "pull_request", fixture: "pull_request_opened_from_fork.json",
			want: &webhook.PullRequestEvent{
				Action: "opened", Number: 43,
				HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "feature/rounding", BaseRef: "main",
				HeadRepo: "outside-contrib/ledger", BaseRepo: "acme-labs/ledger", IsFork: true,
				User:       webhook.User{Login: "outside-contrib", ID: 5550001, Type: "User"},
				Repository: ledger, InstallationID: installationID,
				Sender: webhook.User{Login: "outside-contrib", ID: 5550001, Type: "User"},
			},
		},
		{
			name: "draft pull request synchronized from the same repository", event: "pull_request", fixture: "pull_request_synchronize_draft.json",
			want: &webhook.PullRequestEvent{
				Action: "synchronize", Number: 42,
				HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "feature/rounding", BaseRef: "main",
				HeadRepo: "acme-labs/ledger", BaseRepo: "acme-labs/ledger", IsFork: false, Draft: true,
				User: maria, Repository: ledger, InstallationID: installationID, Sender: maria,
			},
		},
		{
			name: "merged pull request whose head repository was deleted counts as a fork", event: "pull_request", fixture: "pull_request_closed_head_deleted.json",
			want: &webhook.PullRequestEvent{
				Action: "closed", Number: 44,
				HeadSHA: headSHA, BaseSHA: baseSHA, HeadRef: "patch-1", BaseRef: "main",
				HeadRepo: "", BaseRepo: "acme-labs/ledger", IsFork: true, Merged: true,
				User: maria, Repository: ledger, InstallationID: installationID, Sender: maria,
			},
		},
		{
			name: "check run re-run requested", event: "check_run", fixture: "check_run_rerequested.json",
			want: &webhook.CheckRunEvent{
				Action: "rerequested", CheckRunID: 25500000001, Name: "PatchPanda / tests",
				ExternalID: "job_01HYB3K2V6", HeadSHA: headSHA, AppID: 912345, PullRequests: []int{42},
				Repository: ledger, InstallationID: installationID, Sender: maria,
			},
		},
		{
			name: "check run button pressed", event: "check_run", fixture: "check_run_requested_action.json",
			want: &webhook.CheckRunEvent{
				Action: "requested_action", CheckRunID: 25500000002, Name: "PatchPanda / tests",
				HeadSHA: headSHA, AppID: 912345, RequestedAction: "retry", PullRequests: []int{42},
				Repository: ledger, InstallationID: installationID, Sender: maria,
			},
		},
		{
			name: "App installed on selected repositories", event: "installation", fixture: "installation_created.json",
			want: &webhook.InstallationEvent{
				Action: "created", InstallationID: installationID, Account: "acme-labs", AccountID: 9001, AccountType: "Organization",
				AppID: 912345, RepositorySelection: "selected",
				Repositories: []patchpanda.Repository{ledger, {Owner: "acme-labs", Name: "billing-api", ID: 700111333}},
				Sender:       maria,
			},
		},
		{
			name: "App uninstalled", event: "installation", fixture: "installation_deleted.json",
			want: &webhook.InstallationEvent{
				Action: "deleted", InstallationID: installationID, Account: "acme-labs", AccountID: 9001, AccountType: "Organization",
				AppID: 912345, RepositorySelection: "selected", Sender: maria,
			},
		},
		{
			name: "repository added to an installation", event: "installation_repositories", fixture: "installation_repositories_added.json",
			want: &webhook.InstallationRepositoriesEvent{
				Action: "added", InstallationID: installationID, Account: "acme-labs", AccountID: 9001, RepositorySelection: "selected",
				Added:  []patchpanda.Repository{{Owner: "acme-labs", Name: "payroll", ID: 700111444}},
				Sender: maria,
			},
		},
		{
			name: "an event PatchPanda ignores is a value, not an error", event: "push", fixture: "push.json",
			want: &webhook.UnknownEvent{Name: "push"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.Parse(tt.event, readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s, %s) mismatch (-want +got):\n%s", tt.event, tt.fixture, diff)
			}
			if got.EventName() != tt.event {
				t.Errorf("EventName() = %q, want %q", got.EventName(), tt.event)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const repo = `"repository":{"id":1,"name":"r","owner":{"login":"o"}}`
	tests := []struct {
		name    string
		event   string
		payload string
		wantMsg string
	}{
		{"an empty event name", "", `{}`, "missing event name"},
		{"a payload that is not JSON", "issue_comment", `{"action":"created"`, "issue_comment: body is not valid JSON"},
		{"a payload that is not an object", "ping", `"zen"`, "ping: body is not a JSON object"},
		{"an unknown event whose payload is not JSON", "push", `nope`, "push: body is not valid JSON"},
		{
			"an issue comment without comment or issue", "issue_comment",
			`{"action":"created",` + repo + `}`,
			"issue_comment: missing comment.id, comment.user.login, issue.number",
		},
		{
			"an issue comment with a null comment id", "issue_comment",
			`{"action":"created","comment":{"id":null,"user":{"login":"u"}},"issue":{"number":1},` + repo + `}`,
			"issue_comment: missing comment.id",
		},
		{
			"an issue comment without repository", "issue_comment",
			`{"action":"created","comment":{"id":3,"user":{"login":"u"}},"issue":{"number":1}}`,
			"issue_comment: missing repository",
		},
		{
			"an issue comment whose repository lacks an owner", "issue_comment",
			`{"action":"created","comment":{"id":3,"user":{"login":"u"}},"issue":{"number":1},"repository":{"id":1,"name":"r"}}`,
			"issue_comment: missing repository.owner.login",
		},
		{
			"an issue comment without action", "issue_comment",
			`{"comment":{"id":3,"user":{"login":"u"}},"issue":{"number":1},` + repo + `}`,
			"issue_comment: missing action",
		},
		{
			"a comment id of the wrong type, naming its path", "issue_comment",
			`{"action":"created","comment":{"id":"3"}}`,
			"issue_comment: comment.id: want an integer, got JSON string",
		},
		{
			"a repository id of the wrong type, naming its index", "installation_repositories",
			`{"action":"added","installation":{"id":1},"repositories_added":[{"id":"70","full_name":"a/b"}]}`,
			"installation_repositories: repositories_added[0].id: want an integer, got JSON string",
		},
		{
			"a syntax error after a field of the wrong type", "issue_comment",
			`{"action":"created","comment":{"id":"3"},}`,
			"issue_comment: body is not valid JSON",
		},
		{
			"a fractional issue number", "issue_comment",
			`{"action":"created","issue":{"number":1.5}}`,
			"issue_comment: issue.number: want an integer, got JSON number 1.5",
		},
		{
			"a pull request event without pull_request", "pull_request",
			`{"action":"opened","number":3,` + repo + `}`,
			"pull_request: missing pull_request",
		},
		{
			"a pull request without shas or base repository", "pull_request",
			`{"action":"opened","number":3,"pull_request":{"head":{},"base":{}},` + repo + `}`,
			"pull_request: missing pull_request.head.sha, pull_request.base.sha, pull_request.base.repo.full_name",
		},
		{
			"a check run without app", "check_run",
			`{"action":"rerequested","check_run":{"id":9,"name":"n","head_sha":"abc"},` + repo + `}`,
			"check_run: missing check_run.app.id",
		},
		{
			"a requested action without identifier", "check_run",
			`{"action":"requested_action","check_run":{"id":9,"name":"n","head_sha":"abc","app":{"id":2}},` + repo + `}`,
			"check_run: missing requested_action.identifier",
		},
		{
			"an installation without account", "installation",
			`{"action":"created","installation":{"id":7}}`,
			"installation: missing installation.account.login",
		},
		{
			"an installation event without installation", "installation",
			`{"action":"deleted"}`,
			"installation: missing installation",
		},
		{
			"an added repository without full name, by index", "installation_repositories",
			`{"action":"added","installation":{"id":7,"account":{"login":"a"}},"repositories_added":[{"id":1,"full_name":"a/b"},{"id":2,"name":"c"}]}`,
			"installation_repositories: missing repositories_added[1].full_name (owner/name)",
		},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			ev, err := webhook.Parse(tt.event, []byte(tt.payload))
			if ev != nil {
				t.Errorf("Parse returned %#v with error %v", ev, err)
			}
			if code := patchpanda.ErrorCode(err); code != patchpanda.EINVALID {
				t.Fatalf("Parse error = %v (code %q), want code %q", err, code, patchpanda.EINVALID)
			}
			if msg := patchpanda.ErrorMessage(err); msg != tt.wantMsg {
				t.Errorf("Parse error message = %q, want %q", msg, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "webhook: parse: ") {
				t.Errorf("Parse error %q lacks its context prefix", err)
			}
		})
	}
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		payload string
		want    webhook.Event
	}{
		{
			name:  "an issue comment with a null pull_request key is not on a pull request",
			event: "issue_comment",
			payload: `{"action":"deleted","comment":{"id":3,"user":{"login":"u","type":"User"}},` +
				`"issue":{"number":1,"pull_request":null},"repository":{"id":1,"name":"r","owner":{"login":"o"}}}`,
			want: &webhook.IssueCommentEvent{
				Action: "deleted", CommentID: 3, User: webhook.User{Login: "u", Type: "User"}, IssueNumber: 1,
				Repository: patchpanda.Repository{Owner: "o", Name: "r", ID: 1},
			},
		},
		{
			name:  "a pull request number is taken from pull_request.number when the top-level one is absent",
			event: "pull_request",
			payload: `{"action":"reopened","pull_request":{"number":8,"head":{"sha":"h","repo":{"full_name":"O/R"}},` +
				`"base":{"sha":"b","repo":{"full_name":"o/r"}}},"repository":{"id":1,"name":"r","owner":{"login":"o"}}}`,
			want: &webhook.PullRequestEvent{
				Action: "reopened", Number: 8, HeadSHA: "h", BaseSHA: "b", HeadRepo: "O/R", BaseRepo: "o/r",
				IsFork: false, Repository: patchpanda.Repository{Owner: "o", Name: "r", ID: 1},
			},
		},
		{
			name:  "an enterprise installation names its account by slug",
			event: "installation",
			payload: `{"action":"suspend","installation":{"id":7,"target_type":"Enterprise",` +
				`"account":{"slug":"big-corp","id":3}}}`,
			want: &webhook.InstallationEvent{
				Action: "suspend", InstallationID: 7, Account: "big-corp", AccountID: 3, AccountType: "Enterprise",
			},
		},
		{
			name:    "an unknown event keeps its action",
			event:   "pull_request_review",
			payload: `{"action":"submitted"}`,
			want:    &webhook.UnknownEvent{Name: "pull_request_review", Action: "submitted"},
		},
		{
			name:    "a ping with nothing but braces",
			event:   "ping",
			payload: ` {} `,
			want:    &webhook.PingEvent{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.Parse(tt.event, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPullRequestEventPullRequest(t *testing.T) {
	e := &webhook.PullRequestEvent{Number: 42, HeadSHA: "h", BaseSHA: "b"}
	want := patchpanda.PullRequest{Number: 42, HeadSHA: "h", BaseSHA: "b"}
	if diff := cmp.Diff(want, e.PullRequest()); diff != "" {
		t.Errorf("PullRequest() mismatch (-want +got):\n%s", diff)
	}
}

func TestUserIsBot(t *testing.T) {
	if !(webhook.User{Type: "Bot"}).IsBot() || (webhook.User{Type: "User"}).IsBot() {
		t.Error("IsBot does not follow the account type")
	}
}

// The decoder takes the JSON encoding/json took, so that no payload the
// relay accepted before is refused now: a name given twice (the last
// wins), names in any case, invalid UTF-8 (replaced with U+FFFD).
func TestParseTakesWhatEncodingJSONTook(t *testing.T) {
	const tail = `"comment":{"id":3,"user":{"login":"u"}},"issue":{"number":1},"repository":{"id":1,"name":"r","owner":{"login":"o"}}}`
	tests := []struct {
		name, payload string
		action, body  string
	}{
		{"a name given twice", `{"action":"edited","action":"created",` + tail, "created", ""},
		{"a name in capitals", `{"ACTION":"created",` + tail, "created", ""},
		{"invalid UTF-8 in a string", `{"action":"created","comment":{"id":3,"body":"a` + "\xff" + `b","user":{"login":"u"}},"issue":{"number":1},"repository":{"id":1,"name":"r","owner":{"login":"o"}}}`, "created", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := webhook.Parse("issue_comment", []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			c := ev.(*webhook.IssueCommentEvent)
			if c.Action != tt.action || c.Body != tt.body {
				t.Errorf("Parse = action %q, body %q; want %q, %q", c.Action, c.Body, tt.action, tt.body)
			}
		})
	}
	if _, err := webhook.Parse("ping", []byte(`"`+"\xff"+`"`)); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("Parse of a string with invalid UTF-8 = %v, want it named not a JSON object", err)
	}
}
