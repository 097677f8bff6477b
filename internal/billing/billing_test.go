package billing_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/billing"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const secret = "sk-proj-THIS-IS-THE-PLAINTEXT-9f3a"

func newService(t *testing.T, db *store.DB) *billing.Service {
	t.Helper()
	k, err := secrets.Open(context.Background(), "base64key://"+base64.URLEncoding.EncodeToString([]byte(strings.Repeat("k", 32))), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return billing.NewService(db, k)
}

// spend records a finished job of repo billed to project, created at created.
func spend(t *testing.T, db *store.DB, project string, created time.Time, micros int64) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("job-%d-%d", created.UnixNano(), micros)
	j := &patchpanda.Job{ID: id, Attempt: 1, Kind: patchpanda.JobKindGenerateTests, Repository: patchpanda.Repository{Owner: "octo", Name: "widgets"},
		Trigger: patchpanda.TriggerComment, BillingProject: project, CreatedAt: created}
	if _, err := db.CreateJob(ctx, j, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddJobEvent(ctx, id, patchpanda.JobEvent{Type: patchpanda.EventStarted}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddJobEvent(ctx, id, patchpanda.JobEvent{Type: patchpanda.EventSucceeded, CostMicros: micros}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		s := newService(t, db)
		p, err := s.CreateProject(ctx, "acme", 10_000_000, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Bind(ctx, p.ID, "octo/widgets", "alice"); err != nil {
			t.Fatal(err)
		}
		spend(t, db, "acme", now.Add(-time.Hour), 9_500_000)
		spend(t, db, "acme", now.AddDate(0, -1, 0), 50_000_000) // last month

		tests := []struct {
			name     string
			repo     string
			estimate int64
			want     patchpanda.Budget
		}{
			{"an unbound repository is allowed", "octo/other", 1, patchpanda.Budget{Repository: "octo/other", Unbound: true, EstimateMicros: 1}},
			{"an estimate within what is left is allowed", "Octo/Widgets", 500_000, patchpanda.Budget{Repository: "octo/widgets", Project: p.BillingProject,
				Month: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), SpentMicros: 9_500_000, EstimateMicros: 500_000}},
			{"an estimate beyond what is left is refused", "octo/widgets", 500_001, patchpanda.Budget{Repository: "octo/widgets", Project: p.BillingProject,
				Month: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), SpentMicros: 9_500_000, EstimateMicros: 500_001, Over: true}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Check(ctx, tt.repo, tt.estimate)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Check (-want +got):\n%s", diff)
				}
			})
		}
		if _, err := s.Check(ctx, "not-a-repo", 0); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("malformed repository: %v, want invalid", err)
		}
		if _, err := s.Check(ctx, "octo/widgets", -1); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("negative estimate: %v, want invalid", err)
		}

		// Raising the budget lets the job in; removing it lets everything in.
		if _, err := s.SetBudget(ctx, p.ID, 20_000_000, "alice"); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.Check(ctx, "octo/widgets", 500_001); b.Over {
			t.Error("still over budget after raising it")
		}
		if _, err := s.SetBudget(ctx, p.ID, 0, "alice"); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.Check(ctx, "octo/widgets", 1<<40); b.Over {
			t.Error("over budget without a budget")
		}
	})
}

func TestChangesAreAudited(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := newService(t, db)
	p, err := s.CreateProject(ctx, "acme", 1_500_000, "key:admin")
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := s.Rename(ctx, p.ID, "acme-corp", "key:admin"); return err },
		func() error { _, err := s.Rename(ctx, p.ID, "acme-corp", "key:admin"); return err }, // no change, no event
		func() error { _, err := s.SetBudget(ctx, p.ID, 2_000_000, "key:admin"); return err },
		func() error { _, err := s.Bind(ctx, p.ID, "octo/widgets", "key:admin"); return err },
		func() error { _, err := s.Bind(ctx, p.ID, "octo/widgets", "key:admin"); return err }, // already bound, no event
		func() error { return s.Unbind(ctx, p.ID, "octo/widgets", "key:admin") },
		func() error {
			k, err := s.AddProviderKey(ctx, p.ID, "openai", "prod", secret, "key:admin")
			if err != nil {
				return err
			}
			_, err = s.RevokeProviderKey(ctx, p.ID, k.ID, "key:admin")
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	evs, err := db.AuditEvents(ctx, patchpanda.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(evs, audit.Genesis); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+" "+e.Subject+": "+e.Reason)
		if strings.Contains(e.Reason+string(e.Data), secret) || strings.Contains(e.Reason+string(e.Data), secret[len(secret)-8:]) {
			t.Errorf("audit event %d holds the key: %s %s", e.ID, e.Reason, e.Data)
		}
	}
	want := []string{
		`billing_project.created billing_project:1: created billing project "acme" with a monthly budget of 1.50 USD`,
		`billing_project.renamed billing_project:1: renamed billing project "acme" to "acme-corp"`,
		`budget.changed billing_project:1: billing project "acme-corp": a monthly budget of 2.00 USD, was a monthly budget of 1.50 USD`,
		`repository.bound billing_project:1: bound repository octo/widgets to billing project 1`,
		`repository.unbound billing_project:1: unbound repository octo/widgets from billing project 1`,
		`provider_key.added billing_project:1: added openai key "prod" (id 1) to billing project 1`,
		`provider_key.revoked billing_project:1: revoked openai key "prod" (id 1) of billing project 1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	s := newService(t, storetest.SQLite(t))
	p, err := s.CreateProject(ctx, "acme", 0, "a")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		call       func() error
	}{
		{"an empty name", "1 to 64", func() error { _, err := s.CreateProject(ctx, "", 0, "a"); return err }},
		{"a name with a space", "use letters", func() error { _, err := s.CreateProject(ctx, "a b", 0, "a"); return err }},
		{"a negative budget", "budget", func() error { _, err := s.CreateProject(ctx, "x", -1, "a"); return err }},
		{"a repository without owner", "owner/name", func() error { _, err := s.Bind(ctx, p.ID, "widgets", "a"); return err }},
		{"a repository with a space", "the name must be", func() error { _, err := s.Bind(ctx, p.ID, "octo/wid gets", "a"); return err }},
		{"an upper-case provider", "lower-case", func() error { _, err := s.AddProviderKey(ctx, p.ID, "OpenAI", "n", secret, "a"); return err }},
		{"a short key", "too short", func() error { _, err := s.AddProviderKey(ctx, p.ID, "openai", "n", "abc", "a"); return err }},
		{"two keys on two lines", "one line", func() error {
			_, err := s.AddProviderKey(ctx, p.ID, "openai", "n", secret+"\n"+secret, "a")
			return err
		}},
		{"an empty key name", "name", func() error { _, err := s.AddProviderKey(ctx, p.ID, "openai", "", secret, "a"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an invalid error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error holds the key: %v", err)
			}
		})
	}
}

func TestProviderKeyRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		p, _ := s.CreateProject(ctx, "acme", 0, "a")
		other, _ := s.CreateProject(ctx, "other", 0, "a")
		k, err := s.AddProviderKey(ctx, p.ID, "openai", "prod", "  "+secret+"\n", "a")
		if err != nil {
			t.Fatal(err)
		}
		if k.Hint != secret[len(secret)-4:] {
			t.Errorf("hint = %q, want the last four characters", k.Hint)
		}
		plain, got, err := s.DecryptProviderKey(ctx, "acme", "openai", "worker:w1")
		if err != nil || plain != secret || got.ID != k.ID {
			t.Fatalf("DecryptProviderKey = %q %+v, %v", plain, got, err)
		}
		evs, _ := db.AuditEvents(ctx, patchpanda.AuditFilter{Action: billing.AuditProviderKeyUsed})
		if len(evs) != 1 || evs[0].Actor != "worker:w1" {
			t.Errorf("decryption audit = %+v", evs)
		}
		if _, _, err := s.DecryptProviderKey(ctx, "acme", "anthropic", "w"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("no such provider: %v, want not_found", err)
		}
		if _, _, err := s.DecryptProviderKey(ctx, "nope", "openai", "w"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("no such project: %v, want not_found", err)
		}

		// A ciphertext copied into another project's row is refused.
		_, ct, err := db.ActiveProviderKey(ctx, p.ID, "openai")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddProviderKey(ctx, patchpanda.ProviderKey{ProjectID: other.ID, Provider: "openai", Name: "stolen"}, ct); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.DecryptProviderKey(ctx, "other", "openai", "w")
		if err == nil || !strings.Contains(err.Error(), "not sealed for billing project") {
			t.Fatalf("moved ciphertext: %v", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Error("error holds the key")
		}
	})
}

func TestProviderKeysNeedAKeeper(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	none, err := secrets.Open(ctx, "", "") // PostgreSQL without PATCHPANDA_SECRETS_KEEPER
	if err != nil {
		t.Fatal(err)
	}
	s := billing.NewService(db, none)
	p, _ := s.CreateProject(ctx, "acme", 0, "a")
	_, err = s.AddProviderKey(ctx, p.ID, "openai", "prod", secret, "a")
	if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(patchpanda.ErrorMessage(err), "PATCHPANDA_SECRETS_KEEPER") {
		t.Fatalf("AddProviderKey without a keeper = %v", err)
	}
	if ks, _ := s.ProviderKeys(ctx, p.ID); len(ks) != 0 {
		t.Errorf("a key was stored: %+v", ks)
	}
}
