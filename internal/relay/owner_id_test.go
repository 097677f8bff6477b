package relay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/relay"
)

// An Actions token's repository_owner_id must be the id of the account
// whose installation holds the token's repository_id, once the relay has
// learned that id from an installation webhook.
func TestActionsTokenOwnerIdMustBeTheInstallationAccount(t *testing.T) {
	eachDB(t, func(t *testing.T, dbURL string) {
		iss := actionsoidctest.New(t)
		w := newWorld(t, "db", dbURL, func(c *relay.Config) { c.ActionsOIDCIssuer = iss.URL() })
		const acmeID, newcoID = 900, 901
		upload := func(repo, sha string, ownerID int64) (int, string) {
			t.Helper()
			tok := iss.Token(t, repo, "patchpanda", time.Hour, actionsoidctest.IDs(7001, ownerID))
			req, _ := http.NewRequest(http.MethodPost, w.relay.URL()+"/api/coverage?repo="+repo+"&sha="+strings.Repeat(sha, 40), strings.NewReader("TN:\nSF:a.go\nDA:1,1\nend_of_record\n"))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct{ Message string } `json:"error"`
			}
			_ = json.Unmarshal(b, &e)
			return resp.StatusCode, e.Error.Message
		}

		// Installed before the relay kept account ids: the payload has no
		// account id, so only the repository id is checked.
		w.send("installation", "inst-1", map[string]any{
			"action":       "created",
			"installation": map[string]any{"id": instID, "account": map[string]any{"login": "acme", "type": "Organization"}, "app_id": w.gh.AppID},
			"repositories": []map[string]any{{"id": 7001, "name": "widgets", "full_name": "acme/widgets"}},
			"sender":       map[string]any{"login": "alice", "type": "User"},
		}, http.StatusAccepted)
		w.settle()
		if st, msg := upload("acme/widgets", "a", newcoID); st != 201 {
			t.Fatalf("owner id while the account id is unknown: %d %s, want 201", st, msg)
		}

		// The next installation event carries installation.account.id:
		// the relay learns it, and checks it from then on.
		w.send("installation_repositories", "added-1", map[string]any{
			"action":               "added",
			"installation":         map[string]any{"id": instID, "account": map[string]any{"login": "acme", "id": acmeID, "type": "Organization"}, "app_id": w.gh.AppID},
			"repository_selection": "selected",
			"repositories_added":   []map[string]any{{"id": 7002, "name": "gadgets", "full_name": "acme/gadgets"}},
			"repositories_removed": []map[string]any{},
			"sender":               map[string]any{"login": "alice", "type": "User"},
		}, http.StatusAccepted)
		w.settle()
		if st, msg := upload("acme/widgets", "b", acmeID); st != 201 {
			t.Fatalf("matching owner id: %d %s, want 201", st, msg)
		}
		if st, msg := upload("acme/widgets", "c", newcoID); st != 403 || !strings.Contains(msg, "repository_owner_id") {
			t.Errorf("another owner id: %d %q, want 403 naming repository_owner_id", st, msg)
		}

		// Transferred to newco, which has not installed PatchPanda: the
		// repository id is still in acme's installation, but newco's
		// tokens are refused.
		w.send("repository", "transfer-1", repositoryPayload("transferred", 7001, "newco", "widgets"), http.StatusAccepted)
		w.settle()
		if st, msg := upload("newco/widgets", "d", newcoID); st != 403 || !strings.Contains(msg, "repository_owner_id") {
			t.Errorf("the transferred repository's new owner under the old owner's installation: %d %q, want 403", st, msg)
		}
		if st, msg := upload("newco/widgets", "e", acmeID); st != 201 {
			t.Errorf("the installation account's owner id: %d %s, want 201", st, msg)
		}

		// An installation event without the account id keeps the one
		// already known.
		w.send("installation", "inst-2", map[string]any{
			"action":       "new_permissions_accepted",
			"installation": map[string]any{"id": instID, "account": map[string]any{"login": "acme", "type": "Organization"}, "app_id": w.gh.AppID},
			"sender":       map[string]any{"login": "alice", "type": "User"},
		}, http.StatusAccepted)
		w.settle()
		if st, msg := upload("newco/widgets", "f", newcoID); st != 403 {
			t.Errorf("an event without the account id forgot the known one: %d %s, want 403", st, msg)
		}
	})
}
