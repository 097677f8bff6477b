package ghauth_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/ghauth"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestGitHubTokensMapToRolesByUserAndTeam(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddUser("gho_alice", githubtest.User{Login: "alice"})
	gh.AddUser("gho_bob", githubtest.User{Login: "bob"})
	gh.AddUser("gho_carol", githubtest.User{Login: "carol"})
	gh.AddUser("gho_dave", githubtest.User{Login: "dave"})
	gh.SetTeamMember("acme", "platform", "bob", "member", "active")
	gh.SetTeamMember("acme", "platform", "dave", "member", "active")
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	server, err := config.ParseServer("server.yml", []byte(`
rbac:
  roles:
    admin:
      users: [alice]
    maintainer:
      teams: [acme/platform]
    blocked:
      users: [dave]
`))
	if err != nil {
		t.Fatal(err)
	}
	a := ghauth.New(client, server.RBAC)
	tests := []struct {
		token string
		want  []patchpanda.Scope
	}{
		{"gho_alice", []patchpanda.Scope{patchpanda.ScopeAdmin}},
		{"gho_bob", []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeCoverageRead, patchpanda.ScopeJobsRead, patchpanda.ScopeJobsWrite}},
		{"gho_carol", nil},
		{"gho_dave", nil},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != "github_user" {
				t.Errorf("kind = %q", p.Kind)
			}
			if diff := cmp.Diff(tt.want, p.Scopes); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := a.Authenticate(context.Background(), "gho_unknown"); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
		t.Errorf("unknown token: %v, want unauthorized", err)
	}
}

func TestARejectedTokenIsRememberedAndNotSentToGitHubAgain(t *testing.T) {
	gh := githubtest.New(t)
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := ghauth.New(client, config.RBAC{})
	gh.ResetCalls()
	for range 120 {
		if _, err := a.Authenticate(context.Background(), "gho_junk"); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
			t.Fatalf("junk token: %v, want unauthorized", err)
		}
	}
	if n := len(gh.CallsTo(githubtest.RouteGetUser)); n != 1 {
		t.Errorf("120 tries of one junk token made %d calls to GET /user; want 1", n)
	}
}
