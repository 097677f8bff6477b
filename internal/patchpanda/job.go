package patchpanda

import (
	"encoding/json"
	"time"
)

// JobState is where a job is in its life. The legal moves are
// queued → running → succeeded | failed | cancelled, and queued → cancelled.
type JobState string

// The states of a job.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Terminal reports whether no further transition is allowed from s.
func (s JobState) Terminal() bool {
	return s == JobSucceeded || s == JobFailed || s == JobCancelled
}

// Trigger says what caused a job.
type Trigger string

// The triggers of a job.
const (
	TriggerComment     Trigger = "comment"
	TriggerPullRequest Trigger = "pull_request"
	TriggerReplay      Trigger = "replay"
	TriggerCheckRerun  Trigger = "check_rerun"
)

// JobKind is the kind of work a job asks the worker for.
const JobKindGenerateTests = "generate_tests"

// MessageVersion is the version of the queue message this relay writes.
const MessageVersion = 1

// Message is the queue message handed to the worker (version 1). It never
// carries a token or a secret: the worker asks the relay for a token.
type Message struct {
	Version        int             `json:"version"`
	ID             string          `json:"id"`
	Kind           string          `json:"kind"`
	Attempt        int             `json:"attempt"`
	Repository     Repository      `json:"repository"`
	InstallationID int64           `json:"installation_id"`
	PullRequest    PullRequest     `json:"pull_request"`
	RequestedBy    string          `json:"requested_by"`
	Trigger        Trigger         `json:"trigger"`
	Config         json.RawMessage `json:"config"`
	BillingProject string          `json:"billing_project"`
	CreatedAt      time.Time       `json:"created_at"`
}
