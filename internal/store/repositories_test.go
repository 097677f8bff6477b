package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// A transfer the relay has not been told of leaves one repository in two
// installations: the one of the account the caller names is taken.
func TestInstalledRepositoryByIDPrefersTheAccountAsked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		repo := []patchpanda.Repository{{Owner: "oldco", Name: "api", ID: 5}}
		if err := db.UpsertInstallationAccount(ctx, 1, "oldco", 10, repo); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertInstallationAccount(ctx, 2, "newco", 20, []patchpanda.Repository{{Owner: "newco", Name: "api", ID: 5}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			account, wantInstallation int64
		}{{20, 2}, {10, 1}, {99, 1}} {
			got, err := db.InstalledRepositoryByID(ctx, 5, tc.account)
			if err != nil || got.InstallationID != tc.wantInstallation {
				t.Errorf("preferring account %d: installation %d, %v; want %d", tc.account, got.InstallationID, err, tc.wantInstallation)
			}
		}
	})
}

// The processor commits a batch's installation upserts in one transaction
// and skips a repeat with the same values; a change of state in between
// must still be undone by the next upsert.
func TestInstallationUpsertAfterSuspendInOneTransactionReactivates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		repo := []patchpanda.Repository{{Owner: "acme", Name: "api", ID: 5}}
		err := db.InTx(ctx, func(q *store.Queries) error {
			if err := q.UpsertInstallationAccount(ctx, 1, "acme", 10, repo); err != nil {
				return err
			}
			if err := q.UpsertInstallationAccount(ctx, 1, "acme", 10, nil); err != nil {
				return err
			}
			if err := q.SetInstallationState(ctx, 1, "suspended"); err != nil {
				return err
			}
			return q.UpsertInstallationAccount(ctx, 1, "acme", 10, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.InstallationFor(ctx, "acme/api"); err != nil || got != 1 {
			t.Errorf("InstallationFor(acme/api) = %d, %v; want 1: the last upsert unsuspends", got, err)
		}
	})
}

// Inside a transaction the repositories added wait and are written in one
// statement; every later statement of the transaction sees them, a
// repository added twice takes its last name, one removed after it was
// added is gone, and a write that fails fails the transaction.
func TestRepositoriesAddedInATransactionAreWrittenBeforeTheNextStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		repo := func(name string, id int64) patchpanda.Repository {
			return patchpanda.Repository{Owner: "acme", Name: name, ID: id}
		}
		err := db.InTx(ctx, func(q *store.Queries) error {
			if err := q.UpsertInstallationAccount(ctx, 7, "acme", 1, nil); err != nil {
				return err
			}
			for _, r := range []patchpanda.Repository{repo("old", 1), repo("kept", 2), repo("dropped", 3)} {
				if err := q.AddInstallationRepositories(ctx, 7, []patchpanda.Repository{r}); err != nil {
					return err
				}
			}
			if err := q.AddInstallationRepositories(ctx, 7, []patchpanda.Repository{repo("renamed", 1)}); err != nil {
				return err
			}
			if inst, err := q.InstallationFor(ctx, "acme/kept"); err != nil || inst != 7 {
				t.Errorf("InstallationFor inside the transaction = %d, %v", inst, err)
			}
			return q.RemoveInstallationRepositories(ctx, 7, []patchpanda.Repository{repo("dropped", 3)})
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"acme/renamed": true, "acme/kept": true, "acme/old": false, "acme/dropped": false} {
			_, err := db.InstallationFor(ctx, name)
			if got := err == nil; got != want {
				t.Errorf("%s installed = %v, want %v (%v)", name, got, want, err)
			}
		}
		// A repository of an installation nobody knows breaks the foreign
		// key when the rows are written, at the commit: nothing is kept.
		err = db.InTx(ctx, func(q *store.Queries) error {
			if err := q.AddInstallationRepositories(ctx, 7, []patchpanda.Repository{repo("fine", 4)}); err != nil {
				return err
			}
			return q.AddInstallationRepositories(ctx, 99, []patchpanda.Repository{repo("orphan", 5)})
		})
		if err == nil {
			t.Fatal("a transaction whose repositories broke a foreign key committed")
		}
		if _, err := db.InstallationFor(ctx, "acme/fine"); err == nil {
			t.Error("a repository of the failed transaction was kept")
		}
	})
}

// Installing the App on a large organisation adds thousands at once: on
// the pool and in a transaction they are written in statements of a
// bounded size.
func TestThousandsOfRepositoriesAreAddedAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.UpsertInstallationAccount(ctx, 7, "acme", 1, nil); err != nil {
			t.Fatal(err)
		}
		repos := func(from int64) []patchpanda.Repository {
			out := make([]patchpanda.Repository, 2500)
			for i := range out {
				id := from + int64(i)
				out[i] = patchpanda.Repository{Owner: "acme", Name: fmt.Sprintf("r%d", id), ID: id}
			}
			return out
		}
		if err := db.AddInstallationRepositories(ctx, 7, repos(1)); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.AddInstallationRepositories(ctx, 7, repos(3001)) }); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"acme/r1", "acme/r2500", "acme/r3001", "acme/r5500"} {
			if _, err := db.InstallationFor(ctx, name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// On the pool too, a repository named twice in one call takes its last
// name (one statement may not write a row twice).
func TestARepositoryAddedTwiceAtOnceTakesItsLastName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.UpsertInstallationAccount(ctx, 7, "acme", 1, nil); err != nil {
			t.Fatal(err)
		}
		twice := []patchpanda.Repository{{Owner: "acme", Name: "before", ID: 1}, {Owner: "acme", Name: "after", ID: 1}}
		if err := db.AddInstallationRepositories(ctx, 7, twice); err != nil {
			t.Fatal(err)
		}
		if _, err := db.InstallationFor(ctx, "acme/after"); err != nil {
			t.Errorf("the last name: %v", err)
		}
		if _, err := db.InstallationFor(ctx, "acme/before"); err == nil {
			t.Error("the first name stayed")
		}
	})
}

// A held write that fails when a single-row read runs first (which cannot
// return that failure) still fails the transaction.
func TestAHeldWriteThatFailsBeforeAReadFailsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(q *store.Queries) error {
			if err := q.AddInstallationRepositories(ctx, 99, []patchpanda.Repository{{Owner: "ghost", Name: "r", ID: 1}}); err != nil {
				return err
			}
			_, _ = q.InstallationFor(ctx, "ghost/r") // flushes; the foreign key breaks
			return nil
		})
		if err == nil {
			t.Fatal("the transaction committed after its held write failed")
		}
	})
}
