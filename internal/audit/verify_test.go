package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// keyed opens the database's keyed chain with a local secrets key, as the
// relay does, and sets it on db.
func keyed(t testing.TB, db *store.DB) *audit.Chain {
	t.Helper()
	ctx := context.Background()
	keeper, err := secrets.Open(ctx, "", filepath.Join(t.TempDir(), "secrets.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })
	c, err := audit.OpenChain(ctx, db, keeper, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditChain(c)
	return c
}

func appendN(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		if _, err := db.AppendAudit(context.Background(), patchpanda.AuditEvent{Actor: "alice", Action: patchpanda.AuditKeyCreated, Subject: fmt.Sprintf("key:%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func checkpoint(t *testing.T, db *store.DB, c *audit.Chain) patchpanda.AuditCheckpoint {
	t.Helper()
	cp, ok, err := (&audit.Checkpointer{Store: db, Chain: c}).Checkpoint(context.Background(), patchpanda.CheckpointEvery, 1)
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v, %v", ok, err)
	}
	return cp
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecRaw(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

// recompute re-seals the events from id from on with plain SHA-256, as an
// attacker without the chain key can.
func recompute(t *testing.T, db *store.DB, from int64) {
	t.Helper()
	evs, err := db.AuditEvents(context.Background(), patchpanda.AuditFilter{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.Genesis
	for _, ev := range evs {
		if ev.ID < from {
			prev = ev.Hash
			continue
		}
		ev.PrevHash = prev
		ev.Hash = audit.Hash(prev, ev)
		exec(t, db, `UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3`, ev.PrevHash, ev.Hash, ev.ID)
		prev = ev.Hash
	}
}

func TestVerifyReportsEachTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *store.DB)
		head   *patchpanda.AuditHead // given as --head
		want   patchpanda.AuditProblem
	}{
		{name: "an untouched chain verifies", tamper: func(*testing.T, *store.DB) {}},
		{
			name:   "deleting the newest events after a checkpoint is a truncated tail",
			tamper: func(t *testing.T, db *store.DB) { exec(t, db, `DELETE FROM audit_events WHERE id > 7`) },
			want:   patchpanda.AuditProblem{Kind: patchpanda.AuditTruncated, EventID: 8, Message: "events 8–10 are gone"},
		},
		{
			name: "deleting the newest events and appending anew is a rewritten event",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id > 7`)
				appendN(t, db, 3)
			},
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditRewritten, EventID: 10, Message: "event 10 is not the event checkpoint"},
		},
		{
			name:   "deleting one event is a gap",
			tamper: func(t *testing.T, db *store.DB) { exec(t, db, `DELETE FROM audit_events WHERE id = 4`) },
			want:   patchpanda.AuditProblem{Kind: patchpanda.AuditGap, EventID: 4, Message: "event 4 is missing: the chain goes from event 3 to event 5"},
		},
		{
			name: "deleting one event and recomputing an unkeyed chain is still a gap",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id = 4`)
				recompute(t, db, 5)
			},
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditGap, EventID: 4, Message: "event 4 is missing"},
		},
		{
			name: "deleting one event, renumbering and recomputing is a changed event",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id = 4`)
				for id := 5; id <= 12; id++ {
					exec(t, db, `UPDATE audit_events SET id = $1 WHERE id = $2`, id-1, id)
				}
				recompute(t, db, 4)
			},
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditChanged, EventID: 4, Message: "event 4: its MAC does not match"},
		},
		{
			name: "editing a row is a changed event",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET reason = 'nothing to see' WHERE id = 6`)
			},
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditChanged, EventID: 6, Message: "event 6: its MAC does not match its id and content"},
		},
		{
			name: "replacing a row's seal is an unlinked successor",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET hash = $1 WHERE id = 10`, strings.Repeat("ab", 32))
			},
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditChanged, EventID: 10},
		},
		{
			name:   "a forged checkpoint is reported",
			tamper: func(t *testing.T, db *store.DB) { exec(t, db, `UPDATE audit_checkpoints SET event_id = 99`) },
			want:   patchpanda.AuditProblem{Kind: patchpanda.AuditBadCheckpoint, EventID: 99, Message: "is not signed by the chain key"},
		},
		{
			name: "deleting the checkpoint and the newest events is caught by the head from the log",
			tamper: func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_checkpoints`)
				exec(t, db, `DELETE FROM audit_events WHERE id > 9`)
			},
			head: &patchpanda.AuditHead{ID: 10}, // Hash filled in below
			want: patchpanda.AuditProblem{Kind: patchpanda.AuditTruncated, EventID: 10, Message: "the head you gave vouches for event 10"},
		},
		{
			name:   "removing the chain key's record is reported",
			tamper: func(t *testing.T, db *store.DB) { exec(t, db, `DELETE FROM audit_keys`) },
			want:   patchpanda.AuditProblem{Kind: patchpanda.AuditBadKey, EventID: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				c := keyed(t, db)
				appendN(t, db, 10)
				cp := checkpoint(t, db, c)
				if tc.head != nil {
					tc.head.Hash = cp.Hash
				}
				tc.tamper(t, db)
				rep, err := (&audit.Verifier{Log: db, Chain: c}).Verify(ctx, tc.head)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want.Kind == "" {
					if !rep.Verified || rep.Problem != nil || rep.Events != 10 || !rep.Keyed || rep.Head.ID != 10 {
						t.Fatalf("report = %+v, want verified with 10 events", rep)
					}
					return
				}
				p := rep.Problem
				if rep.Verified || p == nil || p.Kind != tc.want.Kind || p.EventID != tc.want.EventID || !strings.Contains(p.Message, tc.want.Message) {
					t.Fatalf("problem = %+v, want %+v", p, tc.want)
				}
			})
		})
	}
}

func TestKeyedChainContinuesAnUnkeyedOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		appendN(t, db, 3) // written before the relay had a keeper
		c := keyed(t, db)
		if got := c.Start(); got.ID != 3 {
			t.Fatalf("start = %+v, want event 3", got)
		}
		appendN(t, db, 2)
		v := &audit.Verifier{Log: db, Chain: c}
		rep, err := v.Verify(ctx, nil)
		if err != nil || !rep.Verified || rep.Events != 5 || rep.KeyedAfter != 3 {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		// The unkeyed events are pinned: rewriting them all is caught.
		exec(t, db, `UPDATE audit_events SET actor = 'mallory' WHERE id = 2`)
		recompute(t, db, 2)
		rep, err = v.Verify(ctx, nil)
		if err != nil || rep.Problem == nil || rep.Problem.Kind != patchpanda.AuditRewritten || rep.Problem.EventID != 3 {
			t.Fatalf("after rewriting unkeyed events: %+v, %v", rep.Problem, err)
		}
	})
}

func TestOpenChainRefusesAKeyItCannotTrust(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	keyed(t, db)
	logger := slog.New(slog.DiscardHandler)
	// Another keeper (a new local key) cannot unwrap the chain key.
	other, err := secrets.Open(ctx, "", filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := audit.OpenChain(ctx, db, other, logger); patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), "does not unwrap") {
		t.Errorf("other keeper: %v", err)
	}
	none, _ := secrets.Open(ctx, "", "")
	if _, err := audit.OpenChain(ctx, db, none, logger); patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), "PATCHPANDA_SECRETS_KEEPER") {
		t.Errorf("no keeper: %v", err)
	}
}

func TestUnkeyedChainWarnsAndStillFindsAGap(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	var log bytes.Buffer
	none, _ := secrets.Open(ctx, "", "")
	c, err := audit.OpenChain(ctx, db, none, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil || c != nil || !strings.Contains(log.String(), "not keyed") {
		t.Fatalf("OpenChain without keeper = %v, %v; log %q", c, err, log.String())
	}
	appendN(t, db, 5)
	// Without a key a writer can recompute the chain; only a deletion
	// left as it is shows.
	exec(t, db, `DELETE FROM audit_events WHERE id = 2`)
	rep, err := (&audit.Verifier{Log: db}).Verify(ctx, nil)
	if err != nil || rep.Keyed || rep.Problem == nil || rep.Problem.Kind != patchpanda.AuditGap || rep.Problem.EventID != 2 {
		t.Fatalf("report = %+v, %v", rep, err)
	}
}

func TestCheckpointerLogsTheHeadAtStartEveryNAndShutdown(t *testing.T) {
	db := storetest.SQLite(t)
	c := keyed(t, db)
	appendN(t, db, 3)
	var log bytes.Buffer
	cpr := &audit.Checkpointer{Store: db, Chain: c, Logger: slog.New(slog.NewTextHandler(&log, nil)), Every: 5}
	ctx := context.Background()
	if _, ok, err := cpr.Checkpoint(ctx, patchpanda.CheckpointStart, 1); err != nil || !ok {
		t.Fatalf("start checkpoint: %v %v", ok, err)
	}
	appendN(t, db, 4)
	if _, ok, _ := cpr.Checkpoint(ctx, patchpanda.CheckpointEvery, 5); ok {
		t.Error("checkpoint after 4 of every 5 events")
	}
	appendN(t, db, 1)
	if cp, ok, _ := cpr.Checkpoint(ctx, patchpanda.CheckpointEvery, 5); !ok || cp.EventID != 8 {
		t.Errorf("checkpoint after 5 events = %+v, %v", cp, ok)
	}
	// Run takes the shutdown checkpoint when its context ends.
	appendN(t, db, 1)
	rctx, cancel := context.WithCancel(ctx)
	cancel()
	cpr.Run(rctx)
	if !strings.Contains(log.String(), "reason=shutdown event_id=9") {
		t.Errorf("log = %q, want the shutdown checkpoint of event 9", log.String())
	}
	cps, err := db.AuditCheckpoints(ctx, 0, 10)
	if err != nil || len(cps) != 3 {
		t.Fatalf("checkpoints = %+v, %v", cps, err)
	}
	if rep, err := (&audit.Verifier{Log: db, Chain: c}).Verify(ctx, nil); err != nil || !rep.Verified {
		t.Errorf("verify = %+v, %v", rep, err)
	}
}

func TestConcurrentAppendersLeaveNoGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := keyed(t, db)
		const writers, each = 8, 25
		errs := make(chan error, writers)
		for w := range writers {
			go func() {
				var err error
				for i := range each {
					if _, err = db.AppendAudit(context.Background(), patchpanda.AuditEvent{Actor: fmt.Sprintf("w%d", w), Action: patchpanda.AuditJobState, Subject: fmt.Sprintf("job:%d", i)}); err != nil {
						break
					}
				}
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		rep, err := (&audit.Verifier{Log: db, Chain: c}).Verify(context.Background(), nil)
		if err != nil || !rep.Verified || rep.Events != writers*each || rep.Head.ID != writers*each {
			t.Fatalf("after %d concurrent appends: %+v (problem %+v), %v", writers*each, rep, rep.Problem, err)
		}
	})
}
