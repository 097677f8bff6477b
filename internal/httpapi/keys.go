package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var req CreateKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ttl, err := ParseLifetime(req.ExpiresIn)
	if err != nil {
		return err
	}
	k, plain, err := s.Keys.Create(r.Context(), req.Name, req.Scopes, ttl, actor(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreateKeyResponse{APIKey: k, Key: plain})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.Keys.List(r.Context())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []patchpanda.APIKey{}
	}
	writeJSON(w, http.StatusOK, KeyList{Keys: ks})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	k, err := s.Keys.Revoke(r.Context(), id, actor(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := patchpanda.AuditFilter{Action: q.Get("action"), Subject: q.Get("subject"), Limit: 100}
	limit := 100
	err := firstError(
		patchpanda.CheckName("action", f.Action, patchpanda.MaxFilterLen),
		patchpanda.CheckName("subject", f.Subject, patchpanda.MaxFilterLen),
	)
	if err != nil {
		return err
	}
	if v := q.Get("after_id"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return patchpanda.Errorf(patchpanda.EINVALID, "after_id %q is not a number", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return patchpanda.Errorf(patchpanda.EINVALID, "limit %q must be between 1 and 1000", v)
		}
	}
	if v := q.Get("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			return patchpanda.Errorf(patchpanda.EINVALID, "since %q is not an RFC 3339 time", v)
		}
	}
	f.Limit = limit + 1 // one more tells whether there is a next page
	evs, err := s.Audit.AuditEvents(r.Context(), f)
	if err != nil {
		return err
	}
	out := AuditList{Events: evs}
	if len(evs) > limit {
		out.Events = evs[:limit]
		out.Next = out.Events[limit-1].ID
	}
	if out.Events == nil {
		out.Events = []patchpanda.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// actor names the principal of a request for audit events.
func actor(r *http.Request) string {
	p := PrincipalFrom(r.Context())
	if p == nil {
		return "anonymous"
	}
	return p.String()
}

// ParseLifetime parses "30d", "12h", "90m" (and Go durations); "" is 0,
// meaning no expiry. It returns an EINVALID error naming the value.
func ParseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 3650 {
			return 0, patchpanda.Errorf(patchpanda.EINVALID, "expires_in %q: want a number of days between 1 and 3650, like 30d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, patchpanda.Errorf(patchpanda.EINVALID, "expires_in %q: want a lifetime like 30d, 12h or 90m", s)
	}
	return d, nil
}
