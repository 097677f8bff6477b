package audit_test

import (
	"context"
	"testing"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// BenchmarkAppendKeyed measures sealing and storing one event on SQLite
// with a keyed chain.
func BenchmarkAppendKeyed(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	keyed(b, db)
	b.ResetTimer()
	for range b.N {
		if _, err := db.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "key:admin", Action: patchpanda.AuditKeyCreated, Subject: "key:1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures verifying a 20,000-event keyed chain on SQLite
// (reported per event).
func BenchmarkVerify(b *testing.B) {
	const events = 20000
	db := storetest.SQLite(b)
	ctx := context.Background()
	c := keyed(b, db)
	for range events {
		if _, err := db.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "key:admin", Action: patchpanda.AuditKeyCreated, Subject: "key:1"}); err != nil {
			b.Fatal(err)
		}
	}
	v := &audit.Verifier{Log: db, Chain: c}
	b.ResetTimer()
	for range b.N {
		rep, err := v.Verify(ctx, nil)
		if err != nil || !rep.Verified || rep.Events != events {
			b.Fatalf("%+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}
