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

// The lengths GitHub allows for the two parts of a repository's name.
const (
	MaxOwnerLen    = 39
	MaxRepoNameLen = 100
)

// ParseFullName splits "owner/name" and checks both parts by GitHub's
// rules: the owner 1 to 39 letters, digits, '-' or '_' (managed users'
// logins carry an _shortcode), starting with a letter or digit; the name 1
// to 100 letters, digits, '.', '-' or '_', and never "..". So a name from
// a request can never hold a NUL, a newline, a control character, a path
// step or a second slash. It returns an EINVALID error saying which rule
// s breaks (quoting at most 100 characters of it).
func ParseFullName(s string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", Errorf(EINVALID, "repository %.100q is not of the form owner/name", s)
	}
	if len(owner) > MaxOwnerLen || !validOwner(owner) {
		return "", "", Errorf(EINVALID, "repository %.100q: the owner must be 1 to %d letters, digits, '-' or '_', starting with a letter or digit", s, MaxOwnerLen)
	}
	if len(name) > MaxRepoNameLen || !validRepoName(name) {
		return "", "", Errorf(EINVALID, "repository %.100q: the name must be 1 to %d letters, digits, '.', '-' or '_', and not contain \"..\"", s, MaxRepoNameLen)
	}
	return owner, name, nil
}

func validOwner(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c):
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func validRepoName(s string) bool {
	if strings.Contains(s, "..") || s == "." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// RepositoryKey returns the identity of a repository's full name: GitHub
// compares names without regard to case, so "Acme/API" and "acme/api" are
// one repository, and one key.
func RepositoryKey(fullName string) string { return strings.ToLower(fullName) }

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
	ID             int64  `json:"id"`
	AppID          int64  `json:"app_id"`
	DeliveryID     string `json:"delivery_id"` // X-GitHub-Delivery
	Event          string `json:"event"`
	Action         string `json:"action,omitempty"`
	InstallationID int64  `json:"installation_id,omitempty"`
	Repository     string `json:"repository,omitempty"` // owner/name
	RepositoryID   int64  `json:"repository_id,omitempty"`
	Sender         string `json:"sender,omitempty"`
	Payload        []byte `json:"-"`
	// Parsed is the payload as the relay that received it parsed it (a
	// webhook.Event), kept in memory only, so that a delivery handled
	// straight from the receiving relay is not parsed twice. It is nil on
	// a delivery read back from the database.
	Parsed     any       `json:"-"`
	ReceivedAt time.Time `json:"received_at"`
	State      string    `json:"state"` // pending, done or failed
	Attempts   int       `json:"attempts"`
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
