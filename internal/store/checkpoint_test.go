package store

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestCheckpointsKeepTheSQLiteLogCopiedBack(t *testing.T) {
	ctx, db := openCheckpointed(t, "cp.db")
	for i := range 200 {
		payload := make([]byte, 4096)
		_, _ = rand.Read(payload) // incompressible: stored at full size
		ds := []*patchpanda.Delivery{{AppID: 1, DeliveryID: time.Now().String() + string(rune('a'+i%26)), Event: "ping", Payload: payload}}
		if _, err := db.RecordDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	var auto int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d on the writer's connection, want 0 (checkpoints run beside it)", auto)
	}
	// The checkpointer copies the log back: the database file grows to
	// hold the rows written so far.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := os.Stat(db.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 200*4096 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes after 800 KB of rows: the log was not checkpointed", st.Size())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openCheckpointed opens a migrated SQLite database in a temporary
// directory with RunCheckpoints running beside it until the test ends.
func openCheckpointed(t *testing.T, name string) (context.Context, *DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), name))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, nil); err != nil {
		cancel()
		db.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { db.RunCheckpoints(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return ctx, db
}
