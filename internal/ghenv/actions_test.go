package ghenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const (
	headSHA = "1111111111111111111111111111111111111111"
	pushSHA = "2222222222222222222222222222222222222222"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// eventFile writes a fake GITHUB_EVENT_PATH payload.
func eventFile(t *testing.T, payload string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestActionsContext(t *testing.T) {
	prEvent := `{"number":12,"pull_request":{"number":12,"head":{"sha":"` + headSHA + `","ref":"feature"}}}`
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/hello", "GITHUB_SHA": pushSHA,
			"GITHUB_JOB": "test", "GITHUB_RUN_ID": "99"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		env    map[string]string
		want   Actions
		wantOK bool
		errHas string
	}{
		{"outside Actions there is no context", map[string]string{"GITHUB_SHA": pushSHA}, Actions{}, false, ""},
		{"a pull_request run is for the PR's head commit, not the merge commit",
			base(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": eventFile(t, prEvent),
				"GITHUB_HEAD_REF": "feature", "GITHUB_REF": "refs/pull/12/merge", "GITHUB_REF_NAME": "12/merge"}),
			Actions{Repository: "octo/hello", SHA: headSHA, Branch: "feature", PR: 12, CIJob: "test/99", EventName: "pull_request"}, true, ""},
		{"a pull_request_target run without GITHUB_HEAD_REF takes the branch from the payload",
			base(map[string]string{"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": eventFile(t, prEvent)}),
			Actions{Repository: "octo/hello", SHA: headSHA, Branch: "feature", PR: 12, CIJob: "test/99", EventName: "pull_request_target"}, true, ""},
		{"a push to a branch is for GITHUB_SHA on GITHUB_REF_NAME",
			base(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": eventFile(t, `{"after":"x"}`),
				"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"}),
			Actions{Repository: "octo/hello", SHA: pushSHA, Branch: "main", CIJob: "test/99", EventName: "push"}, true, ""},
		{"a tag push has no branch",
			base(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1", "GITHUB_REF_NAME": "v1", "GITHUB_REF_TYPE": "tag"}),
			Actions{Repository: "octo/hello", SHA: pushSHA, CIJob: "test/99", EventName: "push"}, true, ""},
		{"a missing event file is no error",
			base(map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_EVENT_PATH": "/nonexistent/event.json", "GITHUB_REF": "refs/heads/dev", "GITHUB_REF_NAME": "dev"}),
			Actions{Repository: "octo/hello", SHA: pushSHA, Branch: "dev", CIJob: "test/99", EventName: "workflow_dispatch"}, true, ""},
		{"an event file that is not JSON is an error naming it",
			base(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": eventFile(t, "{oops")}),
			Actions{}, true, "event.json"},
		{"a pull request event without its head sha is an error",
			base(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": eventFile(t, `{"pull_request":{"number":3}}`)}),
			Actions{}, true, "pull_request.head.sha"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ActionsContext(envOf(tc.env))
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || patchpanda.ErrorCode(err) != patchpanda.EINVALID {
					t.Fatalf("err = %v, want an EINVALID error mentioning %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("context (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIDToken(t *testing.T) {
	var gotAudience, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAudience, gotAuth = r.URL.Query().Get("audience"), r.Header.Get("Authorization")
		if r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "lost the runner's own query", http.StatusBadRequest)
			return
		}
		if gotAuth != "Bearer request-token" {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"value":"eyJ.id.token"}`))
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		env    map[string]string
		want   string
		errHas string
	}{
		{"the runner mints a token for the audience",
			map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"},
			"eyJ.id.token", ""},
		{"without id-token permission the error says how to grant it", map[string]string{}, "", "permissions: id-token: write"},
		{"a refused request token is an authentication error",
			map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "stale"},
			"", "Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := IDToken(context.Background(), envOf(tc.env), srv.Client(), Audience)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
					t.Fatalf("err = %v, want an EUNAUTHORIZED error mentioning %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || gotAudience != "patchpanda" {
				t.Errorf("token %q for audience %q, want %q for patchpanda", got, gotAudience, tc.want)
			}
		})
	}
}
