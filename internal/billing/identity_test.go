package billing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestBindingsFollowTheRepositoryId(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		acme, err := s.CreateProject(ctx, "acme", 0, "a")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertInstallation(ctx, 100, "acme", []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 1}}); err != nil {
			t.Fatal(err)
		}
		b, err := s.Bind(ctx, acme.ID, "Acme/Widgets", "a")
		if err != nil || b.Repository != "acme/widgets" || b.RepositoryID != 1 {
			t.Fatalf("bind = %+v, %v", b, err)
		}
		project := func(repo string) string {
			t.Helper()
			bud, err := s.Check(ctx, repo, 0)
			if patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND {
				return ""
			}
			if err != nil {
				t.Fatalf("check %s: %v", repo, err)
			}
			return bud.Project.Name
		}
		if got := project("ACME/widgets"); got != "acme" {
			t.Errorf("ACME/widgets is billed to %q, want acme", got)
		}

		// Renamed: the binding follows id 1 to its new name.
		if err := db.RenameRepository(ctx, 1, "acme/gadgets"); err != nil {
			t.Fatal(err)
		}
		if got := project("acme/gadgets"); got != "acme" {
			t.Errorf("after the rename acme/gadgets is billed to %q, want acme", got)
		}

		// Re-created under the old name (id 2): it does not inherit the
		// binding, and binding it asks for the stale one to go first.
		if err := db.AddInstallationRepositories(ctx, 100, []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 2}}); err != nil {
			t.Fatal(err)
		}
		if got := project("acme/widgets"); got != "" {
			t.Errorf("the re-created acme/widgets is billed to %q, want no project", got)
		}
		if _, err := s.Bind(ctx, acme.ID, "acme/widgets", "a"); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT || !strings.Contains(err.Error(), "repository id 1") {
			t.Fatalf("binding the re-created repository: %v, want a conflict naming id 1", err)
		}
		if err := s.Unbind(ctx, acme.ID, "acme/widgets", "a"); err != nil {
			t.Fatal(err)
		}
		if b, err := s.Bind(ctx, acme.ID, "acme/widgets", "a"); err != nil || b.RepositoryID != 2 {
			t.Fatalf("bind the re-created repository = %+v, %v", b, err)
		}
		if got := project("acme/widgets"); got != "acme" {
			t.Errorf("re-created acme/widgets, bound, is billed to %q", got)
		}
	})
}
