package coveragesvc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/coveragesvc"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// shas lists the commits of the reports GET /api/coverage?repo=r answers.
func (e *env) shas(t *testing.T, r string) string {
	t.Helper()
	var list coverage.List
	if st := e.get(t, "/api/coverage?repo="+r, e.key, &list); st != 200 {
		t.Fatalf("list %s: %d", r, st)
	}
	var out []string
	for _, rep := range list.Reports {
		out = append(out, rep.SHA[:1])
	}
	return strings.Join(out, ",")
}

func TestCoverageSeriesFollowTheRepositoryIdNotItsName(t *testing.T) {
	const shaD = "dddddddddddddddddddddddddddddddddddddddd"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := setup(t, db, coveragesvc.Options{UploadsPerMinute: 1000}, nil) // acme/widgets is id 1, acme/other id 2
		body := []byte(lcov("pkg/a.go", 1, 0))
		token := func(name string, id int64) string {
			return e.issuer.Token(t, name, "patchpanda", time.Hour, actionsoidctest.IDs(id, 99))
		}
		post := func(name, sha, tok string, want int) {
			t.Helper()
			if a := e.post(t, upload{query: "repo=" + name + "&sha=" + sha, body: body, token: tok}); a.status != want {
				t.Fatalf("upload %s@%s = %d %s, want %d", name, sha[:1], a.status, a.body, want)
			}
		}

		// One repository whatever the case of its name.
		post("Acme/Widgets", shaA, e.key, 201)
		post("acme/widgets", shaB, token("acme/widgets", 1), 201)
		if got := e.shas(t, "ACME/widgets"); got != "b,a" {
			t.Errorf("Acme/Widgets and acme/widgets: reports %s, want b,a", got)
		}

		// Renamed to acme/gadgets: the signed token ties the new name to
		// id 1, and the history comes along.
		post("acme/gadgets", shaC, token("acme/gadgets", 1), 201)
		if got := e.shas(t, "acme/gadgets"); got != "c,b,a" {
			t.Errorf("after the rename: acme/gadgets has %s, want c,b,a", got)
		}
		if got := e.shas(t, "acme/widgets"); got != "" {
			t.Errorf("after the rename: the old name still has %s", got)
		}

		// A new acme/widgets (id 3) is not the old one: a token naming it
		// is refused until the App is installed there, and then starts
		// an empty history.
		post("acme/widgets", shaD, token("acme/widgets", 3), 403)
		if err := db.AddInstallationRepositories(ctx, 100, []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 3}}); err != nil {
			t.Fatal(err)
		}
		post("acme/widgets", shaD, token("acme/widgets", 3), 201)
		if got := e.shas(t, "acme/widgets"); got != "d" {
			t.Errorf("re-created acme/widgets has %s, want only d", got)
		}
		if got := e.shas(t, "acme/gadgets"); got != "c,b,a" {
			t.Errorf("acme/gadgets has %s after the re-creation, want c,b,a", got)
		}

		// A token that names an installed repository but carries another
		// repository's id (a repository deleted and re-created elsewhere
		// under the name) is refused.
		post("acme/other", shaA, token("acme/other", 77), 403)

		// Transferred away (to newco) and removed from the installation:
		// its tokens no longer upload, under either name.
		post("newco/other", shaA, token("newco/other", 2), 201) // still installed: the rename is recorded
		if err := db.RemoveInstallationRepositories(ctx, 100, []patchpanda.Repository{{Owner: "newco", Name: "other", ID: 2}}); err != nil {
			t.Fatal(err)
		}
		post("newco/other", shaB, token("newco/other", 2), 403)
	})
}
