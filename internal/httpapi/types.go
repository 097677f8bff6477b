package httpapi

import "github.com/patchpanda/patchpanda/internal/patchpanda"

// CreateKeyRequest is the body of POST /api/admin/keys.
type CreateKeyRequest struct {
	Name   string             `json:"name"`
	Scopes []patchpanda.Scope `json:"scopes"`
	// ExpiresIn is a lifetime such as "30d", "12h" or "90m"; empty: never.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// CreateKeyResponse answers POST /api/admin/keys. Key holds the plaintext,
// shown this once and never again.
type CreateKeyResponse struct {
	APIKey patchpanda.APIKey `json:"api_key"`
	Key    string            `json:"key"`
}

// KeyList answers GET /api/admin/keys.
type KeyList struct {
	Keys []patchpanda.APIKey `json:"keys"`
}

// AuditList answers GET /api/audit. Next is the after_id of the next page,
// 0 when there is none.
type AuditList struct {
	Events []patchpanda.AuditEvent `json:"events"`
	Next   int64                   `json:"next,omitempty"`
}
