package keys

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Service creates, lists and revokes API keys and authenticates requests
// that carry one.
type Service struct {
	DB *store.DB
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// NewService returns a Service over db.
func NewService(db *store.DB) *Service {
	return &Service{DB: db, Now: time.Now}
}

// Create makes a new key with the given name, scopes and lifetime (0: no
// expiry), records an audit event, and returns the stored key and the
// plaintext, which is never available again. It returns an EINVALID error
// for an empty name, no scopes or a negative lifetime.
func (s *Service) Create(ctx context.Context, name string, scopes []patchpanda.Scope, ttl time.Duration, by string) (patchpanda.APIKey, string, error) {
	if name == "" {
		return patchpanda.APIKey{}, "", patchpanda.Errorf(patchpanda.EINVALID, "name: must not be empty")
	}
	if len(scopes) == 0 {
		return patchpanda.APIKey{}, "", patchpanda.Errorf(patchpanda.EINVALID, "scopes: at least one scope is required")
	}
	for _, sc := range scopes {
		if _, err := patchpanda.ParseScope(string(sc)); err != nil {
			return patchpanda.APIKey{}, "", err
		}
	}
	if ttl < 0 {
		return patchpanda.APIKey{}, "", patchpanda.Errorf(patchpanda.EINVALID, "expires_in: must not be negative")
	}
	plain, err := New()
	if err != nil {
		return patchpanda.APIKey{}, "", fmt.Errorf("keys: create: %w", err)
	}
	k := patchpanda.APIKey{Name: name, Prefix: Display(plain), Scopes: scopes, CreatedBy: by}
	if ttl > 0 {
		exp := s.Now().Add(ttl)
		k.ExpiresAt = &exp
	}
	err = s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if k, err = q.CreateAPIKey(ctx, k, Hash(plain)); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: by, Action: patchpanda.AuditKeyCreated, Subject: "key:" + strconv.FormatInt(k.ID, 10),
			Reason: fmt.Sprintf("key %q with scopes %v", name, scopes),
		})
		return err
	})
	if err != nil {
		return patchpanda.APIKey{}, "", fmt.Errorf("keys: create %q: %w", name, err)
	}
	return k, plain, nil
}

// List returns every key, newest first.
func (s *Service) List(ctx context.Context) ([]patchpanda.APIKey, error) {
	return s.DB.APIKeys(ctx)
}

// Revoke revokes a key and records an audit event. It returns an ENOTFOUND
// error for an unknown id.
func (s *Service) Revoke(ctx context.Context, id int64, by string) (patchpanda.APIKey, error) {
	var k patchpanda.APIKey
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if k, err = q.RevokeAPIKey(ctx, id); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{
			Actor: by, Action: patchpanda.AuditKeyRevoked, Subject: "key:" + strconv.FormatInt(id, 10),
		})
		return err
	})
	if err != nil {
		return k, fmt.Errorf("keys: revoke %d: %w", id, err)
	}
	return k, nil
}

// touchEvery bounds how often a key's last-used time is written, so that a
// busy key does not turn every read into a write.
const touchEvery = time.Minute

// Authenticate returns the principal of an API key. It returns an
// EUNAUTHORIZED error, never naming the key, when the key is malformed,
// unknown, revoked or expired.
func (s *Service) Authenticate(ctx context.Context, key string) (*patchpanda.Principal, error) {
	if err := Check(key); err != nil {
		return nil, err
	}
	k, err := s.DB.APIKeyByHash(ctx, Hash(key))
	if patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key is not known")
	} else if err != nil {
		return nil, fmt.Errorf("keys: authenticate: %w", err)
	}
	now := s.Now()
	switch {
	case k.RevokedAt != nil:
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key %s was revoked", k.Prefix)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "API key %s expired at %s", k.Prefix, k.ExpiresAt.Format(time.RFC3339))
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > touchEvery {
		if err := s.DB.TouchAPIKey(ctx, k.ID, now); err != nil {
			return nil, fmt.Errorf("keys: authenticate: %w", err)
		}
	}
	return &patchpanda.Principal{Kind: patchpanda.PrincipalKey, Name: k.Name, KeyID: k.ID, Scopes: k.Scopes}, nil
}
