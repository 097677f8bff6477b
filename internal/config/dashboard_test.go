package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDashboardRolesParseAsTheSpecWritesThem(t *testing.T) {
	s, err := ParseServer("server.yml", []byte(`dashboard:
  roles:
    admin:    {emails: [mona@example.com]}
    operator: {groups: [platform], github_logins: [hubot]}
    viewer:   {subjects: ["1234567890"], repos: [acme/*]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []DashboardGrant{
		{Source: "dashboard.roles.admin", Role: DashboardAdmin, Emails: []string{"mona@example.com"}, Line: 3, Column: 5},
		{Source: "dashboard.roles.operator", Role: DashboardOperator, Groups: []string{"platform"}, GitHubLogins: []string{"hubot"}, Line: 4, Column: 5},
		{Source: "dashboard.roles.viewer", Role: DashboardViewer, Subjects: []string{"1234567890"}, Repos: []string{"acme/*"}, Line: 5, Column: 5},
	}
	if diff := cmp.Diff(want, s.Dashboard.Grants); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if !s.Dashboard.Grants[0].Matches("x", "MONA@example.com", "", nil) || s.Dashboard.Grants[0].Matches("x", "hubot@example.com", "", nil) {
		t.Error("email grant matches the wrong people")
	}
	if !s.Dashboard.Grants[1].Matches("", "", "HUBOT", nil) || !s.Dashboard.Grants[1].Matches("", "", "", []string{"platform"}) {
		t.Error("operator grant misses hubot or the platform group")
	}
}

func TestDashboardRolesRejectMistakesWithTheirPlace(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown role", "dashboard:\n  roles:\n    owner: {emails: [a@b.c]}\n", "server.yml:3:5: dashboard.roles.owner: unknown role"},
		{"nobody granted", "dashboard:\n  roles:\n    admin: {repos: [acme/*]}\n", "dashboard.roles.admin: grants nobody"},
		{"bad email", "dashboard:\n  roles:\n    admin: {emails: [mona]}\n", "dashboard.roles.admin.emails[0]: must be an email address"},
		{"unknown key", "dashboard:\n  theme: dark\n", "dashboard.theme: unknown key"},
		{"bad repo glob", "dashboard:\n  roles:\n    viewer: {subjects: [\"1\"], repos: [acme]}\n", "dashboard.roles.viewer.repos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseServer("server.yml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
