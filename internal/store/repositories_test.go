package store_test

import (
	"context"
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
