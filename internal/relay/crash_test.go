package relay_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhookload"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// relayBinary builds cmd/relay once per test run.
func relayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "relaybin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "relay")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/patchpanda/patchpanda/cmd/relay").CombinedOutput()
		if err != nil {
			buildErr = &buildFailure{string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building the relay: %v", buildErr)
	}
	return binPath
}

type buildFailure struct{ out string }

func (b *buildFailure) Error() string { return b.out }

// startProcess runs the relay binary and returns it with its base URL.
func startProcess(t *testing.T, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(relayBinary(t), "serve")
	cmd.Dir = t.TempDir() // anything the relay writes beside itself stays out of the tree
	cmd.Env = append(os.Environ(), "PATCHPANDA_ADDR=127.0.0.1:0", "PATCHPANDA_LOG_FORMAT=json", "PATCHPANDA_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "relay listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatal("relay did not start within 60s")
		return nil, ""
	}
}

func TestCrashLosesNoAcknowledgedDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a relay process")
	}
	eachDB(t, func(t *testing.T, dbURL string) {
		env := []string{"PATCHPANDA_DATABASE_URL=" + dbURL, "PATCHPANDA_WEBHOOK_SECRET=s3cret", "PATCHPANDA_GITHUB_APP_ID=", "PATCHPANDA_QUEUE_BACKEND=db", "PATCHPANDA_DELIVERY_LEASE=3s"}
		first, url := startProcess(t, env...)

		var res webhookload.Result
		done := make(chan struct{})
		go func() {
			defer close(done)
			res = webhookload.Run(context.Background(), webhookload.Options{
				URL: url + "/webhooks/github", Secret: "s3cret", Duration: 20 * time.Second, Max: 3000, Workers: 16,
				Payload: webhookload.InstallationRepositories,
			})
		}()
		db, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Kill the relay mid-load, once it has taken some deliveries.
		waitFor(t, func() bool {
			c, err := db.DeliveryCounts(context.Background())
			return err == nil && c["pending"]+c["done"] >= 300
		})
		if err := first.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		<-done
		if res.Accepted == 0 {
			t.Fatal("no delivery was accepted before the kill")
		}
		t.Logf("before the kill: %d sent, %d accepted, %d failed", res.Sent, res.Accepted, res.Failed)

		startProcess(t, env...)
		waitForWithin(t, 3*time.Minute, func() bool {
			c, err := db.DeliveryCounts(context.Background())
			return err == nil && c["pending"] == 0
		})
		counts, _ := db.DeliveryCounts(context.Background())
		if counts["failed"] != 0 {
			t.Errorf("%d deliveries failed", counts["failed"])
		}
		for _, id := range res.AcceptedIDs {
			d, err := db.Delivery(context.Background(), 0, id)
			if err != nil {
				t.Fatalf("acknowledged delivery %s is lost: %v", id, err)
			}
			if d.State != patchpanda.DeliveryDone {
				t.Errorf("delivery %s is %s", id, d.State)
			}
		}
		// Each processed delivery added its own repository, once.
		var repos int
		for i := 0; i < res.Sent+16; i++ {
			if _, err := db.InstallationFor(context.Background(), "acme/repo-"+itoa(i)); err == nil {
				repos++
			}
		}
		if repos != counts["done"] {
			t.Errorf("%d repositories recorded for %d processed deliveries", repos, counts["done"])
		}
		if counts["done"] < res.Accepted {
			t.Errorf("%d processed < %d acknowledged", counts["done"], res.Accepted)
		}
	})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
