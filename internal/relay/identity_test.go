package relay_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

// repositoryPayload is a "repository" webhook for the repository with id
// id, now called owner/name.
func repositoryPayload(action string, id int64, owner, name string) map[string]any {
	return map[string]any{
		"action":       action,
		"repository":   map[string]any{"id": id, "name": name, "full_name": owner + "/" + name, "owner": map[string]any{"login": owner, "type": "Organization"}},
		"installation": map[string]any{"id": instID},
		"sender":       map[string]any{"login": "alice", "type": "User"},
	}
}

func TestRepositoriesAreKnownByIdThroughRenameTransferAndRecreation(t *testing.T) {
	eachDB(t, func(t *testing.T, dbURL string) {
		iss := actionsoidctest.New(t)
		w := newWorld(t, "db", dbURL, func(c *relay.Config) { c.ActionsOIDCIssuer = iss.URL() })
		ctx := context.Background()
		w.send("installation", "inst-1", map[string]any{
			"action":       "created",
			"installation": map[string]any{"id": instID, "account": map[string]any{"login": "acme", "type": "Organization"}, "app_id": w.gh.AppID},
			"repositories": []map[string]any{{"id": 7001, "name": "widgets", "full_name": "acme/widgets"}},
			"sender":       map[string]any{"login": "alice", "type": "User"},
		}, http.StatusAccepted)
		w.settle()
		_, key, err := w.relay.Keys.Create(ctx, "ci", []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeCoverageRead}, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		upload := func(repo, sha, token string) int {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, w.relay.URL()+"/api/coverage?repo="+repo+"&sha="+strings.Repeat(sha, 40), strings.NewReader("TN:\nSF:a.go\nDA:1,1\nend_of_record\n"))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		actions := func(repo string, id int64) string {
			return iss.Token(t, repo, "patchpanda", time.Hour, actionsoidctest.IDs(id, 500))
		}
		history := func(repo string) string {
			t.Helper()
			list, err := httpapi.NewClient(w.relay.URL(), key).CoverageReports(ctx, coverage.ListParams{Repo: repo})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range list.Reports {
				out = append(out, r.SHA[:1])
			}
			return strings.Join(out, ",")
		}
		check := func(repo, want string) {
			t.Helper()
			if got := history(repo); got != want {
				t.Errorf("%s has reports %q, want %q", repo, got, want)
			}
		}

		if st := upload("acme/widgets", "a", actions("acme/widgets", 7001)); st != 201 {
			t.Fatalf("Actions upload for the installed repository: %d", st)
		}
		// Renamed on GitHub: the history goes with the id.
		w.send("repository", "rename-1", repositoryPayload("renamed", 7001, "acme", "gadgets"), http.StatusAccepted)
		w.settle()
		if st := upload("acme/gadgets", "b", key); st != 201 {
			t.Fatalf("key upload after the rename: %d", st)
		}
		check("acme/gadgets", "b,a")
		check("acme/widgets", "")

		// Deleted, and a new acme/widgets created and installed: a token
		// of the old id is refused, the new one starts an empty history.
		w.send("repository", "delete-1", repositoryPayload("deleted", 7001, "acme", "gadgets"), http.StatusAccepted)
		w.send("installation_repositories", "added-1", map[string]any{
			"action":               "added",
			"installation":         map[string]any{"id": instID, "account": map[string]any{"login": "acme", "type": "Organization"}, "app_id": w.gh.AppID},
			"repository_selection": "selected",
			"repositories_added":   []map[string]any{{"id": 7002, "name": "widgets", "full_name": "acme/widgets"}},
			"repositories_removed": []map[string]any{},
			"sender":               map[string]any{"login": "alice", "type": "User"},
		}, http.StatusAccepted)
		w.settle()
		if st := upload("acme/gadgets", "c", actions("acme/gadgets", 7001)); st != 403 {
			t.Errorf("Actions upload from the deleted repository's id: %d, want 403", st)
		}
		if st := upload("acme/widgets", "c", actions("acme/widgets", 7001)); st != 403 {
			t.Errorf("Actions upload naming the new repository with the old id: %d, want 403", st)
		}
		if st := upload("acme/widgets", "d", actions("acme/widgets", 7002)); st != 201 {
			t.Fatalf("Actions upload for the re-created repository: %d", st)
		}
		check("acme/widgets", "d")

		// Transferred to newco: same id, so the same history.
		w.send("repository", "transfer-1", repositoryPayload("transferred", 7002, "newco", "widgets"), http.StatusAccepted)
		w.settle()
		if st := upload("newco/widgets", "e", actions("newco/widgets", 7002)); st != 201 {
			t.Fatalf("Actions upload after the transfer: %d", st)
		}
		check("newco/widgets", "e,d")
		if rep, err := httpapi.NewClient(w.relay.URL(), key).CoverageReports(ctx, coverage.ListParams{Repo: "Acme/Widgets"}); err != nil || len(rep.Reports) != 0 {
			t.Errorf("the name acme/widgets after the transfer: %v, %v", rep.Reports, err)
		}
	})
}
