package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// verifyAudit answers GET /api/audit/verify[?head=ID:HASH] with the
// chain's report: 200 whether or not the chain verified, since the report
// is the answer; errors only when the chain cannot be read.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	var expect *patchpanda.AuditHead
	if v := r.URL.Query().Get("head"); v != "" {
		h, err := ParseAuditHead(v)
		if err != nil {
			return err
		}
		expect = &h
	}
	rep, err := s.AuditVerify.Verify(r.Context(), expect)
	if err != nil {
		return err
	}
	s.JSON(w, http.StatusOK, rep)
	return nil
}

// ParseAuditHead parses "ID:HASH", a head as the relay logs it
// (event_id and hash of an "audit checkpoint" line). It returns an
// EINVALID error naming what is wrong.
func ParseAuditHead(s string) (patchpanda.AuditHead, error) {
	id, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n < 1 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return patchpanda.AuditHead{}, patchpanda.Errorf(patchpanda.EINVALID, "head %.100q is not EVENT_ID:HASH (a positive id and 64 lowercase hex digits, as in the relay's \"audit checkpoint\" log line)", s)
	}
	return patchpanda.AuditHead{ID: n, Hash: hash}, nil
}

// VerifyAudit asks the relay to verify its audit chain; expect, when
// non-nil, is a head taken from the relay's log.
func (c *Client) VerifyAudit(ctx context.Context, expect *patchpanda.AuditHead) (patchpanda.AuditReport, error) {
	q := url.Values{}
	if expect != nil {
		q.Set("head", strconv.FormatInt(expect.ID, 10)+":"+expect.Hash)
	}
	var out patchpanda.AuditReport
	err := c.Do(ctx, http.MethodGet, "/api/audit/verify", q, nil, &out)
	return out, err
}
