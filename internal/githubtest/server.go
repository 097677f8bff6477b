// Package githubtest provides a fake GitHub for tests: an httptest server
// that speaks the part of GitHub's REST API the relay uses, with GitHub's
// response shapes, status codes and rate-limit headers, plus helpers that
// send webhooks signed the way GitHub signs them.
//
// The fake authenticates like GitHub does. App endpoints (/app/...) take
// only an App JWT signed with the key in Server.PrivateKeyPEM; repository
// and organisation endpoints take only an installation token minted by
// POST /app/installations/{id}/access_tokens, limited to the repositories
// and permissions it was minted for; GET /user takes a user token
// registered with AddUser. Everything it is asked is recorded (Calls), and
// failures can be injected per route (Fail, FailNext, SecondaryRateLimitNext,
// PrimaryRateLimitNext).
//
// A Server is safe for concurrent use.
package githubtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// The routes the fake serves, as net/http patterns. They name a route in
// Fail and FailNext and appear in Call.Route.
const (
	RouteCreateToken       = "POST /app/installations/{installation_id}/access_tokens"
	RouteGetInstallation   = "GET /app/installations/{installation_id}"
	RouteListDeliveries    = "GET /app/hook/deliveries"
	RouteRedeliver         = "POST /app/hook/deliveries/{delivery_id}/attempts"
	RouteGetContents       = "GET /repos/{owner}/{repo}/contents/{path...}"
	RouteGetPermission     = "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
	RouteGetTeamMembership = "GET /orgs/{org}/teams/{team_slug}/memberships/{username}"
	RouteGetPull           = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
	RouteListPullFiles     = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"
	RouteCreateReaction    = "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
	RouteCreateComment     = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	RouteUpdateComment     = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
	RouteListComments      = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
	RouteCreateCheckRun    = "POST /repos/{owner}/{repo}/check-runs"
	RouteUpdateCheckRun    = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"
	RouteGetUser           = "GET /user"
)

// AuthKind says how a recorded request authenticated.
type AuthKind string

// The ways a request can authenticate with the fake.
const (
	AuthNone         AuthKind = "none"         // no Authorization header
	AuthApp          AuthKind = "app"          // a valid App JWT
	AuthInstallation AuthKind = "installation" // a live installation token
	AuthUser         AuthKind = "user"         // a token registered with AddUser
	AuthInvalid      AuthKind = "invalid"      // a bad JWT or an unknown or expired token
)

// Call is one request the fake received.
type Call struct {
	Method string
	// Path is the API path without the server's prefix (see WithAPIPrefix).
	Path  string
	Query url.Values
	Body  []byte
	// Route is the pattern that matched (one of the Route constants), or
	// "" when none did.
	Route          string
	Auth           AuthKind
	InstallationID int64 // for AuthInstallation
	User           string
}

// Installation is an installation of the fake's App.
type Installation struct {
	ID int64
	// Account is the login of the user or organisation the App is
	// installed on; it owns every repository in Repositories.
	Account     string
	AccountID   int64
	AccountType string // "Organization" (default) or "User"
	// Repositories the installation may reach. Names are "owner/name"; IDs
	// are assigned when zero.
	Repositories []patchpanda.Repository
	// AllRepositories makes repository_selection "all" (the default is
	// "selected"); it is reported only, access still follows Repositories.
	AllRepositories bool
	// Permissions granted to the installation; nil grants
	// DefaultPermissions.
	Permissions map[string]string
	Events      []string
	SuspendedAt time.Time
}

// DefaultPermissions are the permissions an installation gets when
// AddInstallation is given none: what the relay asks for.
func DefaultPermissions() map[string]string {
	return map[string]string{
		"metadata":      "read",
		"contents":      "write",
		"pull_requests": "write",
		"issues":        "write",
		"checks":        "write",
		"members":       "read",
	}
}

// IssuedToken describes an installation token the fake minted.
type IssuedToken struct {
	Token          string
	InstallationID int64
	// Repositories the token is narrowed to ("owner/name"), or nil for all
	// of the installation's repositories.
	Repositories []string
	Permissions  map[string]string
	ExpiresAt    time.Time
	Revoked      bool
}

// User is a person who calls GitHub with a user token.
type User struct {
	Login string
	ID    int64
	Name  string
}

// PullRequest is a pull request the fake serves.
type PullRequest struct {
	Number int
	Title  string
	Body   string
	State  string // "open" (default) or "closed"
	Draft  bool
	Merged bool
	Author string
	// AuthorAssociation defaults to "CONTRIBUTOR".
	AuthorAssociation string
	HeadSHA           string
	HeadRef           string
	// HeadRepo is "owner/name" of the head branch's repository; empty
	// means the base repository (not a fork).
	HeadRepo string
	BaseSHA  string
	BaseRef  string // defaults to "main"
	Files    []PullRequestFile
}

// PullRequestFile is one changed file of a pull request.
type PullRequestFile struct {
	Filename         string
	PreviousFilename string
	Status           string // "added", "modified" (default), "removed", "renamed"
	Additions        int
	Deletions        int
	Patch            string
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID        int64
	Repo      string // "owner/name"
	Number    int    // issue or pull request number
	Body      string
	User      string
	UserType  string // "Bot" for the App, "User" otherwise
	CreatedAt time.Time
	UpdatedAt time.Time
	// Edits is how many times the comment was updated.
	Edits int
}

// Reaction is a reaction created on an issue comment.
type Reaction struct {
	ID        int64
	Repo      string
	CommentID int64
	Content   string
	User      string
}

// CheckRun is the state of a check run, with the state after each create
// and update request in History (oldest first).
type CheckRun struct {
	ID          int64
	Repo        string
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	DetailsURL  string
	ExternalID  string
	StartedAt   time.Time
	CompletedAt time.Time
	Output      CheckRunOutput
	History     []CheckRun
}

// CheckRunOutput is a check run's output. Annotations accumulate over
// updates, as on GitHub.
type CheckRunOutput struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation is one check run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
}

// HookDelivery is one delivery of the App's webhook, as GET
// /app/hook/deliveries lists it.
type HookDelivery struct {
	ID             int64
	GUID           string
	DeliveredAt    time.Time
	Redelivery     bool
	Duration       float64
	Status         string // "OK" or e.g. "Invalid HTTP Response: 503"
	StatusCode     int
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
	// Payload, when set, is sent again on redelivery to the target set
	// with SetWebhookTarget, as GitHub resends the original body.
	Payload []byte
}

// SetWebhookTarget makes redeliveries real: POST /app/hook/deliveries/{id}/attempts
// then sends the delivery's Payload to url, signed with secret, under its
// GUID, and records the answer's status.
func (s *Server) SetWebhookTarget(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL, s.hookSecret = url, secret
}

// Failure is an answer to inject instead of the real one.
type Failure struct {
	// Route is a Route constant, the pattern without its method (any
	// method), or "" for every route.
	Route string
	// Status is the HTTP status to answer, e.g. 502, 403 or 429.
	Status int
	// Times is how many matching requests get this answer; 0 means 1.
	Times int
	// Message is the "message" of the JSON error body.
	Message string
	// DocumentationURL is the "documentation_url" of the body.
	DocumentationURL string
	// RetryAfter, when positive, is sent as Retry-After in whole seconds.
	RetryAfter time.Duration
	// RateLimitExhausted sends X-RateLimit-Remaining: 0, and
	// RateLimitReset (when set) as X-RateLimit-Reset.
	RateLimitExhausted bool
	RateLimitReset     time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithAPIPrefix serves the API under prefix, as GitHub Enterprise Server
// does under "/api/v3"; requests outside it get 404.
func WithAPIPrefix(prefix string) Option {
	return func(s *Server) { s.prefix = "/" + strings.Trim(prefix, "/") }
}

// WithClock makes the fake read the time from now: it decides JWT and
// token expiry and the rate-limit reset it reports.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Server is a fake GitHub. Its exported fields are set by New and must
// not be changed.
type Server struct {
	// AppID is the App's id, the JWT's required issuer.
	AppID int64
	// AppSlug names the App; its comments are by AppSlug + "[bot]".
	AppSlug string
	// PrivateKeyPEM is the App's private key (PKCS#1 PEM), to configure a
	// client with.
	PrivateKeyPEM []byte

	key    *rsa.PrivateKey
	srv    *httptest.Server
	prefix string
	now    func() time.Time

	mu            sync.Mutex
	nextID        int64
	installations map[int64]*Installation
	repos         map[string]patchpanda.Repository // lower-case "owner/name"
	files         map[fileKey][]byte
	defaultRef    map[string]string
	permissions   map[string]map[string]string // repo → lower-case login → permission
	teams         map[string]map[string]member // lower-case "org/slug" → lower-case login
	pulls         map[string]map[int]*PullRequest
	comments      []*Comment
	reactions     []Reaction
	checkRuns     []*CheckRun
	deliveries    []HookDelivery
	hookURL       string
	hookSecret    string
	tokens        map[string]*IssuedToken
	tokenOrder    []string
	users         map[string]User
	calls         []Call
	failures      []*Failure
	rate          map[string]int // identity → requests used this hour
	rateReset     time.Time
	manifests     manifestState
	oauth         oauthState
}

type fileKey struct{ repo, ref, path string }

type member struct{ role, state string }

// keyOnce generates one RSA key per test binary: a 2048-bit key takes long
// enough on a shared two-core machine that a key per Server would dominate
// test time, and sharing it across Servers changes nothing they check.
var keyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// New starts a fake GitHub that is closed when t's test ends. It fails t
// when no App key can be generated.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	key, err := keyOnce()
	if err != nil {
		t.Fatalf("githubtest: generate App key: %v", err)
	}
	s := &Server{
		AppID:         4242,
		AppSlug:       "patchpanda",
		key:           key,
		now:           time.Now,
		nextID:        1000,
		installations: map[int64]*Installation{},
		repos:         map[string]patchpanda.Repository{},
		files:         map[fileKey][]byte{},
		defaultRef:    map[string]string{},
		permissions:   map[string]map[string]string{},
		teams:         map[string]map[string]member{},
		pulls:         map[string]map[int]*PullRequest{},
		tokens:        map[string]*IssuedToken{},
		users:         map[string]User{},
		rate:          map[string]int{},
	}
	s.PrivateKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s.handler())
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the API's base URL, including the prefix given with
// WithAPIPrefix, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL + s.prefix }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// PublicKey returns the App's public key, to check JWTs with.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// AddInstallation installs the App on inst.Account with access to
// inst.Repositories, and returns the installation with ids filled in.
func (s *Server) AddInstallation(inst Installation) Installation {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inst.ID == 0 {
		inst.ID = s.id()
	}
	if inst.AccountID == 0 {
		inst.AccountID = s.id()
	}
	if inst.AccountType == "" {
		inst.AccountType = "Organization"
	}
	if inst.Permissions == nil {
		inst.Permissions = DefaultPermissions()
	}
	if inst.Events == nil {
		inst.Events = []string{"issue_comment", "pull_request", "check_run"}
	}
	repos := make([]patchpanda.Repository, len(inst.Repositories))
	for i, r := range inst.Repositories {
		if r.Owner == "" {
			r.Owner = inst.Account
		}
		if known, ok := s.repos[strings.ToLower(r.FullName())]; ok && r.ID == 0 {
			r.ID = known.ID
		}
		if r.ID == 0 {
			r.ID = s.id()
		}
		s.repos[strings.ToLower(r.FullName())] = r
		repos[i] = r
	}
	inst.Repositories = repos
	inst.Permissions = cloneMap(inst.Permissions)
	s.installations[inst.ID] = &inst
	return inst
}

// Repository returns the repository fullName ("owner/name") as the fake
// knows it, and whether it does.
func (s *Server) Repository(fullName string) (patchpanda.Repository, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[strings.ToLower(fullName)]
	return r, ok
}

// SetFile stores content as path in repository fullName at ref (a sha or
// a branch name). A nil content removes the file.
func (s *Server) SetFile(fullName, ref, path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fileKey{strings.ToLower(fullName), ref, strings.Trim(path, "/")}
	if content == nil {
		delete(s.files, k)
		return
	}
	s.files[k] = bytes.Clone(content)
}

// SetDefaultBranch sets the ref GET contents reads without ?ref=; the
// default is "main".
func (s *Server) SetDefaultBranch(fullName, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaultRef[strings.ToLower(fullName)] = ref
}

// SetPermission gives user a role on repository fullName: "admin",
// "maintain", "write", "triage", "read" or "none".
func (s *Server) SetPermission(fullName, user, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(fullName)
	if s.permissions[k] == nil {
		s.permissions[k] = map[string]string{}
	}
	s.permissions[k][strings.ToLower(user)] = role
}

// SetTeamMember makes user a member of team org/slug with role ("member"
// or "maintainer") and state ("active" or "pending"). An empty state
// removes the membership.
func (s *Server) SetTeamMember(org, slug, user, role, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(org + "/" + slug)
	if s.teams[k] == nil {
		s.teams[k] = map[string]member{}
	}
	if state == "" {
		delete(s.teams[k], strings.ToLower(user))
		return
	}
	s.teams[k][strings.ToLower(user)] = member{role: role, state: state}
}

// AddPullRequest stores pr in repository fullName, replacing one with the
// same number.
func (s *Server) AddPullRequest(fullName string, pr PullRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(fullName)
	if s.pulls[k] == nil {
		s.pulls[k] = map[int]*PullRequest{}
	}
	pr.Files = append([]PullRequestFile(nil), pr.Files...)
	s.pulls[k][pr.Number] = &pr
}

// AddUser registers token as a user token of u, for GET /user and team
// membership checks made with it.
func (s *Server) AddUser(token string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.id()
	}
	s.users[token] = u
}

// AddComment stores c (say, a sticky comment left earlier) and returns it
// with its ID and times filled in.
func (s *Server) AddComment(c Comment) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		c.ID = s.id()
	}
	if c.UserType == "" {
		c.UserType = "User"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now().UTC().Truncate(time.Second)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	cp := c
	s.comments = append(s.comments, &cp)
	return c
}

// Comments returns the comments on issue or pull request number of
// repository fullName, oldest first.
func (s *Server) Comments(fullName string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if strings.EqualFold(c.Repo, fullName) && c.Number == number {
			out = append(out, *c)
		}
	}
	return out
}

// Reactions returns the reactions created, oldest first.
func (s *Server) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reaction(nil), s.reactions...)
}

// CheckRuns returns the check runs of repository fullName, oldest first,
// each with its history.
func (s *Server) CheckRuns(fullName string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.checkRuns {
		if strings.EqualFold(cr.Repo, fullName) {
			out = append(out, cloneCheckRun(cr))
		}
	}
	return out
}

// AddHookDelivery records a delivery of the App's webhook and returns it
// with its ID, GUID and time filled in when they were zero.
func (s *Server) AddHookDelivery(d HookDelivery) HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == 0 {
		d.ID = s.id()
	}
	if d.GUID == "" {
		d.GUID = newGUID()
	}
	if d.DeliveredAt.IsZero() {
		d.DeliveredAt = s.now().UTC().Truncate(time.Second)
	}
	if d.Status == "" {
		d.Status = "OK"
	}
	if d.StatusCode == 0 && d.Status == "OK" {
		d.StatusCode = 200
	}
	s.deliveries = append(s.deliveries, d)
	return d
}

// HookDeliveries returns every delivery, redeliveries included, in the
// order they were added.
func (s *Server) HookDeliveries() []HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]HookDelivery(nil), s.deliveries...)
}

// IssuedTokens returns the installation tokens minted so far, oldest
// first.
func (s *Server) IssuedTokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IssuedToken, 0, len(s.tokenOrder))
	for _, tok := range s.tokenOrder {
		t := s.tokens[tok]
		cp := *t
		cp.Permissions = cloneMap(t.Permissions)
		cp.Repositories = append([]string(nil), t.Repositories...)
		out = append(out, cp)
	}
	return out
}

// RevokeTokens makes every installation token minted so far invalid, so
// that using one gets 401 Bad credentials.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.Revoked = true
	}
}

// Calls returns the requests received so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Query = cloneValues(c.Query)
		c.Body = bytes.Clone(c.Body)
		out[i] = c
	}
	return out
}

// CallsTo returns the recorded requests whose Route is route.
func (s *Server) CallsTo(route string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded requests.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Fail makes the next f.Times requests matching f.Route get f's answer.
// Failures are used in the order they were added.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.failures = append(s.failures, &f)
}

// FailNext makes the next n requests matching route get status with
// GitHub's JSON error body; for 403 and 429 it is a secondary rate limit
// without Retry-After.
func (s *Server) FailNext(route string, status, n int) {
	f := Failure{Route: route, Status: status, Times: n}
	if status == http.StatusForbidden || status == http.StatusTooManyRequests {
		f.Message = secondaryMessage
		f.DocumentationURL = secondaryDocs
	}
	s.Fail(f)
}

// SecondaryRateLimitNext makes the next n requests matching route get 403
// for a secondary rate limit with Retry-After: retryAfter.
func (s *Server) SecondaryRateLimitNext(route string, retryAfter time.Duration, n int) {
	s.Fail(Failure{Route: route, Status: http.StatusForbidden, Times: n, Message: secondaryMessage,
		DocumentationURL: secondaryDocs, RetryAfter: retryAfter})
}

// PrimaryRateLimitNext makes the next n requests matching route get 403
// with X-RateLimit-Remaining: 0 and X-RateLimit-Reset: reset.
func (s *Server) PrimaryRateLimitNext(route string, reset time.Time, n int) {
	s.Fail(Failure{Route: route, Status: http.StatusForbidden, Times: n,
		Message:            "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
		DocumentationURL:   "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit",
		RateLimitExhausted: true, RateLimitReset: reset})
}

const (
	secondaryMessage = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."
	secondaryDocs    = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func cloneCheckRun(cr *CheckRun) CheckRun {
	out := *cr
	out.Output.Annotations = append([]Annotation(nil), cr.Output.Annotations...)
	out.History = make([]CheckRun, len(cr.History))
	for i, h := range cr.History {
		h.Output.Annotations = append([]Annotation(nil), h.Output.Annotations...)
		out.History[i] = h
	}
	return out
}

func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	return b
}
