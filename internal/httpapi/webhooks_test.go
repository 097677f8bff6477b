package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

type recorded []*patchpanda.Delivery

func (r *recorded) Record(_ context.Context, d *patchpanda.Delivery) (bool, error) {
	*r = append(*r, d)
	return true, nil
}

// A delivery is recorded with the event read in the same pass as its
// envelope, so that the processor that takes it from the recorder does
// not parse it again.
func TestAnAcceptedDeliveryCarriesItsParsedEvent(t *testing.T) {
	v, err := webhook.NewVerifier([]string{"s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	var rec recorded
	h := &httpapi.Webhooks{Verifier: v, Recorder: &rec, Logger: quiet()}
	body := `{"action":"added","installation":{"id":7,"account":{"login":"acme","id":9}},"repository_selection":"selected",` +
		`"repositories_added":[{"id":70,"full_name":"acme/widgets"}],"repositories_removed":[],"sender":{"login":"octocat"}}`
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.EventHeader, "installation_repositories")
	r.Header.Set(webhook.DeliveryHeader, "2f6b5c1e-0000-4000-8000-000000000001")
	r.Header.Set(webhook.SignatureHeader, webhook.Sign("s3cret", []byte(body)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusAccepted || len(rec) != 1 {
		t.Fatalf("answered %d (%s) and recorded %d deliveries", w.Code, w.Body, len(rec))
	}
	ev, ok := rec[0].Parsed.(*webhook.InstallationRepositoriesEvent)
	if !ok || ev.InstallationID != 7 || len(ev.Added) != 1 || ev.Added[0].ID != 70 {
		t.Errorf("recorded with Parsed = %#v, want the installation_repositories event", rec[0].Parsed)
	}
}
