package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// DeliveryRecorder stores a delivery durably, reporting whether it is new.
type DeliveryRecorder interface {
	Record(ctx context.Context, d *patchpanda.Delivery) (bool, error)
}

// DeliveryObserver counts deliveries by event and outcome.
type DeliveryObserver interface {
	Delivery(event, outcome string)
}

// Webhooks is POST /webhooks/github: verify, record, answer. Nothing else
// happens in the request; processing runs later from the record.
type Webhooks struct {
	// Verifier checks signatures; nil means no secret is configured and
	// every delivery is refused.
	Verifier *webhook.Verifier
	Recorder DeliveryRecorder
	// AppID scopes delivery ids when a delivery does not name its App.
	AppID    int64
	MaxBytes int64
	Logger   *slog.Logger
	Metrics  DeliveryObserver
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Verifier == nil {
		h.count("", "rejected")
		writeError(w, r, h.Logger, patchpanda.Errorf(patchpanda.EUNAVAILABLE,
			"no webhook secret is configured (PATCHPANDA_WEBHOOK_SECRET); unsigned deliveries are never accepted"))
		return
	}
	d, err := h.Verifier.Read(r, h.MaxBytes)
	if err != nil {
		h.count("", "rejected")
		if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED {
			h.Logger.WarnContext(r.Context(), "webhook rejected", "error", patchpanda.ErrorMessage(err), "remote", r.RemoteAddr)
		}
		writeError(w, r, h.Logger, err)
		return
	}
	if d.Event == "ping" {
		h.count(d.Event, "ping")
		writeJSON(w, http.StatusOK, map[string]string{"status": "pong", "delivery": d.ID})
		return
	}
	rec := &patchpanda.Delivery{
		AppID: h.AppID, DeliveryID: d.ID, Event: d.Event, Action: d.Action,
		InstallationID: d.InstallationID, Sender: d.Sender, Payload: d.Payload,
	}
	if d.TargetType == "integration" && d.TargetID != 0 {
		rec.AppID = d.TargetID
	}
	if d.Repository != nil {
		rec.Repository, rec.RepositoryID = d.Repository.FullName(), d.Repository.ID
	}
	isNew, err := h.Recorder.Record(r.Context(), rec)
	if err != nil {
		h.count(d.Event, "error")
		writeError(w, r, h.Logger, err)
		return
	}
	if !isNew {
		h.count(d.Event, "duplicate")
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate", "delivery": d.ID})
		return
	}
	h.count(d.Event, "accepted")
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "delivery": d.ID})
}

func (h *Webhooks) count(event, outcome string) {
	if h.Metrics != nil {
		h.Metrics.Delivery(event, outcome)
	}
}
