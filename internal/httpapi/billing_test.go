package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/apitest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// recorder keeps every answer's body, to look for secrets in them.
type recorder struct {
	mu     sync.Mutex
	bodies bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.mu.Lock()
	r.bodies.Write(b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

func amount(s string) *httpapi.Amount { a := httpapi.Amount(s); return &a }

func TestBillingAPI(t *testing.T) {
	ctx := context.Background()
	env := apitest.Start(t, nil)
	rec := &recorder{}
	c := env.Client()
	c.HTTP = &http.Client{Transport: rec}

	p, err := c.CreateBillingProject(ctx, httpapi.CreateBillingProjectRequest{Name: "acme", BudgetUSD: amount("12.34")})
	if err != nil {
		t.Fatal(err)
	}
	if p.BudgetMicros != 12_340_000 || p.BudgetUSD == nil || *p.BudgetUSD != "12.34" || p.SpentUSD != "0.00" || p.SpentMicros != 0 || p.OverBudget {
		t.Errorf("created = %+v", p)
	}
	if _, err := c.CreateBillingProject(ctx, httpapi.CreateBillingProjectRequest{Name: "acme"}); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Errorf("duplicate: %v, want conflict", err)
	}
	free, err := c.CreateBillingProject(ctx, httpapi.CreateBillingProjectRequest{Name: "free"})
	if err != nil || free.BudgetUSD != nil || free.BudgetMicros != 0 {
		t.Fatalf("without budget = %+v, %v", free, err)
	}

	t.Run("budgets are parsed exactly from strings and numbers", func(t *testing.T) {
		for _, tt := range []struct {
			body string
			want int64
		}{
			{`{"budget_usd": "19.99"}`, 19_990_000},
			{`{"budget_usd": 19.99}`, 19_990_000},
			{`{"budget_usd": 0.000001}`, 1},
			{`{"budget_usd": 1000000}`, 1_000_000_000_000},
			{`{"budget_usd": "0"}`, 0},
		} {
			var got httpapi.BillingProject
			status := raw(t, env, http.MethodPatch, "/api/admin/billing/projects/2", tt.body, &got)
			if status != http.StatusOK || got.BudgetMicros != tt.want {
				t.Errorf("PATCH %s = %d, budget_micros %d; want %d", tt.body, status, got.BudgetMicros, tt.want)
			}
		}
		for _, body := range []string{`{"budget_usd": 1e3}`, `{"budget_usd": -1}`, `{"budget_usd": "1.0000001"}`, `{"budget_usd": true}`, `{}`, `{"budget": 1}`} {
			if status := raw(t, env, http.MethodPatch, "/api/admin/billing/projects/2", body, nil); status != http.StatusBadRequest {
				t.Errorf("PATCH %s = %d, want 400", body, status)
			}
		}
	})

	renamed, err := c.UpdateBillingProject(ctx, p.ID, httpapi.UpdateBillingProjectRequest{Name: ptr("acme-corp"), BudgetUSD: amount("100")})
	if err != nil || renamed.Name != "acme-corp" || *renamed.BudgetUSD != "100.00" {
		t.Fatalf("rename and set budget = %+v, %v", renamed, err)
	}
	if _, err := c.UpdateBillingProject(ctx, 999, httpapi.UpdateBillingProjectRequest{Name: ptr("x")}); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("update unknown: %v, want not_found", err)
	}

	b, err := c.BindRepository(ctx, p.ID, "Octo/Widgets")
	if err != nil || b.Repository != "octo/widgets" {
		t.Fatalf("bind = %+v, %v", b, err)
	}
	if _, err := c.BindRepository(ctx, free.ID, "octo/widgets"); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Errorf("bind to a second project: %v, want conflict", err)
	}
	if _, err := c.BindRepository(ctx, p.ID, "octo/gadgets"); err != nil {
		t.Fatal(err)
	}
	if err := c.UnbindRepository(ctx, p.ID, "octo/gadgets"); err != nil {
		t.Fatalf("unbind: %v", err)
	}
	if err := c.UnbindRepository(ctx, p.ID, "octo/gadgets"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("unbind again: %v, want not_found", err)
	}
	shown, err := c.BillingProject(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"octo/widgets"}, shown.Repositories); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	list, err := c.BillingProjects(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "acme-corp" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	const secret = "sk-ant-api03-PLAINTEXT-SHOULD-NEVER-LEAK-wxyz"
	k, err := c.AddProviderKey(ctx, p.ID, httpapi.AddProviderKeyRequest{Provider: "anthropic", Name: "prod", Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	if k.Hint != "wxyz" || k.Provider != "anthropic" {
		t.Errorf("added = %+v", k)
	}
	if _, err := c.AddProviderKey(ctx, p.ID, httpapi.AddProviderKeyRequest{Provider: "anthropic", Name: "bad", Key: "short"}); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("short key: %v, want invalid", err)
	}
	ks, err := c.ProviderKeys(ctx, p.ID)
	if err != nil || len(ks) != 1 || ks[0].ID != k.ID {
		t.Fatalf("provider keys = %+v, %v", ks, err)
	}
	if _, err := c.ProviderKeys(ctx, 999); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("keys of unknown project: %v, want not_found", err)
	}
	if _, err := c.RevokeProviderKey(ctx, free.ID, k.ID); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("revoke through another project: %v, want not_found", err)
	}
	revoked, err := c.RevokeProviderKey(ctx, p.ID, k.ID)
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke = %+v, %v", revoked, err)
	}

	t.Run("only admin keys reach the billing API", func(t *testing.T) {
		_, reader, err := env.Keys.Create(ctx, "reader", []patchpanda.Scope{patchpanda.ScopeJobsRead}, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := httpapi.NewClient(env.URL, reader).BillingProjects(ctx); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
			t.Errorf("jobs:read key: %v, want forbidden", err)
		}
		if _, err := httpapi.NewClient(env.URL, "").BillingProjects(ctx); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
			t.Errorf("no key: %v, want unauthorized", err)
		}
	})

	t.Run("the provider key is in no answer, log, audit event or database file", func(t *testing.T) {
		for _, s := range []string{secret, secret[:len(secret)-4]} {
			rec.mu.Lock()
			inAnswers := strings.Contains(rec.bodies.String(), s)
			rec.mu.Unlock()
			if inAnswers {
				t.Error("an answer holds the key")
			}
			if strings.Contains(env.Logs.String(), s) {
				t.Error("the logs hold the key")
			}
			for _, f := range []string{env.DB.Path(), env.DB.Path() + "-wal"} {
				if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds the key", f)
				}
			}
		}
		evs, err := env.DB.AuditEvents(ctx, patchpanda.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if strings.Contains(e.Reason+string(e.Data), secret) {
				t.Errorf("audit event %d holds the key", e.ID)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// raw sends body with the admin key and decodes a 2xx answer into out.
func raw(t *testing.T, env *apitest.Env, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.Admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}
