package relay_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhookload"
)

// sh runs a command for the power-loss rig and returns its trimmed output,
// or skips the test saying what the machine does not allow.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Skipf("power-loss rig: %s %s: %v: %s (needs root, losetup, mkfs.ext4 and loop devices)", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// A power cut after the relay answered 202 loses none of those
// deliveries. The relay writes to an ext4 file system on a loop device;
// at the cut the relay is killed and the loop device's backing file is
// copied at once: the copy holds what reached the device (what was
// fsynced, plus whatever writeback happened to flush) and not what sat in
// the page cache, which is what a disk holds after the power goes. The
// copy is then mounted (ext4 replays its journal) and opened (SQLite
// recovers its log), as after a reboot.
func TestPowerLossLosesNoAcknowledgedDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a relay and a file system on a loop device")
	}
	if os.Geteuid() != 0 {
		t.Skip("power-loss test needs root for a loop device; run as root (CI does) to include it")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, "truncate", "-s", "256M", img)
	sh(t, "mkfs.ext4", "-q", "-F", img)
	dev := sh(t, "losetup", "-f", "--show", img)
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	if err := syscall.Mount(dev, mnt, "ext4", 0, ""); err != nil {
		t.Skipf("power-loss rig: mount %s: %v", dev, err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})

	dbPath := filepath.Join(mnt, "relay.db")
	relayProc, url := startProcess(t, "PATCHPANDA_DATABASE_URL=sqlite:"+dbPath, "PATCHPANDA_WEBHOOK_SECRET=s3cret",
		"PATCHPANDA_GITHUB_APP_ID=", "PATCHPANDA_QUEUE_BACKEND=db")
	res := webhookload.Run(context.Background(), webhookload.Options{
		URL: url + "/webhooks/github", Secret: "s3cret", Duration: 5 * time.Second, Max: 5000, Workers: 16,
		Payload: webhookload.InstallationRepositories,
	})
	// The cut: the relay stops where it is and the disk keeps only what
	// reached it.
	_ = relayProc.Process.Signal(syscall.SIGKILL)
	snap := filepath.Join(dir, "after-the-cut.img")
	sh(t, "cp", "--sparse=always", img, snap)
	_ = relayProc.Wait()
	if res.Accepted == 0 {
		t.Fatalf("no delivery was acknowledged: %+v", res)
	}
	_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
	mounted = false

	// The reboot.
	dev2 := sh(t, "losetup", "-f", "--show", snap)
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev2).Run() })
	mnt2 := filepath.Join(dir, "mnt2")
	if err := os.Mkdir(mnt2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(dev2, mnt2, "ext4", 0, ""); err != nil {
		t.Fatalf("mounting the disk after the cut: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt2, syscall.MNT_DETACH) })
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(mnt2, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lost := 0
	for _, id := range res.AcceptedIDs {
		if _, err := db.Delivery(context.Background(), 0, id); err != nil {
			lost++
		}
	}
	t.Logf("power cut after %d deliveries acknowledged (%d sent): %d lost", res.Accepted, res.Sent, lost)
	if lost != 0 {
		t.Errorf("%d of %d acknowledged deliveries lost in the power cut", lost, res.Accepted)
	}
}
