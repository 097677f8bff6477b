package patchpanda

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// ParseJobState returns the state named s. It returns an EINVALID error
// naming the states for anything else.
func ParseJobState(s string) (JobState, error) {
	switch st := JobState(s); st {
	case JobQueued, JobRunning, JobSucceeded, JobFailed, JobCancelled:
		return st, nil
	}
	return "", Errorf(EINVALID, "state %q is not one of queued, running, succeeded, failed, cancelled", s)
}

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

// ParseTrigger returns the trigger named s. It returns an EINVALID error
// naming the triggers for anything else.
func ParseTrigger(s string) (Trigger, error) {
	switch t := Trigger(s); t {
	case TriggerComment, TriggerPullRequest, TriggerReplay, TriggerCheckRerun:
		return t, nil
	}
	return "", Errorf(EINVALID, "trigger %q is not one of comment, pull_request, replay, check_rerun", s)
}

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

// Job is one attempt at work for one pull request. A replay is a new Job
// with the same RootID and the next Attempt.
type Job struct {
	ID             string          `json:"id"`
	RootID         string          `json:"root_id"`
	Attempt        int             `json:"attempt"`
	ReplayOf       string          `json:"replay_of,omitempty"`
	Kind           string          `json:"kind"`
	Repository     Repository      `json:"repository"`
	InstallationID int64           `json:"installation_id"`
	PullRequest    PullRequest     `json:"pull_request"`
	RequestedBy    string          `json:"requested_by"`
	Trigger        Trigger         `json:"trigger"`
	Config         json.RawMessage `json:"config"`
	BillingProject string          `json:"billing_project,omitempty"`
	State          JobState        `json:"state"`
	CheckRunID     int64           `json:"check_run_id,omitempty"`
	CostMicros     int64           `json:"cost_micros"`
	ResultURL      string          `json:"result_url,omitempty"`
	Message        string          `json:"message,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	LeaseExpiresAt *time.Time      `json:"lease_expires_at,omitempty"`
	// UniqueKey makes creation idempotent: a second job with the same key
	// is never created (e.g. one job per delivery and command).
	UniqueKey string     `json:"-"`
	Events    []JobEvent `json:"events,omitempty"`
}

// QueueMessage returns the message handed to the worker for j.
func (j *Job) QueueMessage() Message {
	cfg := j.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return Message{
		Version: MessageVersion, ID: j.ID, Kind: j.Kind, Attempt: j.Attempt,
		Repository: j.Repository, InstallationID: j.InstallationID, PullRequest: j.PullRequest,
		RequestedBy: j.RequestedBy, Trigger: j.Trigger, Config: cfg,
		BillingProject: j.BillingProject, CreatedAt: j.CreatedAt,
	}
}

// JobEvent is one thing that happened to a job, reported by the worker or
// the relay.
type JobEvent struct {
	ID         int64     `json:"id"`
	Type       string    `json:"type"`
	Message    string    `json:"message,omitempty"`
	CostMicros int64     `json:"cost_micros,omitempty"`
	URL        string    `json:"url,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// The event types a worker reports, and the relay's own.
const (
	EventStarted   = "started"
	EventProgress  = "progress"
	EventSucceeded = "succeeded"
	EventFailed    = "failed"
	EventCancelled = "cancelled"
	EventQueued    = "queued"
	EventRequeued  = "requeued"
)

// Next returns the state an event of type ev moves a job in state s to. It
// returns an ECONFLICT error for a transition the state machine does not
// allow: queued → running → succeeded | failed | cancelled, queued →
// cancelled, and progress only while running.
func (s JobState) Next(ev string) (JobState, error) {
	switch {
	case ev == EventStarted && s == JobQueued:
		return JobRunning, nil
	case ev == EventProgress && s == JobRunning:
		return JobRunning, nil
	case ev == EventSucceeded && s == JobRunning:
		return JobSucceeded, nil
	case ev == EventFailed && (s == JobRunning || s == JobQueued):
		return JobFailed, nil
	case ev == EventCancelled && (s == JobQueued || s == JobRunning):
		return JobCancelled, nil
	}
	return s, Errorf(ECONFLICT, "a %s event is not allowed for a job that is %s", ev, s)
}

// JobFilter selects jobs for listing. Zero fields match everything.
type JobFilter struct {
	Repository string
	State      JobState
	Trigger    Trigger
	Since      time.Time
	// After is the cursor of the last job of the previous page.
	After string
	Limit int
}

// NewJobID returns a new job id: "job_", the time in milliseconds and 48
// random bits, in hex, so ids sort by creation time.
func NewJobID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("job_%012x%s", t.UnixMilli(), hex.EncodeToString(b[:]))
}

// WorkerEvent is what a worker reports about a job: a type of started,
// progress, succeeded or failed, with an optional message, the pull
// request it opened and what it cost.
type WorkerEvent struct {
	Type           string   `json:"type"`
	Message        string   `json:"message,omitempty"`
	PullRequestURL string   `json:"pull_request_url,omitempty"`
	CostUSD        *float64 `json:"cost_usd,omitempty"`
}

// Lease is the lease a worker holds on a job: its id (the receipt the
// worker sends back in the PatchPanda-Lease header), who took it (a
// principal's Identity), and until when.
type Lease struct {
	JobID     string
	ID        string
	Holder    string
	ExpiresAt time.Time
}

// JobToken is a short-lived installation token for one job's repository.
// It is a secret: it is answered to the worker once and never logged.
type JobToken struct {
	Token       string            `json:"token"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Repository  string            `json:"repository"`
	Permissions map[string]string `json:"permissions"`
}

// String hides the token, so printing a JobToken cannot leak it.
func (t JobToken) String() string {
	return "JobToken{" + t.Repository + ", expires " + t.ExpiresAt.String() + "}"
}
