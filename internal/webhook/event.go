package webhook

import (
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Event is a parsed webhook payload. It is one of *PingEvent,
// *IssueCommentEvent, *PullRequestEvent, *CheckRunEvent, *InstallationEvent,
// *InstallationRepositoriesEvent, *RepositoryEvent or *UnknownEvent; use a
// type switch. The set
// is closed so that such a switch can be checked for completeness.
type Event interface {
	// EventName returns the X-GitHub-Event name the event was parsed as.
	EventName() string
	isEvent()
}

// User is a GitHub account as a payload names it.
type User struct {
	Login string
	ID    int64
	Type  string // "User", "Bot" or "Organization"
}

// IsBot reports whether u is a bot account, such as a GitHub App's.
func (u User) IsBot() bool { return u.Type == "Bot" }

// PingEvent is the "ping" GitHub sends when a webhook is created.
type PingEvent struct {
	Zen        string
	HookID     int64
	AppID      int64                  // hook.app_id, for a GitHub App's webhook
	Repository *patchpanda.Repository // nil for App and organization webhooks
	Sender     User
}

// IssueCommentEvent is an "issue_comment": a comment on an issue or a pull
// request was created, edited or deleted.
type IssueCommentEvent struct {
	Action            string // "created", "edited" or "deleted"
	CommentID         int64
	Body              string
	User              User   // who wrote the comment
	AuthorAssociation string // the writer's relation to the repository: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …
	IssueNumber       int
	IsPullRequest     bool // the issue is a pull request (its "pull_request" key is present)
	Repository        patchpanda.Repository
	InstallationID    int64 // 0 when not sent to a GitHub App
	Sender            User
}

// PullRequestEvent is a "pull_request": a pull request was opened,
// synchronized, reopened, closed, and so on.
type PullRequestEvent struct {
	Action         string // "opened", "synchronize", "reopened", "closed", …
	Number         int
	HeadSHA        string
	BaseSHA        string
	HeadRef        string
	BaseRef        string
	HeadRepo       string // head.repo.full_name; "" when the head repository was deleted
	BaseRepo       string // base.repo.full_name
	IsFork         bool   // the head is in another repository than the base (or was deleted)
	Draft          bool
	Merged         bool
	User           User // who opened the pull request
	Repository     patchpanda.Repository
	InstallationID int64 // 0 when not sent to a GitHub App
	Sender         User
}

// PullRequest returns the pull request at the event's pair of commits.
func (e *PullRequestEvent) PullRequest() patchpanda.PullRequest {
	return patchpanda.PullRequest{Number: e.Number, HeadSHA: e.HeadSHA, BaseSHA: e.BaseSHA}
}

// CheckRunEvent is a "check_run": someone asked to re-run a check run, or
// pressed one of its buttons (requested_action).
type CheckRunEvent struct {
	Action          string // "created", "completed", "rerequested" or "requested_action"
	CheckRunID      int64
	Name            string
	ExternalID      string // what the App set when creating the run; "" when unset
	HeadSHA         string
	AppID           int64  // the App that owns the check run
	RequestedAction string // requested_action.identifier, for action "requested_action"
	PullRequests    []int  // numbers of the pull requests the run belongs to
	Repository      patchpanda.Repository
	InstallationID  int64
	Sender          User
}

// InstallationEvent is an "installation": the App was installed, uninstalled,
// suspended or unsuspended, or its new permissions were accepted.
type InstallationEvent struct {
	Action              string // "created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"
	InstallationID      int64
	Account             string // the login (or enterprise slug) the App is installed on
	AccountID           int64  // the account's GitHub id, 0 when the payload lacks it
	AccountType         string // "User", "Organization" or "Enterprise"
	AppID               int64
	RepositorySelection string                  // "all" or "selected"
	Repositories        []patchpanda.Repository // the repositories it was installed on, when listed
	Sender              User
}

// InstallationRepositoriesEvent is an "installation_repositories":
// repositories were added to or removed from an installation.
type InstallationRepositoriesEvent struct {
	Action              string // "added" or "removed"
	InstallationID      int64
	Account             string
	AccountID           int64  // the account's GitHub id, 0 when the payload lacks it
	RepositorySelection string // "all" or "selected"
	Added               []patchpanda.Repository
	Removed             []patchpanda.Repository
	Sender              User
}

// UnknownEvent is any event PatchPanda does not act on. It is a value, not an
// error: GitHub sends events an App subscribed to, and new ones appear.
type UnknownEvent struct {
	Name   string
	Action string // the payload's "action", "" when it has none
}

// EventName returns "ping".
func (*PingEvent) EventName() string { return "ping" }

// EventName returns "issue_comment".
func (*IssueCommentEvent) EventName() string { return "issue_comment" }

// EventName returns "pull_request".
func (*PullRequestEvent) EventName() string { return "pull_request" }

// EventName returns "check_run".
func (*CheckRunEvent) EventName() string { return "check_run" }

// EventName returns "installation".
func (*InstallationEvent) EventName() string { return "installation" }

// EventName returns "installation_repositories".
func (*InstallationRepositoriesEvent) EventName() string { return "installation_repositories" }

// EventName returns the name the event arrived under.
func (e *UnknownEvent) EventName() string { return e.Name }

func (*PingEvent) isEvent()                     {}
func (*IssueCommentEvent) isEvent()             {}
func (*PullRequestEvent) isEvent()              {}
func (*CheckRunEvent) isEvent()                 {}
func (*InstallationEvent) isEvent()             {}
func (*InstallationRepositoriesEvent) isEvent() {}
func (*UnknownEvent) isEvent()                  {}

// Parse parses payload as the webhook event named event (the X-GitHub-Event
// header). An event PatchPanda does not act on gives an *UnknownEvent. It
// returns an EINVALID *patchpanda.Error, wrapped, when event is empty, when
// payload is not a JSON object, when a field has the wrong JSON type, or when
// a field PatchPanda needs is missing; the message names the event and the
// field's path, e.g. "issue_comment: missing comment.id".
func Parse(event string, payload []byte) (Event, error) {
	ev, err := parse(event, payload)
	if err != nil {
		return nil, fmt.Errorf("webhook: parse: %w", err)
	}
	return ev, nil
}

func parse(event string, payload []byte) (Event, error) {
	ev, _, err := parseEnvelope(event, payload)
	return ev, err
}

// parseEnvelope is parse, also returning the envelope every event shares,
// read in the same pass over the payload.
func parseEnvelope(event string, payload []byte) (Event, *wireCommon, error) {
	if event == "" {
		return nil, nil, patchpanda.Errorf(patchpanda.EINVALID, "missing event name")
	}
	name := truncate(event, maxHeaderLen)
	decode := func(v any) error {
		if err := decodeObject(payload, v); err != nil {
			return patchpanda.Errorf(patchpanda.EINVALID, "%s: %s", name, err)
		}
		return nil
	}
	var (
		ev  Event
		env *wireCommon
		f   = fields{event: name}
	)
	switch event {
	case "ping":
		var w wirePing
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(), &w.wireCommon
	case "issue_comment":
		var w wireIssueComment
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(&f), &w.wireCommon
	case "pull_request":
		var w wirePullRequest
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(&f), &w.wireCommon
	case "check_run":
		var w wireCheckRun
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(&f), &w.wireCommon
	case "installation":
		var w wireInstallationEvent
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(&f), &w.wireCommon
	case "installation_repositories":
		var w wireInstallationRepositories
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.event(&f), &w.wireCommon
	case "repository":
		var w wireCommon
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = w.repositoryEvent(&f), &w
	default:
		var w wireCommon
		if err := decode(&w); err != nil {
			return nil, nil, err
		}
		ev, env = &UnknownEvent{Name: event, Action: w.Action}, &w
	}
	if err := f.err(); err != nil {
		return nil, nil, err
	}
	return ev, env, nil
}

// fields collects the paths of required fields a payload lacks, so that one
// error names all of them. A zero value (0, "", null) counts as missing:
// GitHub never sends a zero id or an empty sha.
type fields struct {
	event   string
	missing []string
}

func (f *fields) need(ok bool, path string) {
	if !ok {
		f.missing = append(f.missing, path)
	}
}

func (f *fields) err() error {
	if len(f.missing) == 0 {
		return nil
	}
	return patchpanda.Errorf(patchpanda.EINVALID, "%s: missing %s", f.event, strings.Join(f.missing, ", "))
}

// repository converts the payload's "repository" object, which every
// repository event carries.
func (f *fields) repository(r *wireRepo, path string) patchpanda.Repository {
	if r == nil {
		f.need(false, path)
		return patchpanda.Repository{}
	}
	owner := ""
	if r.Owner != nil {
		owner = r.Owner.Login
	}
	f.need(r.ID != 0, path+".id")
	f.need(r.Name != "", path+".name")
	f.need(owner != "", path+".owner.login")
	return patchpanda.Repository{Owner: owner, Name: r.Name, ID: r.ID}
}

// repositoryList converts the short repository objects of installation
// payloads, which carry a full_name rather than an owner.
func (f *fields) repositoryList(rs []wireRepo, path string) []patchpanda.Repository {
	if len(rs) == 0 {
		return nil
	}
	out := make([]patchpanda.Repository, 0, len(rs))
	for i, r := range rs {
		p := fmt.Sprintf("%s[%d]", path, i)
		f.need(r.ID != 0, p+".id")
		owner, name, err := patchpanda.ParseFullName(r.FullName)
		if err != nil {
			f.need(false, p+".full_name (owner/name)")
		}
		out = append(out, patchpanda.Repository{Owner: owner, Name: name, ID: r.ID})
	}
	return out
}

// The wire types mirror just the parts of GitHub's payloads that PatchPanda
// reads; encoding/json ignores the rest.

type wireUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
	Slug  string `json:"slug"` // enterprise accounts have a slug, not a login
}

func (u *wireUser) user() User {
	if u == nil {
		return User{}
	}
	return User{Login: u.Login, ID: u.ID, Type: u.Type}
}

type wireRepo struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	FullName string    `json:"full_name"`
	Owner    *wireUser `json:"owner"`
}

// complete returns r as a Repository when it has an id, a name and an owner,
// and nil otherwise.
func (r *wireRepo) complete() *patchpanda.Repository {
	if r == nil || r.ID == 0 || r.Name == "" || r.Owner == nil || r.Owner.Login == "" {
		return nil
	}
	return &patchpanda.Repository{Owner: r.Owner.Login, Name: r.Name, ID: r.ID}
}

type wireInstallation struct {
	ID                  int64     `json:"id"`
	AppID               int64     `json:"app_id"`
	Account             *wireUser `json:"account"`
	TargetType          string    `json:"target_type"`
	RepositorySelection string    `json:"repository_selection"`
}

type wireCommon struct {
	Action       string            `json:"action"`
	Installation *wireInstallation `json:"installation"`
	Repository   *wireRepo         `json:"repository"`
	Sender       *wireUser         `json:"sender"`
}

func (c *wireCommon) installationID() int64 {
	if c.Installation == nil {
		return 0
	}
	return c.Installation.ID
}

type wirePing struct {
	wireCommon
	Zen    string `json:"zen"`
	HookID int64  `json:"hook_id"`
	Hook   *struct {
		AppID int64 `json:"app_id"`
	} `json:"hook"`
}

func (w *wirePing) event() *PingEvent {
	e := &PingEvent{Zen: w.Zen, HookID: w.HookID, Sender: w.Sender.user()}
	if w.Hook != nil {
		e.AppID = w.Hook.AppID
	}
	e.Repository = w.Repository.complete()
	return e
}

type wireIssueComment struct {
	wireCommon
	Comment *struct {
		ID                int64     `json:"id"`
		Body              string    `json:"body"`
		User              *wireUser `json:"user"`
		AuthorAssociation string    `json:"author_association"`
	} `json:"comment"`
	Issue *struct {
		Number int `json:"number"`
		// Present (and non-null) only when the issue is a pull request.
		PullRequest *jsontext.Value `json:"pull_request"`
	} `json:"issue"`
}

func (w *wireIssueComment) event(f *fields) *IssueCommentEvent {
	e := &IssueCommentEvent{
		Action:         w.Action,
		Repository:     f.repository(w.Repository, "repository"),
		InstallationID: w.installationID(),
		Sender:         w.Sender.user(),
	}
	f.need(w.Action != "", "action")
	if c := w.Comment; c != nil {
		e.CommentID, e.Body, e.User, e.AuthorAssociation = c.ID, c.Body, c.User.user(), c.AuthorAssociation
	}
	f.need(e.CommentID != 0, "comment.id")
	f.need(e.User.Login != "", "comment.user.login")
	if i := w.Issue; i != nil {
		e.IssueNumber = i.Number
		e.IsPullRequest = i.PullRequest != nil
	}
	f.need(e.IssueNumber > 0, "issue.number")
	return e
}

type wireRef struct {
	Ref  string    `json:"ref"`
	SHA  string    `json:"sha"`
	Repo *wireRepo `json:"repo"` // null when the fork was deleted
}

type wirePullRequest struct {
	wireCommon
	Number      int `json:"number"`
	PullRequest *struct {
		Number int       `json:"number"`
		Draft  bool      `json:"draft"`
		Merged bool      `json:"merged"`
		User   *wireUser `json:"user"`
		Head   wireRef   `json:"head"`
		Base   wireRef   `json:"base"`
	} `json:"pull_request"`
}

func (w *wirePullRequest) event(f *fields) *PullRequestEvent {
	e := &PullRequestEvent{
		Action:         w.Action,
		Number:         w.Number,
		Repository:     f.repository(w.Repository, "repository"),
		InstallationID: w.installationID(),
		Sender:         w.Sender.user(),
	}
	f.need(w.Action != "", "action")
	pr := w.PullRequest
	if pr == nil {
		f.need(false, "pull_request")
		return e
	}
	if e.Number == 0 {
		e.Number = pr.Number
	}
	f.need(e.Number > 0, "number")
	e.Draft, e.Merged, e.User = pr.Draft, pr.Merged, pr.User.user()
	e.HeadSHA, e.HeadRef = pr.Head.SHA, pr.Head.Ref
	e.BaseSHA, e.BaseRef = pr.Base.SHA, pr.Base.Ref
	f.need(e.HeadSHA != "", "pull_request.head.sha")
	f.need(e.BaseSHA != "", "pull_request.base.sha")
	if pr.Base.Repo != nil {
		e.BaseRepo = pr.Base.Repo.FullName
	}
	f.need(e.BaseRepo != "", "pull_request.base.repo.full_name")
	if pr.Head.Repo != nil {
		e.HeadRepo = pr.Head.Repo.FullName
	}
	e.IsFork = isFork(pr.Head.Repo, pr.Base.Repo)
	return e
}

// isFork reports whether a pull request's head lives outside its base
// repository. A deleted head repository counts as a fork: nothing proves it
// was the base.
func isFork(head, base *wireRepo) bool {
	if head == nil || base == nil {
		return true
	}
	if head.ID != 0 && base.ID != 0 {
		return head.ID != base.ID
	}
	return !strings.EqualFold(head.FullName, base.FullName)
}

type wireCheckRun struct {
	wireCommon
	CheckRun *struct {
		ID         int64  `json:"id"`
		Name       string `json:"name"`
		ExternalID string `json:"external_id"`
		HeadSHA    string `json:"head_sha"`
		App        *struct {
			ID int64 `json:"id"`
		} `json:"app"`
		PullRequests []struct {
			Number int `json:"number"`
		} `json:"pull_requests"`
	} `json:"check_run"`
	RequestedAction *struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
}

func (w *wireCheckRun) event(f *fields) *CheckRunEvent {
	e := &CheckRunEvent{
		Action:         w.Action,
		Repository:     f.repository(w.Repository, "repository"),
		InstallationID: w.installationID(),
		Sender:         w.Sender.user(),
	}
	f.need(w.Action != "", "action")
	if c := w.CheckRun; c != nil {
		e.CheckRunID, e.Name, e.ExternalID, e.HeadSHA = c.ID, c.Name, c.ExternalID, c.HeadSHA
		if c.App != nil {
			e.AppID = c.App.ID
		}
		for _, pr := range c.PullRequests {
			e.PullRequests = append(e.PullRequests, pr.Number)
		}
	}
	f.need(e.CheckRunID != 0, "check_run.id")
	f.need(e.Name != "", "check_run.name")
	f.need(e.HeadSHA != "", "check_run.head_sha")
	f.need(e.AppID != 0, "check_run.app.id")
	if w.RequestedAction != nil {
		e.RequestedAction = w.RequestedAction.Identifier
	}
	if w.Action == "requested_action" {
		f.need(e.RequestedAction != "", "requested_action.identifier")
	}
	return e
}

// installation converts the "installation" object of installation events,
// which, unlike other events', carries the account.
func (f *fields) installation(in *wireInstallation) (id int64, account string, accountID int64, accountType string, appID int64, selection string) {
	if in == nil {
		f.need(false, "installation")
		return
	}
	id, appID, selection = in.ID, in.AppID, in.RepositorySelection
	if a := in.Account; a != nil {
		account, accountID, accountType = a.Login, a.ID, a.Type
		if account == "" {
			account = a.Slug
		}
	}
	if accountType == "" {
		accountType = in.TargetType
	}
	f.need(id != 0, "installation.id")
	f.need(account != "", "installation.account.login")
	return
}

type wireInstallationEvent struct {
	wireCommon
	Repositories []wireRepo `json:"repositories"`
}

func (w *wireInstallationEvent) event(f *fields) *InstallationEvent {
	e := &InstallationEvent{Action: w.Action, Sender: w.Sender.user()}
	f.need(w.Action != "", "action")
	e.InstallationID, e.Account, e.AccountID, e.AccountType, e.AppID, e.RepositorySelection = f.installation(w.Installation)
	e.Repositories = f.repositoryList(w.Repositories, "repositories")
	return e
}

type wireInstallationRepositories struct {
	wireCommon
	RepositorySelection string     `json:"repository_selection"`
	Added               []wireRepo `json:"repositories_added"`
	Removed             []wireRepo `json:"repositories_removed"`
}

func (w *wireInstallationRepositories) event(f *fields) *InstallationRepositoriesEvent {
	e := &InstallationRepositoriesEvent{Action: w.Action, Sender: w.Sender.user()}
	f.need(w.Action != "", "action")
	var selection string
	e.InstallationID, e.Account, e.AccountID, _, _, selection = f.installation(w.Installation)
	e.RepositorySelection = w.RepositorySelection
	if e.RepositorySelection == "" {
		e.RepositorySelection = selection
	}
	e.Added = f.repositoryList(w.Added, "repositories_added")
	e.Removed = f.repositoryList(w.Removed, "repositories_removed")
	return e
}
