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
	gh.AddInstallation(githubtest.Installation{ID: 100, Account: "acme"})
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
	a := ghauth.New(client, server.RBAC, installations{"acme": 100})
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
			if p.Kind != patchpanda.PrincipalGitHubUser {
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

// installations is the App's installations by organisation.
type installations map[string]int64

func (m installations) InstallationForAccount(_ context.Context, account string) (int64, error) {
	if id, ok := m[account]; ok {
		return id, nil
	}
	return 0, patchpanda.Errorf(patchpanda.ENOTFOUND, "the App is not installed on %s", account)
}

func TestTeamsAreLookedUpWithTheInstallationTokenAndBlocksFailClosed(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddInstallation(githubtest.Installation{ID: 100, Account: "acme"})
	gh.AddUser("gho_erin", githubtest.User{Login: "erin"})
	gh.SetTeamMember("acme", "platform", "erin", "member", "active")
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL(), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rbac := func(yaml string) config.RBAC {
		s, err := config.ParseServer("server.yml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return s.RBAC
	}
	maintainers := rbac("rbac:\n  roles:\n    maintainer:\n      teams: [acme/platform]\n")
	p, err := ghauth.New(client, maintainers, installations{"acme": 100}).Authenticate(context.Background(), "gho_erin")
	if err != nil || len(p.Scopes) == 0 {
		t.Fatalf("team maintainer: %+v, %v", p, err)
	}
	for _, c := range gh.CallsTo(githubtest.RouteGetTeamMembership) {
		if c.Auth != githubtest.AuthInstallation {
			t.Errorf("team membership looked up with %s credentials, want the installation's", c.Auth)
		}
	}

	blocked := rbac("rbac:\n  roles:\n    maintainer:\n      users: [erin]\n    blocked:\n      teams: [acme/contractors, umbrella/all]\n")
	t.Run("an organisation without the App", func(t *testing.T) {
		p, err := ghauth.New(client, blocked, installations{"acme": 100}).Authenticate(context.Background(), "gho_erin")
		if err != nil || len(p.Scopes) != 0 {
			t.Errorf("a block that cannot be checked let erin through: %+v, %v", p, err)
		}
	})
	t.Run("GitHub failing the look-up", func(t *testing.T) {
		gh.FailNext(githubtest.RouteGetTeamMembership, 502, 1)
		p, err := ghauth.New(client, blocked, installations{"acme": 100, "umbrella": 100}).Authenticate(context.Background(), "gho_erin")
		if err != nil || len(p.Scopes) != 0 {
			t.Errorf("a block whose look-up failed let erin through: %+v, %v", p, err)
		}
	})
}

func TestARejectedTokenIsRememberedAndNotSentToGitHubAgain(t *testing.T) {
	gh := githubtest.New(t)
	client, err := githubapp.New(githubapp.Config{AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM, BaseURL: gh.URL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := ghauth.New(client, config.RBAC{}, installations{})
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
