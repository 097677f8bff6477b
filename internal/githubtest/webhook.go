package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Webhook is one webhook delivery to send the way GitHub sends it.
type Webhook struct {
	// URL receives the POST.
	URL string
	// Secret signs the body; empty sends no signature headers, as GitHub
	// does for a hook without a secret.
	Secret string
	// Event is X-GitHub-Event, e.g. "issue_comment".
	Event string
	// DeliveryID is X-GitHub-Delivery; empty gets a new GUID.
	DeliveryID string
	// HookID is X-GitHub-Hook-ID; zero sends 1.
	HookID int64
	// TargetID is X-GitHub-Hook-Installation-Target-ID, the App's id for
	// an App webhook; zero sends 1.
	TargetID int64
	// TargetType is X-GitHub-Hook-Installation-Target-Type; empty sends
	// "integration" (an App webhook).
	TargetType string
	// Payload is the body: []byte, json.RawMessage and string are sent as
	// they are, anything else is marshalled to JSON.
	Payload any
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body signed
// with secret: "sha256=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// signSHA1 is the legacy X-Hub-Signature GitHub still sends beside it.
func signSHA1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// Body returns the bytes the webhook sends, or an error when Payload
// cannot be marshalled.
func (w Webhook) Body() ([]byte, error) {
	switch p := w.Payload.(type) {
	case []byte:
		return p, nil
	case json.RawMessage:
		return p, nil
	case string:
		return []byte(p), nil
	}
	b, err := json.Marshal(w.Payload)
	if err != nil {
		return nil, fmt.Errorf("githubtest: marshal %s payload: %w", w.Event, err)
	}
	return b, nil
}

// Request builds the signed POST, with every header GitHub sends, for use
// with a handler directly (httptest.NewRecorder). It returns an error when
// the payload cannot be marshalled or the URL is bad.
func (w Webhook) Request(ctx context.Context) (*http.Request, error) {
	body, err := w.Body()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("githubtest: webhook request: %w", err)
	}
	if w.DeliveryID == "" {
		w.DeliveryID = newGUID()
	}
	if w.HookID == 0 {
		w.HookID = 1
	}
	if w.TargetID == 0 {
		w.TargetID = 1
	}
	if w.TargetType == "" {
		w.TargetType = "integration"
	}
	h := req.Header
	h.Set("Accept", "*/*")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/"+randomHex(4)[:7])
	h.Set("X-GitHub-Event", w.Event)
	h.Set("X-GitHub-Delivery", w.DeliveryID)
	h.Set("X-GitHub-Hook-ID", strconv.FormatInt(w.HookID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(w.TargetID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", w.TargetType)
	if w.Secret != "" {
		h.Set("X-Hub-Signature", signSHA1(w.Secret, body))
		h.Set("X-Hub-Signature-256", Sign(w.Secret, body))
	}
	return req, nil
}

// Send POSTs the webhook with client (http.DefaultClient when nil) and
// returns the response, whose body the caller must close; it returns an
// error when the request cannot be built or sent.
func (w Webhook) Send(ctx context.Context, client *http.Client) (*http.Response, error) {
	req, err := w.Request(ctx)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("githubtest: send %s webhook: %w", w.Event, err)
	}
	return resp, nil
}

// SendWebhook POSTs payload to url as a GitHub App webhook of event,
// signed with secret, under a new delivery id. It returns the response
// (the caller closes its body) or the error that kept it from being sent.
func SendWebhook(ctx context.Context, url, secret, event string, payload any) (*http.Response, error) {
	return Webhook{URL: url, Secret: secret, Event: event, Payload: payload}.Send(ctx, nil)
}

// SendWebhookDelivery is SendWebhook with an explicit X-GitHub-Delivery id,
// to send the same delivery twice.
func SendWebhookDelivery(ctx context.Context, url, secret, event, deliveryID string, payload any) (*http.Response, error) {
	return Webhook{URL: url, Secret: secret, Event: event, DeliveryID: deliveryID, Payload: payload}.Send(ctx, nil)
}

// Webhook returns a webhook from this fake's App (its id as the target
// id), for Send or Request.
func (s *Server) Webhook(url, secret, event string, payload any) Webhook {
	return Webhook{URL: url, Secret: secret, Event: event, TargetID: s.AppID, Payload: payload}
}
