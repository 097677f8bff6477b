package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Deliveries is what the reconciler asks of GitHub.
type Deliveries interface {
	HookDeliveries(ctx context.Context, cursor string, perPage int) ([]githubapp.HookDelivery, string, error)
	Redeliver(ctx context.Context, deliveryID int64) error
}

// RedeliveryObserver counts redelivery requests by result.
type RedeliveryObserver interface {
	Redelivery(result string)
}

// Reconciler recovers deliveries that never reached the relay. GitHub does
// not retry a failed delivery by itself; the reconciler lists the App's
// recent deliveries and asks GitHub to redeliver each one that failed and
// that the relay has no record of.
type Reconciler struct {
	GitHub  Deliveries
	DB      *store.DB
	AppID   int64
	Logger  *slog.Logger
	Metrics RedeliveryObserver
	// Window is how far back to look; GitHub keeps three days.
	Window time.Duration
	// MaxPages and MaxRedeliveries bound one run.
	MaxPages, MaxRedeliveries int
	Interval                  time.Duration
	Now                       func() time.Time

	mu    sync.Mutex
	asked map[string]time.Time // GUIDs asked for recently: do not ask again at once
}

// Defaults of the Reconciler, and the relay's defaults of
// PATCHPANDA_REDELIVERY_WINDOW and PATCHPANDA_REDELIVERY_INTERVAL.
const (
	DefaultRedeliveryWindow   = 24 * time.Hour
	DefaultRedeliveryInterval = 5 * time.Minute
)

// NewReconciler returns a Reconciler looking back DefaultRedeliveryWindow
// every DefaultRedeliveryInterval, at most 20 pages of 100 and 50
// redeliveries a run.
func NewReconciler(gh Deliveries, db *store.DB, appID int64, logger *slog.Logger, m RedeliveryObserver) *Reconciler {
	return &Reconciler{GitHub: gh, DB: db, AppID: appID, Logger: logger, Metrics: m,
		Window: DefaultRedeliveryWindow, MaxPages: 20, MaxRedeliveries: 50, Interval: DefaultRedeliveryInterval, Now: time.Now,
		asked: map[string]time.Time{}}
}

// Run reconciles every Interval until ctx ends. The first run comes a
// minute after the start (or one Interval, if shorter), once the relay has
// settled.
func (r *Reconciler) Run(ctx context.Context) {
	wait := min(r.Interval, time.Minute)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = r.Interval
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("reconciling deliveries", "error", err)
			// A rate limit says when to come back; before then every
			// call would be refused.
			var ra RetryAfter
			if errors.As(err, &ra) {
				wait = max(wait, time.Until(ra.RetryAfter()))
			}
		}
	}
}

// RunOnce looks through the window and asks for the missed deliveries,
// returning how many it asked for. Runs do not overlap.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.Now()
	for guid, at := range r.asked {
		if now.Sub(at) > time.Hour {
			delete(r.asked, guid)
		}
	}
	// Newest first: the first attempt seen of a GUID is its latest.
	latest := map[string]githubapp.HookDelivery{}
	succeeded := map[string]bool{}
	var order []string
	cursor := ""
	for page := 0; page < r.MaxPages; page++ {
		ds, next, err := r.GitHub.HookDeliveries(ctx, cursor, 100)
		if err != nil {
			return 0, err
		}
		// Pages run newest first; once a page ends outside the window, the
		// following ones are older still.
		done := len(ds) == 0 || now.Sub(ds[len(ds)-1].DeliveredAt) > r.Window
		for _, d := range ds {
			if now.Sub(d.DeliveredAt) > r.Window {
				continue
			}
			if !d.Failed() {
				succeeded[d.GUID] = true
			}
			if _, ok := latest[d.GUID]; !ok {
				latest[d.GUID] = d
				order = append(order, d.GUID)
			}
		}
		if done || next == "" {
			break
		}
		cursor = next
	}
	var missed []string
	for _, g := range order {
		if !succeeded[g] {
			missed = append(missed, g)
		}
	}
	if len(missed) == 0 {
		return 0, nil
	}
	known, err := r.DB.KnownDeliveries(ctx, r.AppID, missed)
	if err != nil {
		return 0, err
	}
	asked := 0
	for _, g := range missed {
		if known[g] || !r.asked[g].IsZero() {
			continue
		}
		if asked >= r.MaxRedeliveries {
			r.Logger.Warn("redelivery limit reached for this run; the rest wait for the next", "limit", r.MaxRedeliveries)
			break
		}
		d := latest[g]
		if err := r.GitHub.Redeliver(ctx, d.ID); err != nil {
			r.observe("error")
			r.Logger.Warn("asking for a redelivery", "delivery", g, "event", d.Event, "error", err)
			continue
		}
		r.asked[g] = now
		asked++
		r.observe("requested")
		r.Logger.Info("asked GitHub to redeliver a missed delivery", "delivery", g, "event", d.Event, "status", d.Status)
	}
	return asked, nil
}

func (r *Reconciler) observe(result string) {
	if r.Metrics != nil {
		r.Metrics.Redelivery(result)
	}
}
