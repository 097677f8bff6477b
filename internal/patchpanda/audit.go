package patchpanda

import (
	"encoding/json"
	"time"
)

// AuditEvent records a decision a person could ask "why?" about. Events
// form a hash chain: each Hash covers the event and the previous Hash, so
// editing or deleting a past event is detected by verifying the chain.
type AuditEvent struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Audit actions. Each names one kind of decision.
const (
	AuditKeyCreated     = "key.created"
	AuditKeyRevoked     = "key.revoked"
	AuditCommandAccept  = "command.accepted"
	AuditCommandDenied  = "command.denied"
	AuditConfigRejected = "config.rejected"
	AuditOverBudget     = "budget.exceeded"
	AuditJobEnqueued    = "job.enqueued"
	AuditJobReplayed    = "job.replayed"
	AuditJobState       = "job.state_changed"
	AuditTokenMinted    = "token.minted"
	AuditBudgetChanged  = "budget.changed"
	AuditProjectCreated = "billing_project.created"
	AuditRepoBound      = "repository.bound"
	AuditProviderKeyAdd = "provider_key.added"
	AuditDeliveryRetry  = "delivery.retried"
)

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	Action  string
	Subject string
	Since   time.Time
	AfterID int64 // keyset: events with a greater id
	Limit   int
}
