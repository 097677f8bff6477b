package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestCheckpointsKeepTheSQLiteLogCopiedBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "cp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { db.RunCheckpoints(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range 200 {
		ds := []*patchpanda.Delivery{{AppID: 1, DeliveryID: time.Now().String() + string(rune('a'+i%26)), Event: "ping", Payload: make([]byte, 4096)}}
		if _, err := db.RecordDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	// Eventually every frame of the log is back in the database file.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var busy, logFrames, copied int
		if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
			t.Fatal(err)
		}
		var auto int
		if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
			t.Fatal(err)
		}
		if auto != 0 {
			t.Fatalf("wal_autocheckpoint = %d on the writer's connection, want 0", auto)
		}
		if logFrames == copied {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log has %d frames, %d copied back", logFrames, copied)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
