// Package dispatch turns recorded webhook deliveries into decisions and
// work: installations kept current, and PR comment commands and PR events
// checked (who asked, config, budget) and turned into jobs. It runs inside
// the intake processor, never in a request.
package dispatch

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// Dispatcher handles deliveries by event.
type Dispatcher struct {
	Logger *slog.Logger
}

// Handle is an intake.Handler: it parses the delivery's payload and returns
// what to commit with it. A payload that does not parse fails the delivery
// for good with the parser's reason.
func (d *Dispatcher) Handle(ctx context.Context, del patchpanda.Delivery) (intake.Commit, error) {
	ev, err := webhook.Parse(del.Event, del.Payload)
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	switch e := ev.(type) {
	case *webhook.InstallationEvent:
		return installation(e), nil
	case *webhook.InstallationRepositoriesEvent:
		return installationRepositories(e), nil
	default:
		return nil, nil
	}
}

func installation(e *webhook.InstallationEvent) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		switch e.Action {
		case "created", "new_permissions_accepted":
			return q.UpsertInstallation(ctx, e.InstallationID, e.Account, e.Repositories)
		case "deleted":
			return q.SetInstallationState(ctx, e.InstallationID, "deleted")
		case "suspend":
			return q.SetInstallationState(ctx, e.InstallationID, "suspended")
		case "unsuspend":
			return q.SetInstallationState(ctx, e.InstallationID, "active")
		}
		return nil
	}
}

func installationRepositories(e *webhook.InstallationRepositoriesEvent) intake.Commit {
	return func(ctx context.Context, q *store.Queries) error {
		if err := q.UpsertInstallation(ctx, e.InstallationID, e.Account, nil); err != nil {
			return err
		}
		if err := q.AddInstallationRepositories(ctx, e.InstallationID, e.Added); err != nil {
			return err
		}
		return q.RemoveInstallationRepositories(ctx, e.InstallationID, e.Removed)
	}
}
