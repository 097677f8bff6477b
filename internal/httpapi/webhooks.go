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
	if err := h.forUs(d); err != nil {
		// Signed with our secret but meant for another App (or a
		// repository hook): never stored, so never acted on.
		h.count(d.Event, "rejected")
		h.Logger.WarnContext(r.Context(), "webhook for another App refused", "delivery", d.ID, "event", d.Event,
			"target_type", d.TargetType, "target_id", d.TargetID, "remote", r.RemoteAddr)
		writeError(w, r, h.Logger, err)
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

// forUs refuses a delivery addressed to another target when this relay
// is a GitHub App: its X-GitHub-Hook-Installation-Target-Type, when sent,
// must be "integration" and its target id our App id. Without an App
// (AppID 0) every target is taken, and delivery ids are scoped by the
// target id the delivery names.
func (h *Webhooks) forUs(d *webhook.Delivery) error {
	if h.AppID == 0 {
		return nil
	}
	if d.TargetType != "" && d.TargetType != "integration" {
		return patchpanda.Errorf(patchpanda.EINVALID, "%s: %q is not this GitHub App's hook", webhook.TargetTypeHeader, d.TargetType)
	}
	if d.TargetID != 0 && d.TargetID != h.AppID {
		return patchpanda.Errorf(patchpanda.EINVALID, "%s: %d is not this relay's GitHub App (%d)", webhook.TargetIDHeader, d.TargetID, h.AppID)
	}
	return nil
}

func (h *Webhooks) count(event, outcome string) {
	if h.Metrics != nil {
		h.Metrics.Delivery(event, outcome)
	}
}
