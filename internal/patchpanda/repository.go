package patchpanda

import (
	"strings"
	"time"
)

// Repository identifies a GitHub repository.
type Repository struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	ID    int64  `json:"id"`
}

// FullName returns "owner/name".
func (r Repository) FullName() string { return r.Owner + "/" + r.Name }

// ParseFullName splits "owner/name". It returns an EINVALID error when s is
// not of that form.
func ParseFullName(s string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", Errorf(EINVALID, "repository %q is not of the form owner/name", s)
	}
	return owner, name, nil
}

// PullRequest identifies one pull request at one pair of commits.
type PullRequest struct {
	Number  int    `json:"number"`
	HeadSHA string `json:"head_sha"`
	BaseSHA string `json:"base_sha"`
}

// Delivery is one webhook delivery as the relay recorded it. The relay
// acknowledges a delivery only after it is stored, and processes it later
// from the stored record.
type Delivery struct {
	ID             int64     `json:"id"`
	AppID          int64     `json:"app_id"`
	DeliveryID     string    `json:"delivery_id"` // X-GitHub-Delivery
	Event          string    `json:"event"`
	Action         string    `json:"action,omitempty"`
	InstallationID int64     `json:"installation_id,omitempty"`
	Repository     string    `json:"repository,omitempty"` // owner/name
	RepositoryID   int64     `json:"repository_id,omitempty"`
	Sender         string    `json:"sender,omitempty"`
	Payload        []byte    `json:"-"`
	ReceivedAt     time.Time `json:"received_at"`
	State          string    `json:"state"` // pending, done or failed
	Attempts       int       `json:"attempts"`
	// Deferrals counts tries put off for a rate limit or an unavailable
	// dependency; they never count toward the attempt limit.
	Deferrals int    `json:"deferrals"`
	LastError string `json:"last_error,omitempty"`
}

// The states of a recorded delivery.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
)
