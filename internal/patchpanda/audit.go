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
	AuditAppCreated     = "github_app.created" // through /setup, the App manifest flow
)

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	Action  string
	Subject string
	Since   time.Time
	AfterID int64 // keyset: events with a greater id
	Limit   int
}

// AuditHead names one event of the audit chain by id and hash: the chain's
// newest event, or the event a checkpoint vouches for.
type AuditHead struct {
	ID   int64  `json:"id"`
	Hash string `json:"hash"`
}

// AuditCheckpoint is a signed record, kept outside the events table, that
// the chain once reached event EventID with hash Hash. A chain that later
// ends before EventID, or holds another event there, was cut or rewritten.
type AuditCheckpoint struct {
	ID      int64     `json:"id"`
	EventID int64     `json:"event_id"`
	Hash    string    `json:"hash"`
	Reason  string    `json:"reason"` // start, every, shutdown
	At      time.Time `json:"at"`
	// MAC signs the other fields with the chain key; "" when the chain was
	// not keyed when the checkpoint was taken.
	MAC string `json:"mac,omitempty"`
}

// The reasons a checkpoint is taken.
const (
	CheckpointStart    = "start"
	CheckpointEvery    = "every"
	CheckpointShutdown = "shutdown"
)

// AuditReport is the outcome of verifying the audit chain.
type AuditReport struct {
	Verified bool `json:"verified"`
	// Keyed reports whether events after KeyedAfter are sealed with a key
	// a database writer does not hold; false when the relay has no secrets
	// keeper, and then a writer can recompute the whole chain.
	Keyed      bool  `json:"keyed"`
	KeyedAfter int64 `json:"keyed_after"`
	// Events counts the events checked and found good before any problem.
	Events int64 `json:"events"`
	// Head is the newest good event; nil for an empty chain.
	Head *AuditHead `json:"head,omitempty"`
	// Checkpoint is the newest checkpoint; nil when none was taken.
	Checkpoint *AuditCheckpoint `json:"checkpoint,omitempty"`
	Problem    *AuditProblem    `json:"problem,omitempty"`
}

// AuditProblem is the first thing wrong with the audit chain.
type AuditProblem struct {
	Kind string `json:"kind"`
	// EventID is the first event concerned (for a gap or a truncation, the
	// first missing one).
	EventID int64  `json:"event_id"`
	Message string `json:"message"`
}

// The kinds of AuditProblem.
const (
	// AuditChanged: an event's seal does not match its content.
	AuditChanged = "changed"
	// AuditUnlinked: an event's previous hash is not its predecessor's hash.
	AuditUnlinked = "unlinked"
	// AuditGap: event ids are missing from the middle of the chain.
	AuditGap = "gap"
	// AuditTruncated: the chain ends before an event a checkpoint (or the
	// head given to verify) vouches for.
	AuditTruncated = "truncated"
	// AuditRewritten: an event differs from the one a checkpoint vouches for.
	AuditRewritten = "rewritten"
	// AuditBadCheckpoint: a checkpoint's signature does not verify.
	AuditBadCheckpoint = "checkpoint"
	// AuditBadKey: the chain key's record is missing or was changed.
	AuditBadKey = "key"
)
