package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestMigrationsUpDownUpLeaveTheSameSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, err := db.Schema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) < 20 {
			t.Fatalf("schema after up has only %d lines: %v", len(first), first)
		}
		if err := db.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
		empty, err := db.Schema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range empty {
			if !strings.Contains(line, "goose_db_version") {
				t.Errorf("left after down: %s", line)
			}
		}
		if _, err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		again, err := db.Schema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("schema differs after up, down, up (-first +again):\n%s", diff)
		}
		if pending, err := db.Pending(ctx); err != nil || pending {
			t.Errorf("Pending = %v, %v; want false", pending, err)
		}
	})
}

func TestOpenRejectsBadURLs(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"unsupported scheme", "mysql://x", `scheme "mysql" is not supported`},
		{"sqlite without path", "sqlite:", "no file path"},
		{"plain word", "patchpanda.db", "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want error containing %q", tt.url, err, tt.want)
			}
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID {
				t.Errorf("code = %q, want invalid", patchpanda.ErrorCode(err))
			}
		})
	}
}

func TestOpenNeverPrintsThePostgresPassword(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://user:hunter2secret@127.0.0.1:1/db?connect_timeout=1")
	if err == nil {
		t.Fatal("expected an error for a closed port")
	}
	if strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exp := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		k, err := db.CreateAPIKey(ctx, patchpanda.APIKey{
			Name: "ci", Prefix: "ppk_abcdef", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeJobsRead},
			ExpiresAt: &exp, CreatedBy: "admin",
		}, []byte("hash-1"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.APIKeyByHash(ctx, []byte("hash-1"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Errorf("read back differs (-created +read):\n%s", diff)
		}
		if _, err := db.APIKeyByHash(ctx, []byte("nope")); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("unknown hash: %v, want not_found", err)
		}
		used := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		if err := db.TouchAPIKey(ctx, k.ID, used); err != nil {
			t.Fatal(err)
		}
		revoked, err := db.RevokeAPIKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if revoked.RevokedAt == nil || revoked.LastUsedAt == nil || !revoked.LastUsedAt.Equal(used) {
			t.Errorf("after revoke: %+v", revoked)
		}
		if _, err := db.RevokeAPIKey(ctx, 9999); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("revoke unknown: %v, want not_found", err)
		}
		list, err := db.APIKeys(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("APIKeys = %v, %v", list, err)
		}
	})
}

func TestAuditChainAppendsAndVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i, action := range []string{patchpanda.AuditKeyCreated, patchpanda.AuditCommandDenied, patchpanda.AuditKeyRevoked} {
			err := db.InTx(ctx, func(q *store.Queries) error {
				_, err := q.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "alice", Action: action, Subject: "key:1", Reason: strings.Repeat("x", i)})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// Outside a transaction too.
		if _, err := db.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "bob", Action: patchpanda.AuditJobReplayed, Data: []byte(`{"job":"j1"}`)}); err != nil {
			t.Fatal(err)
		}
		events, err := db.AuditEvents(ctx, patchpanda.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 4 {
			t.Fatalf("got %d events", len(events))
		}
		if _, err := audit.Verify(events, audit.Genesis); err != nil {
			t.Fatalf("chain does not verify: %v", err)
		}
		events[1].Reason = "edited"
		if _, err := audit.Verify(events, audit.Genesis); err == nil {
			t.Fatal("edited event verified")
		}
		denied, err := db.AuditEvents(ctx, patchpanda.AuditFilter{Action: patchpanda.AuditCommandDenied})
		if err != nil || len(denied) != 1 {
			t.Fatalf("filter by action: %v, %v", denied, err)
		}
	})
}
