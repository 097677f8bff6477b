package patchpanda

import (
	"fmt"
	"slices"
	"time"
)

// Scope is one permission an API key carries.
type Scope string

// The scopes an API key can carry.
const (
	ScopeCoverageWrite Scope = "coverage:write"
	ScopeCoverageRead  Scope = "coverage:read"
	ScopeJobsRead      Scope = "jobs:read"
	ScopeJobsWrite     Scope = "jobs:write"
	ScopeWorker        Scope = "worker"
	ScopeAdmin         Scope = "admin"
)

// Scopes lists every scope, in the order they are documented.
var Scopes = []Scope{ScopeCoverageWrite, ScopeCoverageRead, ScopeJobsRead, ScopeJobsWrite, ScopeWorker, ScopeAdmin}

// ParseScope returns the scope named s, or an EINVALID error naming it.
func ParseScope(s string) (Scope, error) {
	if slices.Contains(Scopes, Scope(s)) {
		return Scope(s), nil
	}
	return "", Errorf(EINVALID, "unknown scope %q (known: coverage:write, coverage:read, jobs:read, jobs:write, worker, admin)", s)
}

// APIKey is the stored description of an API key. The key itself is never
// stored; only its hash is, and the plaintext is shown once at creation.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters, to tell keys apart
	Scopes     []Scope    `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	CreatedBy  string     `json:"created_by,omitempty"`
}

// Principal is whoever a request acts for.
type Principal struct {
	Kind   PrincipalKind
	Name   string  // key name, GitHub login or repository
	KeyID  int64   // for Kind "key"
	Scopes []Scope // what it may do
	// RepositoryID and OwnerID are, for Kind "actions", the GitHub ids of
	// the token's repository and its owner: the identity, where Name is
	// only what the repository is called today.
	RepositoryID int64
	OwnerID      int64
}

// PrincipalKind says how a principal authenticated.
type PrincipalKind string

// The kinds of principal.
const (
	PrincipalKey        PrincipalKind = "key"         // an API key (ppk_…)
	PrincipalGitHubUser PrincipalKind = "github_user" // a person's GitHub token (gh patchpanda)
	PrincipalActions    PrincipalKind = "actions"     // a GitHub Actions OIDC token
)

// String returns "kind:name", how audit events and logs name a principal.
func (p *Principal) String() string {
	if p == nil {
		return "anonymous"
	}
	return string(p.Kind) + ":" + p.Name
}

// Identity returns who p is, stably: "key#ID" for an API key (names
// need not be unique), "kind:name" otherwise. A lease is held by an
// identity.
func (p *Principal) Identity() string {
	if p == nil {
		return "anonymous"
	}
	if p.Kind == PrincipalKey {
		return fmt.Sprintf("key#%d", p.KeyID)
	}
	return p.String()
}

// Can reports whether p carries scope s. The admin scope implies every other.
func (p *Principal) Can(s Scope) bool {
	if p == nil {
		return false
	}
	return slices.Contains(p.Scopes, s) || slices.Contains(p.Scopes, ScopeAdmin)
}

// State returns "revoked", "expired" or "active": whether k still
// authenticates at now.
func (k APIKey) State(now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}
