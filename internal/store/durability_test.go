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

// The processor's claims and results commit without waiting for the
// disk, on the one connection every acknowledged delivery is written with:
// they must run at synchronous=NORMAL and leave that connection at FULL,
// whether they found work, none, failed or were cancelled.
func TestCommitsWithoutSyncLeaveTheConnectionAtFull(t *testing.T) {
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
	level := func(t *testing.T, q querier) int {
		t.Helper()
		var sync int
		if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		return sync
	}
	for _, tc := range []struct {
		name  string
		run   func(t *testing.T) error
		claim int
	}{
		{"a claim that finds work", func(t *testing.T) error {
			ds, err := db.ClaimDeliveriesNoSync(ctx, 10, time.Minute, "t", nil)
			if len(ds) != 1 {
				t.Errorf("claimed %d, want 1", len(ds))
			}
			return err
		}, 1},
		{"a claim that finds none", func(t *testing.T) error {
			_, err := db.ClaimDeliveriesNoSync(ctx, 10, time.Minute, "t", nil)
			return err
		}, 0},
		{"a cancelled claim", func(t *testing.T) error {
			if _, err := db.ClaimDeliveriesNoSync(cancelled, 10, time.Minute, "t", nil); err == nil {
				t.Error("a cancelled claim succeeded")
			}
			return nil
		}, 0},
		{"a transaction that commits", func(t *testing.T) error {
			return db.InTxNoSync(ctx, func(q *Queries) error {
				if got := level(t, q.q); got != 1 {
					t.Errorf("synchronous = %d inside, want 1 (NORMAL)", got)
				}
				return q.FinishDelivery(ctx, 1, "t", patchpanda.DeliveryDone, "")
			})
		}, 0},
		{"a transaction that fails", func(t *testing.T) error {
			if err := db.InTxNoSync(ctx, func(q *Queries) error { return errors.New("no") }); err == nil {
				t.Error("a failed transaction succeeded")
			}
			return nil
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(t); err != nil {
				t.Fatal(err)
			}
			if got := level(t, db.sql); got != 2 {
				t.Errorf("synchronous = %d after, want 2 (FULL)", got)
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
