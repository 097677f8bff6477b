package githubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) installationObject(base string, inst *Installation) map[string]any {
	sel := "selected"
	if inst.AllRepositories {
		sel = "all"
	}
	id := strconv.FormatInt(inst.ID, 10)
	account := s.userObject(base, inst.Account, inst.AccountType)
	account["id"] = inst.AccountID
	return map[string]any{
		"id":                   inst.ID,
		"account":              account,
		"repository_selection": sel,
		"access_tokens_url":    base + "/app/installations/" + id + "/access_tokens",
		"repositories_url":     base + "/installation/repositories",
		"html_url":             "https://github.com/organizations/" + inst.Account + "/settings/installations/" + id,
		"app_id":               s.AppID,
		"app_slug":             s.AppSlug,
		"target_id":            inst.AccountID,
		"target_type":          inst.AccountType,
		"permissions":          inst.Permissions,
		"events":               inst.Events,
		"created_at":           "2024-01-01T00:00:00Z",
		"updated_at":           "2024-01-01T00:00:00Z",
		"single_file_name":     nil,
		"suspended_by":         nil,
		"suspended_at":         ts(inst.SuspendedAt),
	}
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	id, _ := pathInt(r, "installation_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	writeJSON(w, http.StatusOK, s.installationObject(apiBase(r, s.prefix), inst))
}

func deliveryObject(d HookDelivery) map[string]any {
	var inst, repo any
	if d.InstallationID != 0 {
		inst = d.InstallationID
	}
	if d.RepositoryID != 0 {
		repo = d.RepositoryID
	}
	return map[string]any{
		"id":              d.ID,
		"guid":            d.GUID,
		"delivered_at":    ts(d.DeliveredAt),
		"redelivery":      d.Redelivery,
		"duration":        d.Duration,
		"status":          d.Status,
		"status_code":     d.StatusCode,
		"event":           d.Event,
		"action":          nullable(d.Action),
		"installation_id": inst,
		"repository_id":   repo,
		"throttled_at":    nil,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listDeliveries lists newest first with GitHub's cursor pagination: the
// cursor names the first delivery of the next page.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	_, perPage := page(r)
	s.mu.Lock()
	all := slices.Clone(s.deliveries)
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b HookDelivery) int { return int(b.ID - a.ID) })
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(c, "v1_"), 10, 64)
		if err != nil || !strings.HasPrefix(c, "v1_") {
			writeError(w, http.StatusBadRequest, "Invalid cursor", docsRoot)
			return
		}
		start = slices.IndexFunc(all, func(d HookDelivery) bool { return d.ID <= id })
		if start < 0 {
			start = len(all)
		}
	}
	end := min(start+perPage, len(all))
	if end < len(all) {
		q := url.Values{"per_page": {strconv.Itoa(perPage)}, "cursor": {"v1_" + strconv.FormatInt(all[end].ID, 10)}}
		w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", apiBase(r, s.prefix), r.URL.Path, q.Encode()))
	}
	out := []map[string]any{}
	for _, d := range all[start:end] {
		out = append(out, deliveryObject(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	id, _ := pathInt(r, "delivery_id")
	s.mu.Lock()
	i := slices.IndexFunc(s.deliveries, func(d HookDelivery) bool { return d.ID == id })
	if i < 0 {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	d := s.deliveries[i]
	d.ID = s.id()
	d.Redelivery = true
	d.DeliveredAt = s.now().UTC().Truncate(time.Second)
	d.Status, d.StatusCode = "OK", 200
	target, secret := s.hookURL, s.hookSecret
	s.mu.Unlock()
	if target != "" && d.Payload != nil {
		// Resend the original body, as GitHub does, and record the answer.
		wh := Webhook{URL: target, Secret: secret, Event: d.Event, DeliveryID: d.GUID, TargetID: s.AppID, Payload: d.Payload}
		resp, err := wh.Send(r.Context(), nil)
		switch {
		case err != nil:
			d.Status, d.StatusCode = "We couldn't deliver this payload: "+err.Error(), 0
		default:
			resp.Body.Close()
			d.StatusCode = resp.StatusCode
			if resp.StatusCode >= 300 {
				d.Status = "Invalid HTTP Response: " + strconv.Itoa(resp.StatusCode)
			}
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{})
}
