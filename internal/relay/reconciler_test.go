package relay_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestReconcilerRedeliversOnlyMissedFailures(t *testing.T) {
	eachDB(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, "db", dbURL)
		w.gh.SetWebhookTarget(w.relay.URL()+"/webhooks/github", secret)
		ctx := context.Background()
		payload := func(repoID int, name string) []byte {
			b, _ := json.Marshal(map[string]any{
				"action": "added", "installation": map[string]any{"id": instID, "account": map[string]any{"login": "acme"}},
				"repository_selection": "selected",
				"repositories_added":   []any{map[string]any{"id": repoID, "name": name, "full_name": "acme/" + name}},
				"repositories_removed": []any{}, "sender": map[string]any{"login": "alice", "type": "User"},
			})
			return b
		}
		now := time.Now().UTC()
		// Missed: failed, and the relay never saw it.
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "missed-1", DeliveredAt: now.Add(-time.Hour), Status: "Invalid HTTP Response: 503", StatusCode: 503,
			Event: "installation_repositories", Action: "added", InstallationID: instID, Payload: payload(8001, "missed")})
		// Failed at GitHub's end, but the relay has it: leave alone.
		w.send("installation_repositories", "seen-1", json.RawMessage(payload(8002, "seen")), 202)
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "seen-1", DeliveredAt: now.Add(-time.Hour), Status: "timed out", StatusCode: 0,
			Event: "installation_repositories", Action: "added", InstallationID: instID, Payload: payload(8002, "seen")})
		// Delivered fine: leave alone.
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "ok-1", DeliveredAt: now.Add(-time.Hour), Status: "OK", StatusCode: 202,
			Event: "installation_repositories", Action: "added", InstallationID: instID, Payload: payload(8003, "ok")})
		// Failed once, then redelivered fine: leave alone.
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "retried-1", DeliveredAt: now.Add(-2 * time.Hour), Status: "Invalid HTTP Response: 500", StatusCode: 500,
			Event: "installation_repositories", InstallationID: instID, Payload: payload(8004, "retried")})
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "retried-1", DeliveredAt: now.Add(-90 * time.Minute), Redelivery: true, Status: "OK", StatusCode: 202,
			Event: "installation_repositories", InstallationID: instID, Payload: payload(8004, "retried")})
		// Failed, but outside the window.
		w.gh.AddHookDelivery(githubtest.HookDelivery{GUID: "old-1", DeliveredAt: now.Add(-48 * time.Hour), Status: "Invalid HTTP Response: 503", StatusCode: 503,
			Event: "installation_repositories", InstallationID: instID, Payload: payload(8005, "old")})
		w.settle()

		n, err := w.relay.Reconciler.RunOnce(ctx)
		if err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v; want 1 redelivery", n, err)
		}
		calls := w.gh.CallsTo(githubtest.RouteRedeliver)
		if len(calls) != 1 {
			t.Fatalf("%d redelivery calls, want 1", len(calls))
		}
		w.settle()
		d, err := w.relay.DB.Delivery(ctx, w.gh.AppID, "missed-1")
		if err != nil || d.State != patchpanda.DeliveryDone {
			t.Fatalf("missed delivery after redelivery = %+v, %v", d, err)
		}
		if _, err := w.relay.DB.InstallationFor(ctx, "acme/missed"); err != nil {
			t.Errorf("the redelivered delivery's effect is missing: %v", err)
		}
		// A second run asks for nothing: the relay has it now.
		if n, err := w.relay.Reconciler.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("second RunOnce = %d, %v; want 0", n, err)
		}
	})
}
