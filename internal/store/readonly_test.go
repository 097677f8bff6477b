package store_test

import (
	"context"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// A database that answers but takes no write (a PostgreSQL standby, or one
// made read-only) is not ready: Ping alone would call it healthy.
func TestWritableFailsOnAReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	u := storetest.PostgresURL(t)
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("a writable database: %v", err)
	}
	db.Close()
	ro, err := store.Open(ctx, u+"&default_transaction_read_only=on")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	err = ro.Writable(ctx)
	if patchpanda.ErrorCode(err) != patchpanda.EUNAVAILABLE {
		t.Fatalf("a read-only database: err = %v, want EUNAVAILABLE", err)
	}
	t.Logf("read-only: %v", err)
}
