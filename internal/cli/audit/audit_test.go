package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/billing/billingtest"
	"github.com/patchpanda/patchpanda/internal/cli/audit"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestAuditListAndVerify(t *testing.T) {
	ctx := context.Background()
	env := billingtest.Start(t, nil) // its admin key is event 1
	for i := range 1204 {            // more than one page of 1000
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
	if err != nil || out != "audit chain verified: 1206 events\n" {
		t.Fatalf("verify = %q, %v", out, err)
	}
	out, err = run("verify", "--json")
	var v audit.Verification
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.Verified || v.Events != 1206 {
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

// tampered serves the real audit log with one event's reason edited, as an
// attacker with write access to the database might.
type tampered struct {
	httpapi.AuditLog
	id int64
}

func (l tampered) AuditEvents(ctx context.Context, f patchpanda.AuditFilter) ([]patchpanda.AuditEvent, error) {
	evs, err := l.AuditLog.AuditEvents(ctx, f)
	for i := range evs {
		if evs[i].ID == l.id {
			evs[i].Reason = "edited after the fact"
		}
	}
	return evs, err
}

func TestVerifyReportsTheFirstBrokenEvent(t *testing.T) {
	ctx := context.Background()
	env := billingtest.Start(t, nil)
	for range 5 {
		if _, err := env.DB.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "test", Action: patchpanda.AuditJobEnqueued}); err != nil {
			t.Fatal(err)
		}
	}
	api := &httpapi.Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: env.Keys, Audit: tampered{env.DB, 4}}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	env.URL = srv.URL

	out, _, err := env.Run(t, audit.New, "", "audit", "verify")
	if err == nil || !strings.Contains(err.Error(), "after 3 good events") || !strings.Contains(err.Error(), "event 4: hash does not match") {
		t.Fatalf("verify of a tampered chain = %q, %v", out, err)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	out, _, err = env.Run(t, audit.New, "", "audit", "verify", "--json")
	var v audit.Verification
	if err == nil || json.Unmarshal([]byte(out), &v) != nil || v.Verified || v.Events != 3 || !strings.Contains(v.Error, "event 4") {
		t.Errorf("verify --json = %q, %v", out, err)
	}
}
