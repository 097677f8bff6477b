package deliveries_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/deliveries"
	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

func TestListAndRetryFailedDeliveries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "r.db"),
		QueueBackend: "db", GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })
	_, admin, err := r.Keys.Create(ctx, "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	bad := &patchpanda.Delivery{AppID: 1, DeliveryID: "bad-guid", Event: "issue_comment", Payload: []byte("not json")}
	if _, err := r.DB.RecordDeliveries(ctx, []*patchpanda.Delivery{bad}); err != nil {
		t.Fatal(err)
	}
	r.Processor.Wake()
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := r.DB.Delivery(ctx, 1, "bad-guid")
		if err == nil && d.State == patchpanda.DeliveryFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bad delivery never failed: %+v %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	run := func(args ...string) (string, string, error) {
		out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
		f := &factory.Factory{IO: &iostreams.IO{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, Width: 200}}
		f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
			return httpapi.NewClient(cmd.String("relay"), cmd.String("token")), nil
		}
		root := &cli.Command{Name: "ppctl", Writer: out, ErrWriter: errOut,
			ExitErrHandler: func(context.Context, *cli.Command, error) {},
			Flags:          []cli.Flag{&cli.StringFlag{Name: "relay"}, &cli.StringFlag{Name: "token"}},
			Commands:       []*cli.Command{deliveries.New(f)}}
		err := root.Run(ctx, append([]string{"ppctl", "--relay", r.URL(), "--token", admin, "deliveries"}, args...))
		return out.String(), errOut.String(), err
	}

	out, _, err := run("list")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(strings.TrimSpace(out), "\t")
	if len(fields) < 8 || fields[1] != "bad-guid" || fields[4] != "failed" || fields[7] == "" {
		t.Fatalf("list = %q, want the failed delivery with its reason", out)
	}
	id := fields[0]
	_, errOut, err := run("retry", id)
	if err != nil || !strings.Contains(errOut, "will be processed again") {
		t.Fatalf("retry: %v %s", err, errOut)
	}
	evs, _ := r.DB.AuditEvents(ctx, patchpanda.AuditFilter{Action: patchpanda.AuditDeliveryRetry})
	if len(evs) != 1 || evs[0].Subject != "bad-guid" {
		t.Errorf("audit = %+v, want one delivery.retried for bad-guid", evs)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	if _, err := httpapi.NewClient(r.URL(), admin).RetryDelivery(ctx, n+1000); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("retrying an unknown delivery: %v, want not found", err)
	}
	if _, _, err := run("retry", "abc"); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("retry abc: %v, want an invalid-argument error", err)
	}
}
