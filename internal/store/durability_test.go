package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestSQLiteCommitsWithSynchronousFull(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sync, limit int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL): a commit must be on disk before the 202", sync)
	}
	if limit != journalSizeLimit {
		t.Errorf("journal_size_limit = %d, want %d", limit, journalSizeLimit)
	}
}

// The processor's claim commits without waiting for the disk, on the one
// connection every acknowledged delivery is written with: it must leave
// that connection at synchronous=FULL, whether the claim found work, none,
// or failed.
func TestClaimWithoutSyncLeavesTheConnectionAtFull(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordDeliveries(ctx, []*patchpanda.Delivery{{AppID: 1, DeliveryID: "a", Event: "ping", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		claim int
	}{
		{"a claim that finds work", ctx, 1},
		{"a claim that finds none", ctx, 0},
		{"a cancelled claim", cancelled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, _ := db.ClaimDeliveriesNoSync(tc.ctx, 10, time.Minute, "t", nil)
			if len(ds) != tc.claim {
				t.Errorf("claimed %d, want %d", len(ds), tc.claim)
			}
			var sync int
			if err := db.sql.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if sync != 2 {
				t.Errorf("synchronous = %d after the claim, want 2 (FULL)", sync)
			}
		})
	}
}

// At sustained load the write-ahead log stays under WALBound: writers
// never stop for long enough for a passive checkpoint to reset it, so the
// truncating one must.
func TestTheSQLiteLogStaysBoundedAtSustainedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a sustained-load test")
	}
	ctx, db := openCheckpointed(t, "wal.db")

	// A reader that keeps a snapshot open now and then, as the API's
	// list queries do, is what pins a passive checkpoint.
	var stop atomic.Bool
	go func() {
		for !stop.Load() {
			_, _ = db.DeliveryCounts(ctx)
			time.Sleep(time.Millisecond)
		}
	}()
	defer stop.Store(true)

	payload := make([]byte, 16<<10)
	_, _ = rand.Read(payload) // incompressible: stored at full size
	var maxWAL int64
	written := 0
	// Twice the bound in rows: without truncation the log would pass it.
	for i := 0; written < 2*WALBound; i++ {
		ds := make([]*patchpanda.Delivery, 64)
		for j := range ds {
			ds[j] = &patchpanda.Delivery{AppID: 1, DeliveryID: fmt.Sprintf("%d-%d", i, j), Event: "issue_comment", Payload: payload}
		}
		if _, err := db.RecordDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
		written += len(ds) * len(payload)
		if st, err := os.Stat(db.path + "-wal"); err == nil {
			maxWAL = max(maxWAL, st.Size())
		}
	}
	t.Logf("wrote %d MiB of payloads; the log peaked at %.1f MiB (bound %d MiB)", written>>20, float64(maxWAL)/(1<<20), WALBound>>20)
	if maxWAL > WALBound {
		t.Errorf("the write-ahead log reached %d MiB, over the %d MiB bound", maxWAL>>20, WALBound>>20)
	}
}

// mountTmpfs mounts a tmpfs of size bytes and returns its directory, or
// skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes to a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return p
		}
	}
}

func TestWritableFailsOnAFullDiskAndRecovers(t *testing.T) {
	ctx := context.Background()
	dir := mountTmpfs(t, 48<<20)
	db, err := Open(ctx, "sqlite:"+filepath.Join(dir, "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("an empty disk: %v", err)
	}
	filler := fill(t, dir)
	err = db.Writable(ctx)
	if patchpanda.ErrorCode(err) != patchpanda.EUNAVAILABLE || !strings.Contains(err.Error(), "full") {
		t.Errorf("a full disk: err = %v, want EUNAVAILABLE saying the disk is full", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := db.Writable(ctx); err != nil {
		t.Errorf("after space was freed: %v", err)
	}
}
