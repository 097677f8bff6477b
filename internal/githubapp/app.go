package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/go-github/v62/github"
)

// Installation is an installation of the App on an account.
type Installation struct {
	ID int64
	// Account is the login of the organisation or user the App is
	// installed on; AccountType is "Organization" or "User".
	Account     string
	AccountID   int64
	AccountType string
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	Permissions         map[string]string
	Events              []string
	// SuspendedAt is when the installation was suspended, or zero.
	SuspendedAt time.Time
}

// Installation returns installation id (GET /app/installations/{id}, as the
// App). It returns an error wrapping ErrNotFound when the App has no such
// installation. Without App credentials it returns an empty Installation
// with the given id.
func (c *Client) Installation(ctx context.Context, id int64) (*Installation, error) {
	const route = "/app/installations/{installation_id}"
	if !c.enabled {
		c.skip(ctx, "GET "+route, slog.Int64("installation_id", id))
		return &Installation{ID: id}, nil
	}
	op := fmt.Sprintf("get installation %d", id)
	gh, err := c.asApp()
	if err != nil {
		return nil, err
	}
	in, _, err := gh.Apps.GetInstallation(withRoute(ctx, route), id)
	if err != nil {
		return nil, c.classify(op, err)
	}
	out := &Installation{
		ID:                  in.GetID(),
		Account:             in.GetAccount().GetLogin(),
		AccountID:           in.GetAccount().GetID(),
		AccountType:         in.GetAccount().GetType(),
		RepositorySelection: in.GetRepositorySelection(),
		Events:              in.Events,
		SuspendedAt:         in.GetSuspendedAt().Time,
	}
	if in.Permissions != nil {
		b, _ := json.Marshal(in.Permissions)
		_ = json.Unmarshal(b, &out.Permissions)
	}
	return out, nil
}

// HookDelivery is one delivery of the App's webhook as GitHub recorded it.
type HookDelivery struct {
	ID   int64
	GUID string // the X-GitHub-Delivery id; redeliveries keep it
	// DeliveredAt is when GitHub sent it.
	DeliveredAt time.Time
	Redelivery  bool
	Duration    float64 // seconds
	// Status is "OK" or GitHub's description of the failure;
	// StatusCode is our answer's HTTP status (0 when none came).
	Status         string
	StatusCode     int
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
}

// Failed reports whether GitHub did not get a 2xx answer for the delivery.
func (d HookDelivery) Failed() bool { return d.StatusCode < 200 || d.StatusCode > 299 }

// HookDeliveries returns one page of the App's webhook deliveries, newest
// first (GET /app/hook/deliveries, as the App), and the cursor of the next
// page, "" after the last. perPage is capped at 100 by GitHub; 0 means
// GitHub's default of 30. Without App credentials it returns no deliveries.
func (c *Client) HookDeliveries(ctx context.Context, cursor string, perPage int) ([]HookDelivery, string, error) {
	const route = "/app/hook/deliveries"
	if !c.enabled {
		c.skip(ctx, "GET "+route)
		return nil, "", nil
	}
	gh, err := c.asApp()
	if err != nil {
		return nil, "", err
	}
	list, resp, err := gh.Apps.ListHookDeliveries(withRoute(ctx, route), &github.ListCursorOptions{Cursor: cursor, PerPage: min(perPage, 100)})
	if err != nil {
		return nil, "", c.classify("list hook deliveries", err)
	}
	out := make([]HookDelivery, 0, len(list))
	for _, d := range list {
		out = append(out, HookDelivery{
			ID:             d.GetID(),
			GUID:           d.GetGUID(),
			DeliveredAt:    d.GetDeliveredAt().Time,
			Redelivery:     d.GetRedelivery(),
			Duration:       deref(d.Duration),
			Status:         d.GetStatus(),
			StatusCode:     d.GetStatusCode(),
			Event:          d.GetEvent(),
			Action:         d.GetAction(),
			InstallationID: d.GetInstallationID(),
			RepositoryID:   d.GetRepositoryID(),
		})
	}
	return out, resp.Cursor, nil
}

// Redeliver asks GitHub to send delivery deliveryID again (POST
// /app/hook/deliveries/{id}/attempts, as the App); GitHub answers 202 and
// sends it later under the same GUID. It returns an error wrapping
// ErrNotFound for an unknown delivery. Without App credentials it does
// nothing.
func (c *Client) Redeliver(ctx context.Context, deliveryID int64) error {
	const route = "/app/hook/deliveries/{delivery_id}/attempts"
	if !c.enabled {
		c.skip(ctx, "POST "+route, slog.Int64("delivery_id", deliveryID))
		return nil
	}
	gh, err := c.asApp()
	if err != nil {
		return err
	}
	_, _, err = gh.Apps.RedeliverHookDelivery(withRoute(ctx, route), deliveryID)
	return c.classify(fmt.Sprintf("redeliver delivery %d", deliveryID), err)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
