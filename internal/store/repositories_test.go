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
