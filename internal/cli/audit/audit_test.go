package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/apitest"
	ppaudit "github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/cli/audit"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
)

func TestAuditListAndVerify(t *testing.T) {
	ctx := context.Background()
	env := start(t)       // its admin key is event 1
	for i := range 1204 { // more than one page of 1000
		if _, err := env.DB.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "test", Action: patchpanda.AuditJobEnqueued, Subject: fmt.Sprintf("job:%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Billing.CreateProject(ctx, "acme", 0, "key:admin"); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := env.Run(t, audit.New, "", append([]string{"audit"}, args...)...)
		return out, err
	}

	out, err := run("verify")
	if err != nil || !strings.HasPrefix(out, "audit chain verified: 1206 events\nhead: 1206:") || !strings.Contains(out, "keyed: after event 1 ") {
		t.Fatalf("verify = %q, %v", out, err)
	}
	out, err = run("verify", "--json")
	var v patchpanda.AuditReport
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.Verified || v.Events != 1206 || !v.Keyed {
		t.Fatalf("verify --json = %q, %v", out, err)
	}

	out, err = run("list", "--limit", "3")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "1204\t") || !strings.Contains(lines[2], "\tbilling_project.created\tbilling_project:1\t") {
		t.Errorf("list --limit 3 = %q", out)
	}
	out, err = run("list", "--action", "billing_project.created", "--jq", ".[].actor")
	if err != nil || out != "key:admin\n" {
		t.Errorf("list --action --jq = %q, %v", out, err)
	}
	if _, err := run("list", "--limit", "0"); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("--limit 0: %v, want invalid", err)
	}
}

// start is apitest.Start with the audit chain keyed and the verify
// route served, as the relay wires them.
func start(t *testing.T) *apitest.Env {
	t.Helper()
	env := apitest.Start(t, nil)
	ctx := context.Background()
	keeper, err := secrets.Open(ctx, "", filepath.Join(t.TempDir(), "chain.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })
	chain, err := ppaudit.OpenChain(ctx, env.DB, keeper, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	env.DB.SetAuditChain(chain)
	api := &httpapi.Server{Logger: slog.New(slog.DiscardHandler), Auth: env.Keys, Keys: env.Keys, Audit: env.DB,
		AuditVerify: &ppaudit.Verifier{Log: env.DB, Chain: chain},
		Routes:      []func(*http.ServeMux, *httpapi.Server){httpapi.BillingRoutes(env.Billing)}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	env.URL = srv.URL
	return env
}

func TestVerifyReportsTheFirstBrokenEvent(t *testing.T) {
	ctx := context.Background()
	env := start(t) // its admin key is event 1, sealed before the chain had a key
	for range 5 {
		if _, err := env.DB.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "test", Action: patchpanda.AuditJobEnqueued}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.DB.ExecRaw(ctx, `UPDATE audit_events SET reason = 'edited after the fact' WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	out, _, err := env.Run(t, audit.New, "", "audit", "verify")
	if err == nil || !strings.Contains(err.Error(), "after 3 good events") || !strings.Contains(err.Error(), "event 4: its MAC does not match") || !strings.Contains(err.Error(), "(changed at event 4)") {
		t.Fatalf("verify of a tampered chain = %q, %v", out, err)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	out, _, err = env.Run(t, audit.New, "", "audit", "verify", "--json")
	var v patchpanda.AuditReport
	if err == nil || json.Unmarshal([]byte(out), &v) != nil || v.Verified || v.Events != 3 || v.Problem == nil || v.Problem.EventID != 4 {
		t.Errorf("verify --json = %q, %v", out, err)
	}
}

func TestVerifyWithAHeadFromTheLogFindsACutTail(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	for range 5 {
		if _, err := env.DB.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "test", Action: patchpanda.AuditJobEnqueued}); err != nil {
			t.Fatal(err)
		}
	}
	head, err := env.DB.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.ExecRaw(ctx, `DELETE FROM audit_events WHERE id >= 5`); err != nil {
		t.Fatal(err)
	}
	out, _, err := env.Run(t, audit.New, "", "audit", "verify")
	if err != nil || !strings.HasPrefix(out, "audit chain verified: 4 events\n") {
		t.Fatalf("verify without --head = %q, %v (nothing vouches for the cut events)", out, err)
	}
	_, _, err = env.Run(t, audit.New, "", "audit", "verify", "--head", fmt.Sprintf("%d:%s", head.ID, head.Hash))
	if err == nil || !strings.Contains(err.Error(), "the chain ends at event 4, but the head you gave vouches for event 6") || !strings.Contains(err.Error(), "truncated at event 5") {
		t.Fatalf("verify --head = %v", err)
	}
	if _, _, err := env.Run(t, audit.New, "", "audit", "verify", "--head", "6:nothex"); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("verify --head 6:nothex = %v, want invalid", err)
	}
}
