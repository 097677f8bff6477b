package billing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// sealPrefix starts every sealed provider key: the format's version and
// the project the key belongs to, so that a ciphertext copied to another
// project's row in the database is refused instead of used.
const sealPrefix = "pp1:"

func seal(projectID int64, plaintext string) []byte {
	return []byte(sealPrefix + strconv.FormatInt(projectID, 10) + ":" + plaintext)
}

func unseal(projectID int64, opened []byte) (string, bool) {
	want := sealPrefix + strconv.FormatInt(projectID, 10) + ":"
	s := string(opened)
	if !strings.HasPrefix(s, want) {
		return "", false
	}
	return s[len(want):], true
}

// AddProviderKey encrypts a model provider's API key with the secrets
// keeper, stores it for a project with its last four characters as a hint,
// records an audit event and returns its description; the plaintext is
// never stored, logged or returned. Surrounding white space (a pasted
// newline) is removed. It returns an EINVALID error for a bad provider,
// name or key, or when no secrets keeper is configured, an ENOTFOUND error
// for an unknown project and an ECONFLICT error when the project has an
// active key of that provider and name.
func (s *Service) AddProviderKey(ctx context.Context, projectID int64, provider, name, plaintext, by string) (patchpanda.ProviderKey, error) {
	plaintext = strings.TrimSpace(plaintext)
	if err := checkProvider(provider); err != nil {
		return patchpanda.ProviderKey{}, err
	}
	if name == "" || len(name) > 64 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return patchpanda.ProviderKey{}, patchpanda.Errorf(patchpanda.EINVALID, "name: must be 1 to 64 printable characters")
	}
	if err := checkSecret(plaintext); err != nil {
		return patchpanda.ProviderKey{}, err
	}
	// Refuse early, before encrypting, when the project does not exist.
	if _, err := s.DB.BillingProject(ctx, projectID); err != nil {
		return patchpanda.ProviderKey{}, fmt.Errorf("billing: add provider key: %w", err)
	}
	ct, err := s.Keeper.Encrypt(ctx, seal(projectID, plaintext))
	if err != nil {
		return patchpanda.ProviderKey{}, fmt.Errorf("billing: add provider key: %w", err)
	}
	k := patchpanda.ProviderKey{ProjectID: projectID, Provider: provider, Name: name, Hint: plaintext[len(plaintext)-4:]}
	err = s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if k, err = q.AddProviderKey(ctx, k, ct); err != nil {
			return err
		}
		return audit(ctx, q, by, patchpanda.AuditProviderKeyAdd, projectID,
			fmt.Sprintf("added %s key %q (id %d) to billing project %d", provider, name, k.ID, projectID),
			map[string]any{"key_id": k.ID, "provider": provider, "name": name})
	})
	if err != nil {
		return k, fmt.Errorf("billing: add provider key: %w", err)
	}
	return k, nil
}

// ProviderKeys lists a project's provider keys, revoked ones too, newest
// first. It returns an ENOTFOUND error for an unknown project.
func (s *Service) ProviderKeys(ctx context.Context, projectID int64) ([]patchpanda.ProviderKey, error) {
	if _, err := s.DB.BillingProject(ctx, projectID); err != nil {
		return nil, fmt.Errorf("billing: provider keys: %w", err)
	}
	ks, err := s.DB.ProviderKeys(ctx, projectID)
	if err != nil {
		return nil, fmt.Errorf("billing: provider keys: %w", err)
	}
	return ks, nil
}

// RevokeProviderKey revokes a project's provider key and records an audit
// event. It returns an ENOTFOUND error when the project has no such key.
func (s *Service) RevokeProviderKey(ctx context.Context, projectID, keyID int64, by string) (patchpanda.ProviderKey, error) {
	var k patchpanda.ProviderKey
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if k, err = q.RevokeProviderKey(ctx, projectID, keyID); err != nil {
			return err
		}
		return audit(ctx, q, by, AuditProviderKeyRevoked, projectID,
			fmt.Sprintf("revoked %s key %q (id %d) of billing project %d", k.Provider, k.Name, k.ID, projectID),
			map[string]any{"key_id": k.ID, "provider": k.Provider, "name": k.Name})
	})
	if err != nil {
		return k, fmt.Errorf("billing: revoke provider key %d: %w", keyID, err)
	}
	return k, nil
}

// DecryptProviderKey returns the plaintext of the newest active key of
// provider for the project named project (as jobs name it), for the worker
// running one of its jobs, and records who read it in the audit log. It
// returns an ENOTFOUND error when the project does not exist or has no
// active key of that provider, an EINVALID error when no secrets keeper is
// configured, and an error when the key does not decrypt or was sealed for
// another project.
func (s *Service) DecryptProviderKey(ctx context.Context, project, provider, by string) (string, patchpanda.ProviderKey, error) {
	p, err := s.DB.BillingProjectByName(ctx, project)
	if err != nil {
		return "", patchpanda.ProviderKey{}, fmt.Errorf("billing: provider key: %w", err)
	}
	k, ct, err := s.DB.ActiveProviderKey(ctx, p.ID, provider)
	if err != nil {
		return "", k, fmt.Errorf("billing: provider key: %w", err)
	}
	opened, err := s.Keeper.Decrypt(ctx, ct)
	if err != nil {
		return "", k, fmt.Errorf("billing: provider key %d: %w", k.ID, err)
	}
	plain, ok := unseal(p.ID, opened)
	if !ok {
		return "", k, fmt.Errorf("billing: provider key %d was not sealed for billing project %d: its row was tampered with", k.ID, p.ID)
	}
	if _, err := s.DB.AppendAudit(ctx, patchpanda.AuditEvent{
		Actor: by, Action: AuditProviderKeyUsed, Subject: "billing_project:" + strconv.FormatInt(p.ID, 10),
		Reason: fmt.Sprintf("decrypted %s key %q (id %d)", k.Provider, k.Name, k.ID),
	}); err != nil {
		return "", k, fmt.Errorf("billing: provider key %d: %w", k.ID, err)
	}
	return plain, k, nil
}

func checkProvider(p string) error {
	if p == "" || len(p) > 32 {
		return patchpanda.Errorf(patchpanda.EINVALID, "provider: must be 1 to 32 characters, like openai or anthropic")
	}
	for i, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)) {
			return patchpanda.Errorf(patchpanda.EINVALID, "provider %q: use lower-case letters, digits, '.', '_' and '-'", p)
		}
	}
	return nil
}

// checkSecret validates a provider key without ever putting it in the
// error.
func checkSecret(s string) error {
	switch {
	case len(s) < 8:
		return patchpanda.Errorf(patchpanda.EINVALID, "key: too short to be an API key (%d characters)", len(s))
	case len(s) > 4096:
		return patchpanda.Errorf(patchpanda.EINVALID, "key: over 4096 characters")
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }) >= 0:
		return patchpanda.Errorf(patchpanda.EINVALID, "key: contains white space, control or non-ASCII characters (only one key, on one line, is read)")
	}
	return nil
}
