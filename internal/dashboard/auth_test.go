package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/dashboard"
	"github.com/patchpanda/patchpanda/internal/dashboard/oidctest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

var (
	mona  = oidctest.Person{Subject: "1001", Email: "mona@example.com", Name: "Mona Admin"}
	hubot = oidctest.Person{Subject: "1002", Email: "hubot@example.com", Name: "Hubot", GitHubLogin: "hubot"}
	vera  = oidctest.Person{Subject: "1234567890", Name: "Vera Viewer"}
	eve   = oidctest.Person{Subject: "666", Email: "eve@example.com", Name: "Eve"}
)

// grants are SPEC's example.
var grants = []config.DashboardGrant{
	{Source: "dashboard.roles.admin", Role: config.DashboardAdmin, Emails: []string{"mona@example.com"}},
	{Source: "dashboard.roles.operator", Role: config.DashboardOperator, Groups: []string{"platform"}, GitHubLogins: []string{"hubot"}},
	{Source: "dashboard.roles.viewer", Role: config.DashboardViewer, Subjects: []string{"1234567890"}, Repos: []string{"acme/*"}},
}

// fakeJobs is the job service the pages read: two jobs in two
// organisations, and replays recorded.
type fakeJobs struct {
	jobs     map[string]*patchpanda.Job
	replayed []string // "id by actor"
}

func newFakeJobs() *fakeJobs {
	mk := func(id, owner string) *patchpanda.Job {
		return &patchpanda.Job{ID: id, Attempt: 1, Kind: "generate_tests", State: patchpanda.JobFailed,
			Repository: patchpanda.Repository{Owner: owner, Name: "api"}, PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: strings.Repeat("a", 40)},
			Trigger: patchpanda.TriggerComment, RequestedBy: "hubot", CostMicros: 420000, CreatedAt: time.Now()}
	}
	return &fakeJobs{jobs: map[string]*patchpanda.Job{"job-acme": mk("job-acme", "acme"), "job-other": mk("job-other", "other")}}
}

func (f *fakeJobs) List(ctx context.Context, flt patchpanda.JobFilter) ([]*patchpanda.Job, string, error) {
	var out []*patchpanda.Job
	for _, id := range []string{"job-acme", "job-other"} {
		if j := f.jobs[id]; flt.Repository == "" || j.Repository.FullName() == flt.Repository {
			out = append(out, j)
		}
	}
	return out, "", nil
}

func (f *fakeJobs) Get(ctx context.Context, id string) (*patchpanda.Job, error) {
	if j, ok := f.jobs[id]; ok {
		return j, nil
	}
	return nil, patchpanda.Errorf(patchpanda.ENOTFOUND, "job %s not found", id)
}

func (f *fakeJobs) Replay(ctx context.Context, id, actor string) (*patchpanda.Job, error) {
	j, err := f.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	f.replayed = append(f.replayed, id+" by "+actor)
	n := *j
	n.ID, n.Attempt, n.ReplayOf, n.State = id+"-2", j.Attempt+1, id, patchpanda.JobQueued
	f.jobs[n.ID] = &n
	return &n, nil
}

func (f *fakeJobs) Lease(context.Context, time.Duration) (*patchpanda.Message, time.Time, error) {
	return nil, time.Time{}, nil
}
func (f *fakeJobs) Report(context.Context, string, patchpanda.WorkerEvent, string) (*patchpanda.Job, error) {
	return nil, nil
}
func (f *fakeJobs) Token(context.Context, string, string) (*patchpanda.JobToken, error) {
	return nil, nil
}

type env struct {
	t        *testing.T
	idp      *oidctest.Provider
	db       *store.DB
	jobs     *fakeJobs
	srv      *httptest.Server
	now      time.Time
	dash     *dashboard.Dashboard
	browser  *http.Client
	lastBody string
}

func setup(t *testing.T, person oidctest.Person, more ...func(*dashboard.Options)) *env {
	t.Helper()
	e := &env{t: t, idp: oidctest.New(t, person), db: storetest.SQLite(t), jobs: newFakeJobs(), now: time.Now()}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	var err error
	opts := dashboard.Options{
		OIDC:       dashboard.OIDC{Issuer: e.idp.URL(), ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret, RedirectURL: e.srv.URL + "/auth/callback"},
		HTTPClient: e.idp.Client(), Grants: grants, Sessions: e.db, Jobs: e.jobs,
		IdleTimeout: time.Hour, MaxAge: 24 * time.Hour, Now: func() time.Time { return e.now },
	}
	for _, m := range more {
		m(&opts)
	}
	e.dash, err = dashboard.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.dash.Register(mux)
	jar, _ := cookiejar.New(nil)
	e.browser = &http.Client{Jar: jar}
	return e
}

// get fetches path like a browser (following redirects through the IdP)
// and returns the final status.
func (e *env) get(path string) int {
	e.t.Helper()
	resp, err := e.browser.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(resp)
}

func (e *env) read(resp *http.Response) int {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	e.lastBody = string(b)
	return resp.StatusCode
}

// post submits a form from the last page, with the CSRF token it carried
// unless csrf is given.
func (e *env) post(path string, form url.Values) int {
	e.t.Helper()
	resp, err := e.browser.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(resp)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) csrf() string {
	e.t.Helper()
	m := csrfRE.FindStringSubmatch(e.lastBody)
	if m == nil {
		e.t.Fatalf("no CSRF token on the page:\n%s", e.lastBody)
	}
	return m[1]
}

func (e *env) signIn() {
	e.t.Helper()
	if code := e.get("/ui/jobs"); code != http.StatusOK {
		e.t.Fatalf("signing in ended with %d:\n%s", code, e.lastBody)
	}
}

func TestSignInGoesThroughTheProviderAndLandsOnThePageAsked(t *testing.T) {
	e := setup(t, mona)
	e.signIn()
	if !strings.Contains(e.lastBody, "Mona Admin") || !strings.Contains(e.lastBody, "job-acme"[:8]) {
		t.Errorf("jobs page after sign-in does not show the person or the jobs:\n%s", e.lastBody)
	}
	if e.idp.Exchanges() != 1 {
		t.Errorf("%d code exchanges, want 1", e.idp.Exchanges())
	}
	var session *http.Cookie
	for _, c := range e.browser.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == "pp_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after sign-in")
	}
	// The database holds the hash of the id, never the id.
	if _, err := e.db.SessionByHash(context.Background(), []byte(session.Value)); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("the session is findable by its raw id (%v); only its hash may be stored", err)
	}
	// A second page needs no new sign-in.
	if code := e.get("/ui/jobs/job-acme"); code != http.StatusOK || e.idp.Exchanges() != 1 {
		t.Errorf("job page: %d after %d exchanges, want 200 without signing in again", code, e.idp.Exchanges())
	}
}

func TestSessionCookieIsHttpOnlyLaxAndSignInRotatesIt(t *testing.T) {
	e := setup(t, mona)
	noRedirect := &http.Client{Jar: e.browser.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	first := signInBy(t, e, noRedirect)
	if !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Secure {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v Secure=%v, want HttpOnly, Lax, not Secure over http", first.HttpOnly, first.SameSite, first.Secure)
	}
	second := signInBy(t, e, noRedirect)
	if second.Value == first.Value {
		t.Error("signing in again kept the session id; it must rotate")
	}
	if _, err := e.db.SessionByHash(context.Background(), hashOf(first.Value)); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("the session before sign-in still exists (%v)", err)
	}
}

// signInBy runs the flow one redirect at a time and returns the session
// cookie the callback set.
func signInBy(t *testing.T, e *env, c *http.Client) *http.Cookie {
	t.Helper()
	next := e.srv.URL + "/auth/login?return_to=/ui/jobs"
	for range 5 {
		resp, err := c.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == "pp_session" && ck.Value != "" {
				if loc := resp.Header.Get("Location"); loc != "/ui/jobs" {
					t.Errorf("after sign-in sent to %q, want /ui/jobs", loc)
				}
				return ck
			}
		}
		next = resp.Header.Get("Location")
		if next == "" {
			t.Fatalf("sign-in stopped at %s with %d", resp.Request.URL, resp.StatusCode)
		}
		if strings.HasPrefix(next, "/") {
			next = e.srv.URL + next
		}
	}
	t.Fatal("no session cookie after five redirects")
	return nil
}

func TestSignInRefusals(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(jwt.MapClaims)
		state  string // replaces the state the provider sends back
		status int
		says   string
	}{
		{name: "wrong state", state: "forged", status: http.StatusBadRequest, says: "state mismatch"},
		{name: "wrong nonce", tamper: func(c jwt.MapClaims) { c["nonce"] = "replayed" }, status: http.StatusForbidden, says: "nonce mismatch"},
		{name: "expired token", tamper: func(c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}, status: http.StatusForbidden, says: "not valid"},
		{name: "other audience", tamper: func(c jwt.MapClaims) { c["aud"] = "someone-else" }, status: http.StatusForbidden, says: "not valid"},
		{name: "other issuer", tamper: func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }, status: http.StatusForbidden, says: "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, mona)
			if tt.tamper != nil {
				e.idp.TamperNext(tt.tamper)
			}
			noRedirect := &http.Client{Jar: e.browser.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noRedirect.Get(e.srv.URL + "/auth/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			resp, err = noRedirect.Get(resp.Header.Get("Location")) // the provider's authorize
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cb, _ := url.Parse(resp.Header.Get("Location"))
			if tt.state != "" {
				q := cb.Query()
				q.Set("state", tt.state)
				cb.RawQuery = q.Encode()
			}
			resp, err = noRedirect.Get(cb.String())
			if err != nil {
				t.Fatal(err)
			}
			if code := e.read(resp); code != tt.status || !strings.Contains(e.lastBody, tt.says) {
				t.Errorf("callback: %d, want %d saying %q:\n%s", code, tt.status, tt.says, e.lastBody)
			}
			for _, c := range resp.Cookies() {
				if c.Name == "pp_session" && c.Value != "" {
					t.Error("a refused sign-in set a session cookie")
				}
			}
			// And the refused browser is still signed out.
			if resp, err := noRedirect.Get(e.srv.URL + "/ui/jobs"); err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after a refused sign-in /ui/jobs answered %v %v, want a redirect to sign in", resp.StatusCode, err)
			}
		})
	}
}

func TestCallbackWithoutAPendingSignInIsRefused(t *testing.T) {
	e := setup(t, mona)
	if code := e.get("/auth/callback?code=x&state=y"); code != http.StatusBadRequest {
		t.Errorf("callback out of the blue: %d, want 400", code)
	}
}

func TestLogoutEndsTheServerSession(t *testing.T) {
	e := setup(t, mona)
	e.signIn()
	token := e.csrf()
	var id string
	for _, c := range e.browser.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == "pp_session" {
			id = c.Value
		}
	}
	if code := e.post("/auth/logout", url.Values{"csrf": {"wrong"}}); code != http.StatusForbidden {
		t.Errorf("logout with a wrong CSRF token: %d, want 403", code)
	}
	if code := e.post("/auth/logout", url.Values{"csrf": {token}}); code != http.StatusOK {
		t.Fatalf("logout: %d", code)
	}
	if _, err := e.db.SessionByHash(context.Background(), hashOf(id)); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("session still stored after logout (%v)", err)
	}
	// Even a browser that kept the old cookie is signed out.
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "pp_session", Value: id, Path: "/"}})
	old := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := old.Get(e.srv.URL + "/ui/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/auth/login") {
		t.Errorf("old cookie after logout: %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSessionsEndWhenIdleOrTooOld(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait []time.Duration // time passing between visits
	}{
		{"idle longer than the idle timeout", []time.Duration{61 * time.Minute}},
		{"active but past the absolute expiry", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, mona)
			e.signIn()
			noRedirect := &http.Client{Jar: e.browser.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			last := 0
			for _, d := range tt.wait {
				e.now = e.now.Add(d)
				resp, err := noRedirect.Get(e.srv.URL + "/ui/jobs")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				last = resp.StatusCode
			}
			if last != http.StatusSeeOther {
				t.Errorf("last visit answered %d, want a redirect to sign in again", last)
			}
		})
	}
}

func TestRolesDecideWhatOpens(t *testing.T) {
	tests := []struct {
		name   string
		person oidctest.Person
		path   string
		status int
	}{
		{"admin opens the audit log", mona, "/ui/audit", http.StatusNotFound}, // no audit service in this test: past the role check
		{"operator may not open the audit log", hubot, "/ui/audit", http.StatusForbidden},
		{"viewer may not open API keys", vera, "/ui/keys", http.StatusForbidden},
		{"viewer may not open billing", vera, "/ui/billing", http.StatusForbidden},
		{"viewer sees a job of a granted repository", vera, "/ui/jobs/job-acme", http.StatusOK},
		{"viewer does not see a job elsewhere", vera, "/ui/jobs/job-other", http.StatusNotFound},
		{"someone without a grant sees nothing", eve, "/ui/jobs", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.person)
			if code := e.get(tt.path); code != tt.status {
				t.Errorf("GET %s as %s: %d, want %d:\n%s", tt.path, tt.person.Name, code, tt.status, e.lastBody)
			}
		})
	}
}

func TestViewerJobListShowsOnlyGrantedRepositories(t *testing.T) {
	e := setup(t, vera)
	e.signIn()
	if !strings.Contains(e.lastBody, "acme/api") || strings.Contains(e.lastBody, "other/api") {
		t.Errorf("viewer's job list, want acme/api only:\n%s", e.lastBody)
	}
}

func TestReplayNeedsOperatorAndTheFormsToken(t *testing.T) {
	t.Run("viewer is refused", func(t *testing.T) {
		e := setup(t, vera)
		e.get("/ui/jobs/job-acme")
		if strings.Contains(e.lastBody, `id="replay"`) {
			t.Error("a viewer is offered the replay button")
		}
		if code := e.post("/ui/jobs/job-acme/replay", url.Values{"csrf": {e.csrf()}}); code != http.StatusForbidden {
			t.Errorf("viewer replay: %d, want 403", code)
		}
		if len(e.jobs.replayed) != 0 {
			t.Errorf("replayed %v", e.jobs.replayed)
		}
	})
	t.Run("operator without the token is refused", func(t *testing.T) {
		e := setup(t, hubot)
		e.get("/ui/jobs/job-acme")
		if code := e.post("/ui/jobs/job-acme/replay", url.Values{}); code != http.StatusForbidden {
			t.Errorf("replay without CSRF token: %d, want 403", code)
		}
		if len(e.jobs.replayed) != 0 {
			t.Errorf("replayed %v", e.jobs.replayed)
		}
	})
	t.Run("operator replays through the job service", func(t *testing.T) {
		e := setup(t, hubot)
		e.get("/ui/jobs/job-acme")
		if code := e.post("/ui/jobs/job-acme/replay", url.Values{"csrf": {e.csrf()}}); code != http.StatusOK {
			t.Fatalf("replay: %d:\n%s", code, e.lastBody)
		}
		if want := "job-acme by sso:hubot@example.com"; len(e.jobs.replayed) != 1 || e.jobs.replayed[0] != want {
			t.Errorf("replays %v, want [%s]", e.jobs.replayed, want)
		}
		if !strings.Contains(e.lastBody, "Replay enqueued") {
			t.Errorf("after replay, not on the new attempt's page:\n%s", e.lastBody)
		}
	})
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	e := setup(t, mona)
	e.signIn()
	resp, err := e.browser.Get(e.srv.URL + "/ui/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q on an authenticated page, want no-store", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got == "" {
		t.Error("no Referrer-Policy")
	}
	// And no page has inline script.
	if regexp.MustCompile(`<script>|<script[^>]*>[^<]`).MatchString(e.lastBody) || strings.Contains(e.lastBody, " onclick=") {
		t.Errorf("inline script on the page:\n%s", e.lastBody)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
