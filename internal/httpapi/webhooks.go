package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/patchpanda/patchpanda/internal/limits"
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
	AppID int64
	// MaxBytes bounds a body; webhook.DefaultMaxBytes (GitHub's 25 MB) when 0.
	MaxBytes int64
	// ReadTimeout is how long the body may take to arrive;
	// DefaultWebhookReadTimeout when 0.
	ReadTimeout time.Duration
	// MemoryBudget bounds the bytes that bodies over smallWebhookBody may
	// hold at once (each counts its declared length, or MaxBytes when it
	// declares none); a body that does not fit is answered 503 with
	// Retry-After. DefaultWebhookMemory when 0.
	MemoryBudget int64
	Logger       *slog.Logger
	Metrics      DeliveryObserver
	// Limits counts and logs the limits hit; may be nil.
	Limits *limits.Reporter

	once        sync.Once
	sem         *semaphore.Weighted
	unavailable limits.Throttle // logs of EUNAVAILABLE answers
}

// smallWebhookBody is the size under which a body does not take from the
// memory budget: most deliveries are a few kilobytes, and they must keep
// flowing while large bodies wait their turn.
const smallWebhookBody = 64 << 10

func (h *Webhooks) init() {
	if h.MaxBytes <= 0 {
		h.MaxBytes = webhook.DefaultMaxBytes
	}
	if h.ReadTimeout <= 0 {
		h.ReadTimeout = DefaultWebhookReadTimeout
	}
	if h.MemoryBudget <= 0 {
		h.MemoryBudget = DefaultWebhookMemory
	}
	h.sem = semaphore.NewWeighted(h.MemoryBudget)
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	ip := clientIP(r)
	if r.ContentLength > h.MaxBytes {
		h.count("", "rejected")
		h.Limits.Hit(r.Context(), limits.WebhookBody, ip, "content_length", r.ContentLength)
		writeError(w, r, h.Logger, &h.unavailable, patchpanda.Errorf(patchpanda.ETOOLARGE,
			"the request body exceeds the limit of %d bytes (PATCHPANDA_WEBHOOK_MAX_BYTES)", h.MaxBytes))
		return
	}
	// A body has a short deadline of its own: a sender that trickles
	// cannot hold a connection and its buffer for the server's timeout.
	extendDeadlines(w, h.ReadTimeout, 0)
	if weight := h.weight(r); weight > 0 {
		if !h.sem.TryAcquire(weight) {
			h.count("", "rejected")
			h.Limits.Hit(r.Context(), limits.WebhookMemory, ip, "content_length", r.ContentLength)
			writeError(w, r, h.Logger, &h.unavailable, retryLater(10*time.Second, patchpanda.EUNAVAILABLE,
				"the relay is reading as many large webhook bodies as PATCHPANDA_WEBHOOK_MEMORY (%d bytes) allows; "+
					"the delivery will be redelivered once it has room", h.MemoryBudget))
			return
		}
		defer h.sem.Release(weight)
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.MaxBytes)
	h.serve(w, r, ip)
}

// weight is what a body takes from the memory budget: 0 for a small one.
func (h *Webhooks) weight(r *http.Request) int64 {
	n := r.ContentLength
	if n < 0 {
		n = h.MaxBytes
	}
	if n <= smallWebhookBody {
		return 0
	}
	return min(n, h.MemoryBudget)
}

func (h *Webhooks) serve(w http.ResponseWriter, r *http.Request, ip string) {
	if h.Verifier == nil {
		h.count("", "rejected")
		writeError(w, r, h.Logger, &h.unavailable, patchpanda.Errorf(patchpanda.EUNAVAILABLE,
			"no webhook secret is configured (PATCHPANDA_WEBHOOK_SECRET); unsigned deliveries are never accepted"))
		return
	}
	d, err := h.Verifier.Read(r, h.MaxBytes)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		h.Limits.Hit(r.Context(), limits.WebhookReadTimeout, ip)
		err = patchpanda.Errorf(patchpanda.EINVALID, "the request body did not arrive within %s (PATCHPANDA_WEBHOOK_READ_TIMEOUT)", h.ReadTimeout)
	} else if patchpanda.ErrorCode(err) == patchpanda.ETOOLARGE {
		h.Limits.Hit(r.Context(), limits.WebhookBody, ip)
	}
	if err != nil {
		h.count("", "rejected")
		if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED {
			// Once a minute per address, not per request: a flood of forged
			// deliveries must not flood the log.
			h.Limits.Hit(r.Context(), limits.WebhookSignature, ip, "error", patchpanda.ErrorMessage(err))
		}
		writeError(w, r, h.Logger, &h.unavailable, err)
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
		writeError(w, r, h.Logger, &h.unavailable, err)
		return
	}
	rec := &patchpanda.Delivery{
		AppID: h.AppID, DeliveryID: d.ID, Event: d.Event, Action: d.Action,
		InstallationID: d.InstallationID, Sender: d.Sender, Payload: d.Payload, Parsed: d.Parsed,
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
		writeError(w, r, h.Logger, &h.unavailable, err)
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
