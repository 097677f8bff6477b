package authz

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const serverYAML = `rbac:
  roles:
    admin: {users: [root]}
    maintainer:
      users: [mona]
      teams: [acme/platform]
  rules:
    - name: contractors
      repos: acme/api-*
      role: developer
      users: [bob]
      teams: [acme/contractors]
    - repos: acme/*
      role: blocked
      users: [mallory]
`

func testPolicy(t *testing.T, access string) Policy {
	t.Helper()
	s, err := config.ParseServer("server.yml", []byte(serverYAML))
	if err != nil {
		t.Fatal(err)
	}
	var base *config.RepoConfig
	if access != "" {
		if base, err = config.ParseRepoConfig(".testbot.yml", []byte(access)); err != nil {
			t.Fatal(err)
		}
	}
	eff, vs := config.Effective(s, base, nil, "acme/api")
	if len(vs) != 0 {
		t.Fatalf("violations: %v", vs)
	}
	return Policy{RBAC: s.RBAC, Access: eff.Access}
}

func TestDecide(t *testing.T) {
	const accessFile = "access:\n  allow_users: [dave, \"renovate[bot]\"]\n  allow_teams: [qa]\n"
	tests := []struct {
		name   string
		access string
		req    Request
		want   Decision
	}{
		{
			name: "default rule allows write permission",
			req:  Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionWrite},
			want: Decision{Allowed: true, Role: config.RoleDeveloper, Trusted: true, Reason: "alice has write permission on acme/api"},
		},
		{
			name: "default rule denies read permission",
			req:  Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionRead},
			want: Decision{Role: config.RoleViewer, Reason: "alice has read permission on acme/api; write is required"},
		},
		{
			name: "default rule denies no permission",
			req:  Request{Actor: Actor{Login: "carol"}, Repo: "acme/api", Event: EventCheckRerun, Permission: config.PermissionNone},
			want: Decision{Role: config.RoleNone, Reason: "carol has no permission on acme/api; write is required"},
		},
		{
			name: "admin permission makes a maintainer",
			req:  Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: EventAPI, Permission: config.PermissionAdmin},
			want: Decision{Allowed: true, Role: config.RoleMaintainer, Trusted: true, Reason: "alice has admin permission on acme/api"},
		},
		{
			name:   "min_permission from the default branch lowers the bar",
			access: "access: {min_permission: triage}\n",
			req:    Request{Actor: Actor{Login: "tri"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionTriage},
			want:   Decision{Allowed: true, Role: config.RoleDeveloper, Reason: "tri has triage permission on acme/api"},
		},
		{
			name:   "min_permission can raise the bar",
			access: "access: {min_permission: maintain}\n",
			req:    Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionWrite},
			want:   Decision{Role: config.RoleViewer, Trusted: true, Reason: "alice has write permission on acme/api; maintain is required"},
		},
		{
			name:   "explicit user allow in access",
			access: accessFile,
			req:    Request{Actor: Actor{Login: "Dave"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionRead},
			want:   Decision{Allowed: true, Role: config.RoleDeveloper, Reason: "Dave is a developer on acme/api by access.allow_users"},
		},
		{
			name:   "team allow in access reads a bare slug as the owner's team",
			access: accessFile,
			req:    Request{Actor: Actor{Login: "quinn"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionRead, Teams: []string{"acme/qa"}},
			want:   Decision{Allowed: true, Role: config.RoleDeveloper, Reason: "quinn is a developer on acme/api by access.allow_teams (team acme/qa)"},
		},
		{
			name: "rbac user grant applies to matching repositories",
			req:  Request{Actor: Actor{Login: "bob"}, Repo: "acme/api-gw", Event: EventComment, Permission: config.PermissionRead},
			want: Decision{Allowed: true, Role: config.RoleDeveloper, Reason: `bob is a developer on acme/api-gw by rbac.rules[0] "contractors"`},
		},
		{
			name: "rbac user grant does not apply elsewhere",
			req:  Request{Actor: Actor{Login: "bob"}, Repo: "acme/web", Event: EventComment, Permission: config.PermissionRead},
			want: Decision{Role: config.RoleViewer, Reason: "bob has read permission on acme/web; write is required"},
		},
		{
			name: "team allow with a repository pattern",
			req:  Request{Actor: Actor{Login: "cleo"}, Repo: "acme/api-gw", Event: EventComment, Teams: []string{"ACME/contractors"}},
			want: Decision{Allowed: true, Role: config.RoleDeveloper, Reason: `cleo is a developer on acme/api-gw by rbac.rules[0] "contractors" (team acme/contractors)`},
		},
		{
			name: "maintainer team",
			req:  Request{Actor: Actor{Login: "pat"}, Repo: "acme/web", Event: EventComment, Teams: []string{"acme/platform"}},
			want: Decision{Allowed: true, Role: config.RoleMaintainer, Trusted: true, Reason: "pat is a maintainer on acme/web by rbac.roles.maintainer (team acme/platform)"},
		},
		{
			name: "a team grant never reaches another organization",
			req:  Request{Actor: Actor{Login: "pat"}, Repo: "other/web", Event: EventComment, Teams: []string{"acme/platform"}},
			want: Decision{Role: config.RoleNone, Reason: "pat has no permission on other/web; write is required"},
		},
		{
			name: "a user role without repos applies everywhere",
			req:  Request{Actor: Actor{Login: "root"}, Repo: "other/web", Event: EventAPI},
			want: Decision{Allowed: true, Role: config.RoleAdmin, Trusted: true, Reason: "root is an admin on other/web by rbac.roles.admin"},
		},
		{
			name: "bot denied even with write permission",
			req:  Request{Actor: Actor{Login: "dependabot[bot]", Bot: true}, Repo: "acme/api", Event: EventPullRequest, Permission: config.PermissionWrite},
			want: Decision{Reason: "dependabot[bot] is a bot; a bot may start jobs only when listed by login in the server's rbac or in access.allow_users"},
		},
		{
			name: "a login ending in [bot] is a bot",
			req:  Request{Actor: Actor{Login: "patchpanda[bot]"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionAdmin},
			want: Decision{Reason: "patchpanda[bot] is a bot; a bot may start jobs only when listed by login in the server's rbac or in access.allow_users"},
		},
		{
			name:   "bot listed by login is allowed",
			access: accessFile,
			req:    Request{Actor: Actor{Login: "renovate[bot]", Bot: true}, Repo: "acme/api", Event: EventPullRequest, Permission: config.PermissionWrite},
			want:   Decision{Allowed: true, Role: config.RoleDeveloper, Reason: "renovate[bot] is a developer on acme/api by access.allow_users"},
		},
		{
			name: "blocked wins over admin permission",
			req:  Request{Actor: Actor{Login: "mallory"}, Repo: "acme/api", Event: EventComment, Permission: config.PermissionAdmin},
			want: Decision{Role: config.RoleBlocked, Reason: "mallory is blocked on acme/api by rbac.rules[1]"},
		},
		{
			name: "fork PR by an untrusted author is denied",
			req:  Request{Actor: Actor{Login: "eve"}, Repo: "acme/api", Event: EventPullRequest, Fork: true, Permission: config.PermissionRead},
			want: Decision{Role: config.RoleViewer, Reason: "fork PR: needs a command from a trusted person (write permission or the maintainer role); eve has read permission on acme/api"},
		},
		{
			name: "fork PR by an author with write permission runs",
			req:  Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: EventPullRequest, Fork: true, Permission: config.PermissionWrite},
			want: Decision{Allowed: true, Role: config.RoleDeveloper, Trusted: true, Reason: "alice has write permission on acme/api"},
		},
		{
			name: "fork PR commanded by a maintainer is allowed",
			req:  Request{Actor: Actor{Login: "mona"}, Repo: "acme/api", Event: EventComment, Fork: true, Permission: config.PermissionRead},
			want: Decision{Allowed: true, Role: config.RoleMaintainer, Trusted: true, Reason: "mona is a maintainer on acme/api by rbac.roles.maintainer"},
		},
		{
			name:   "fork PR commanded by an allowed developer without write is denied",
			access: accessFile,
			req:    Request{Actor: Actor{Login: "dave"}, Repo: "acme/api", Event: EventComment, Fork: true, Permission: config.PermissionRead},
			want:   Decision{Role: config.RoleDeveloper, Reason: "fork PR: needs a command from a trusted person (write permission or the maintainer role); dave has read permission on acme/api and is a developer by access.allow_users"},
		},
		{
			name: "unknown event is denied",
			req:  Request{Actor: Actor{Login: "alice"}, Repo: "acme/api", Event: "push", Permission: config.PermissionAdmin},
			want: Decision{Reason: `unknown event "push"`},
		},
		{
			name: "no actor is denied",
			req:  Request{Repo: "acme/api", Event: EventComment},
			want: Decision{Reason: "the request has no GitHub user to check"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(testPolicy(t, tt.access), tt.req)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideWithoutServerConfigUsesPermissionAlone(t *testing.T) {
	got := Decide(Policy{Access: config.Defaults().Access}, Request{Actor: Actor{Login: "alice"}, Repo: "o/r", Event: EventComment, Permission: config.PermissionMaintain})
	want := Decision{Allowed: true, Role: config.RoleMaintainer, Trusted: true, Reason: "alice has maintain permission on o/r"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decide (-want +got):\n%s", diff)
	}
}

func TestNeeds(t *testing.T) {
	tests := []struct {
		name   string
		access string
		repo   string
		actor  Actor
		want   Lookups
	}{
		{"a person needs permission and the teams that apply", "access:\n  allow_teams: [QA, other/x]\n", "acme/api-gw", Actor{Login: "alice"},
			Lookups{Permission: true, Teams: []string{"acme/contractors", "acme/platform", "acme/qa", "other/x"}}},
		{"teams of other organizations and repositories are skipped", "", "other/web", Actor{Login: "alice"},
			Lookups{Permission: true}},
		{"a bot needs nothing: only its login counts", "", "acme/api", Actor{Login: "renovate[bot]"}, Lookups{}},
		{"a user blocked by login needs nothing", "", "acme/api", Actor{Login: "Mallory"}, Lookups{}},
		{"no login needs nothing", "", "acme/api", Actor{}, Lookups{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Needs(testPolicy(t, tt.access), tt.repo, tt.actor)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Needs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	tests := []struct {
		role config.Role
		want []patchpanda.Scope
	}{
		{config.RoleAdmin, []patchpanda.Scope{patchpanda.ScopeAdmin}},
		{config.RoleViewer, []patchpanda.Scope{patchpanda.ScopeCoverageRead, patchpanda.ScopeJobsRead}},
		{config.RoleBlocked, nil},
		{config.RoleNone, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Scopes(tt.role)); diff != "" {
				t.Errorf("Scopes (-want +got):\n%s", diff)
			}
		})
	}
}
