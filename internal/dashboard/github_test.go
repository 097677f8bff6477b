package dashboard_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/dashboard"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// githubEnv is a dashboard whose people sign in with GitHub (an OAuth
// App) against the fake GitHub.
func githubEnv(t *testing.T, user githubtest.User) (*env, *githubtest.Server) {
	t.Helper()
	gh := githubtest.New(t)
	gh.SetOAuthApp("Iv1.dashboard", "oauth-secret")
	gh.SetOAuthUser(user)
	gh.SetTeamMember("acme", "platform", "octo", "member", "active")
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: storetest.SQLite(t), jobs: newFakeJobs()}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.dash, err = dashboard.New(dashboard.Options{
		GitHub:      dashboard.GitHubOAuth{ClientID: "Iv1.dashboard", ClientSecret: "oauth-secret", RedirectURL: e.srv.URL + "/auth/callback", WebURL: gh.URL()},
		GitHubUsers: client, Sessions: e.db, Jobs: e.jobs,
		Grants: []config.DashboardGrant{
			{Source: "dashboard.roles.operator", Role: config.DashboardOperator, GitHubLogins: []string{"hubot"}},
			{Source: "dashboard.roles.viewer", Role: config.DashboardViewer, Groups: []string{"acme/platform"}, Repos: []string{"acme/*"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.dash.Register(mux)
	jar, _ := cookiejar.New(nil)
	e.browser = &http.Client{Jar: jar}
	return e, gh
}

func TestSignInWithGitHub(t *testing.T) {
	t.Run("a GitHub login granted operator replays", func(t *testing.T) {
		e, gh := githubEnv(t, githubtest.User{Login: "hubot", Name: "Hubot"})
		e.signIn()
		if !strings.Contains(e.lastBody, "Hubot") || !strings.Contains(e.lastBody, "other/api") {
			t.Errorf("jobs page after GitHub sign-in:\n%s", e.lastBody)
		}
		e.get("/ui/jobs/job-acme")
		if code := e.post("/ui/jobs/job-acme/replay", url.Values{"csrf": {e.csrf()}}); code != http.StatusOK || len(e.jobs.replayed) != 1 {
			t.Errorf("replay as hubot: %d, replays %v", code, e.jobs.replayed)
		}
		auth := gh.CallsTo(githubtest.RouteGetUser)
		if len(auth) != 1 || auth[0].User != "hubot" {
			t.Errorf("GET /user calls %+v, want one as hubot", auth)
		}
	})
	t.Run("a team member gets the team's grant", func(t *testing.T) {
		e, _ := githubEnv(t, githubtest.User{Login: "octo", Name: "Octo Cat"})
		e.signIn()
		if !strings.Contains(e.lastBody, "acme/api") || strings.Contains(e.lastBody, "other/api") {
			t.Errorf("octo (acme/platform, viewer of acme/*) sees:\n%s", e.lastBody)
		}
	})
	t.Run("someone without a grant is refused", func(t *testing.T) {
		e, _ := githubEnv(t, githubtest.User{Login: "mallory"})
		if code := e.get("/ui/jobs"); code != http.StatusForbidden {
			t.Errorf("mallory: %d, want 403", code)
		}
	})
	t.Run("a forged state is refused", func(t *testing.T) {
		e, _ := githubEnv(t, githubtest.User{Login: "hubot"})
		if code := e.get("/auth/callback?code=x&state=forged"); code != http.StatusBadRequest {
			t.Errorf("forged callback: %d, want 400", code)
		}
		if _, err := e.db.SessionByHash(context.Background(), nil); err == nil {
			t.Error("a session exists")
		}
	})
}
