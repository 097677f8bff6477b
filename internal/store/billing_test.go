package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestBillingProjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme, err := db.CreateBillingProject(ctx, "acme", 25_000_000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateBillingProject(ctx, "acme", 0); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Fatalf("duplicate name: %v, want conflict", err)
		}
		beta, err := db.CreateBillingProject(ctx, "beta", 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.BillingProject(ctx, acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(acme, got); diff != "" {
			t.Errorf("read back differs (-created +read):\n%s", diff)
		}
		if _, err := db.BillingProject(ctx, 999); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unknown id: %v, want not_found", err)
		}
		if _, err := db.BillingProjectByName(ctx, "nope"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unknown name: %v, want not_found", err)
		}

		if _, err := db.RenameBillingProject(ctx, beta.ID, "acme"); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Errorf("rename onto an existing name: %v, want conflict", err)
		}
		renamed, err := db.RenameBillingProject(ctx, beta.ID, "gamma")
		if err != nil || renamed.Name != "gamma" {
			t.Fatalf("rename = %+v, %v", renamed, err)
		}
		if _, err := db.RenameBillingProject(ctx, 999, "x"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("rename unknown: %v, want not_found", err)
		}
		budgeted, err := db.SetBillingBudget(ctx, beta.ID, 1)
		if err != nil || budgeted.BudgetMicros != 1 {
			t.Fatalf("set budget = %+v, %v", budgeted, err)
		}
		if _, err := db.SetBillingBudget(ctx, 999, 1); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("set budget of unknown: %v, want not_found", err)
		}
		list, err := db.BillingProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list {
			names = append(names, p.Name)
		}
		if diff := cmp.Diff([]string{"acme", "gamma"}, names); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
	})
}

func TestRepositoryBindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme, _ := db.CreateBillingProject(ctx, "acme", 0)
		beta, _ := db.CreateBillingProject(ctx, "beta", 0)

		b, err := db.BindRepository(ctx, acme.ID, "Octo/Widgets")
		if err != nil {
			t.Fatal(err)
		}
		if b.Repository != "octo/widgets" || b.ProjectID != acme.ID {
			t.Errorf("binding = %+v", b)
		}
		again, err := db.BindRepository(ctx, acme.ID, "octo/widgets")
		if err != nil || !again.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("binding again = %+v, %v; want the first binding", again, err)
		}
		if _, err := db.BindRepository(ctx, beta.ID, "octo/WIDGETS"); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Errorf("bind to a second project: %v, want conflict", err)
		}
		if _, err := db.BindRepository(ctx, 999, "octo/other"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("bind to unknown project: %v, want not_found", err)
		}
		p, err := db.BillingProjectOfRepository(ctx, "OCTO/widgets")
		if err != nil || p.ID != acme.ID {
			t.Fatalf("project of repository = %+v, %v", p, err)
		}
		if _, err := db.BillingProjectOfRepository(ctx, "octo/unbound"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unbound repository: %v, want not_found", err)
		}
		if _, err := db.BindRepository(ctx, acme.ID, "octo/gadgets"); err != nil {
			t.Fatal(err)
		}
		bs, err := db.RepositoryBindings(ctx, acme.ID)
		if err != nil || len(bs) != 2 || bs[0].Repository != "octo/gadgets" {
			t.Fatalf("bindings = %+v, %v", bs, err)
		}

		if err := db.UnbindRepository(ctx, beta.ID, "octo/widgets"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unbind from the wrong project: %v, want not_found", err)
		}
		if err := db.UnbindRepository(ctx, acme.ID, "Octo/Widgets"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.BillingProjectOfRepository(ctx, "octo/widgets"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("after unbind: %v, want not_found", err)
		}
		if _, err := db.BindRepository(ctx, beta.ID, "octo/widgets"); err != nil {
			t.Errorf("bind elsewhere after unbind: %v", err)
		}
	})
}

func TestSpentThisMonthCountsOnlyTheProjectsJobsOfTheUTCMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		acme, _ := db.CreateBillingProject(ctx, "acme", 0)

		addJob := func(project string, created time.Time, cost int64) {
			t.Helper()
			id := fmt.Sprintf("job-%s-%d-%d", project, created.UnixNano(), cost)
			j := &patchpanda.Job{ID: id, Attempt: 1, Kind: patchpanda.JobKindGenerateTests,
				Repository: patchpanda.Repository{Owner: "octo", Name: "widgets"}, Trigger: patchpanda.TriggerComment,
				BillingProject: project, CreatedAt: created}
			if _, err := db.CreateJob(ctx, j, 0); err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.AddJobEvent(ctx, id, patchpanda.JobEvent{Type: patchpanda.EventStarted}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.AddJobEvent(ctx, id, patchpanda.JobEvent{Type: patchpanda.EventSucceeded, CostMicros: cost}, 0); err != nil {
				t.Fatal(err)
			}
		}
		addJob("acme", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 1_000_000)                   // first instant of the month
		addJob("acme", time.Date(2026, 3, 31, 23, 59, 59, 999999000, time.UTC), 2_000_000)       // last microsecond
		addJob("acme", time.Date(2026, 2, 28, 23, 59, 59, 999999000, time.UTC), 40_000_000)      // last month
		addJob("acme", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 80_000_000)                  // next month
		addJob("other", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), 160_000_000)               // another project
		addJob("acme", time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 320_000) // 23:30 UTC on Feb 28

		spent, month, err := db.SpentThisMonth(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if spent != 3_000_000 || !month.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("SpentThisMonth = %d in %v, want 3000000 in March", spent, month)
		}
		if spent, _, err := db.SpentThisMonth(ctx, "nobody"); err != nil || spent != 0 {
			t.Errorf("SpentThisMonth of a project without jobs = %d, %v", spent, err)
		}

		// Renaming keeps the month's spending with the project.
		if _, err := db.RenameBillingProject(ctx, acme.ID, "acme-corp"); err != nil {
			t.Fatal(err)
		}
		if spent, _, err := db.SpentThisMonth(ctx, "acme-corp"); err != nil || spent != 3_000_000 {
			t.Errorf("after rename: %d, %v; want 3000000", spent, err)
		}
	})
}

func TestProviderKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme, _ := db.CreateBillingProject(ctx, "acme", 0)
		beta, _ := db.CreateBillingProject(ctx, "beta", 0)
		k, err := db.AddProviderKey(ctx, patchpanda.ProviderKey{ProjectID: acme.ID, Provider: "openai", Name: "prod", Hint: "wxyz"}, []byte("ciphertext-1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddProviderKey(ctx, patchpanda.ProviderKey{ProjectID: acme.ID, Provider: "openai", Name: "prod"}, []byte("c")); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
			t.Errorf("second active key of the same name: %v, want conflict", err)
		}
		if _, err := db.AddProviderKey(ctx, patchpanda.ProviderKey{ProjectID: 999, Provider: "openai", Name: "x"}, []byte("c")); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unknown project: %v, want not_found", err)
		}
		newer, err := db.AddProviderKey(ctx, patchpanda.ProviderKey{ProjectID: acme.ID, Provider: "openai", Name: "rotated", Hint: "abcd"}, []byte("ciphertext-2"))
		if err != nil {
			t.Fatal(err)
		}
		active, ct, err := db.ActiveProviderKey(ctx, acme.ID, "openai")
		if err != nil || active.ID != newer.ID || string(ct) != "ciphertext-2" {
			t.Fatalf("active key = %+v %q, %v; want the newest", active, ct, err)
		}
		if _, err := db.RevokeProviderKey(ctx, beta.ID, newer.ID); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("revoke through another project: %v, want not_found", err)
		}
		revoked, err := db.RevokeProviderKey(ctx, acme.ID, newer.ID)
		if err != nil || revoked.RevokedAt == nil {
			t.Fatalf("revoke = %+v, %v", revoked, err)
		}
		again, err := db.RevokeProviderKey(ctx, acme.ID, newer.ID)
		if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
			t.Errorf("revoking again = %+v, %v; want the first revocation time", again, err)
		}
		active, ct, err = db.ActiveProviderKey(ctx, acme.ID, "openai")
		if err != nil || active.ID != k.ID || string(ct) != "ciphertext-1" {
			t.Fatalf("active key after revoke = %+v %q, %v", active, ct, err)
		}
		if _, _, err := db.ActiveProviderKey(ctx, acme.ID, "anthropic"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("no key for provider: %v, want not_found", err)
		}
		list, err := db.ProviderKeys(ctx, acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]patchpanda.ProviderKey{again, k}, list); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
	})
}
