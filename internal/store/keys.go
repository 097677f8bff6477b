package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CreateAPIKey stores a key's hash and description and returns the stored
// key with its id and creation time set.
func (q *Queries) CreateAPIKey(ctx context.Context, k patchpanda.APIKey, hash []byte) (patchpanda.APIKey, error) {
	k.CreatedAt = q.now()
	var expires any
	if k.ExpiresAt != nil {
		e := ts(*k.ExpiresAt)
		k.ExpiresAt = &e
		expires = e
	}
	err := q.queryRow(ctx, `INSERT INTO api_keys (name, prefix, hash, scopes, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		k.Name, k.Prefix, hash, joinScopes(k.Scopes), k.CreatedBy, k.CreatedAt, expires).Scan(&k.ID)
	if err != nil {
		return k, fmt.Errorf("store: create api key %q: %w", k.Name, err)
	}
	return k, nil
}

const apiKeyColumns = `id, name, prefix, scopes, created_by, created_at, expires_at, revoked_at, last_used_at`

func scanAPIKey(row interface{ Scan(...any) error }) (patchpanda.APIKey, error) {
	var k patchpanda.APIKey
	var scopes string
	var expires, revoked, used sql.NullTime
	if err := row.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &k.CreatedBy, &k.CreatedAt, &expires, &revoked, &used); err != nil {
		return k, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.Scopes = splitScopes(scopes)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = nullTime(expires), nullTime(revoked), nullTime(used)
	return k, nil
}

// APIKeyByHash returns the key with that hash, revoked or not. It returns
// an ENOTFOUND error when there is none.
func (q *Queries) APIKeyByHash(ctx context.Context, hash []byte) (patchpanda.APIKey, error) {
	k, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		return k, fmt.Errorf("store: api key by hash: %w", notFound(err, "API key not found"))
	}
	return k, nil
}

// APIKeys lists every key, newest first.
func (q *Queries) APIKeys(ctx context.Context) ([]patchpanda.APIKey, error) {
	rows, err := q.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey marks a key revoked and returns it. Revoking a revoked key
// keeps its first revocation time. It returns an ENOTFOUND error for an
// unknown id.
func (q *Queries) RevokeAPIKey(ctx context.Context, id int64) (patchpanda.APIKey, error) {
	if _, err := q.exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, q.now(), id); err != nil {
		return patchpanda.APIKey{}, fmt.Errorf("store: revoke api key %d: %w", id, err)
	}
	k, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return k, fmt.Errorf("store: revoke api key %d: %w", id, notFound(err, "API key %d not found", id))
	}
	return k, nil
}

// TouchAPIKey records that a key was used at t. Callers may skip it when
// the stored time is recent, to keep reads from becoming writes.
func (q *Queries) TouchAPIKey(ctx context.Context, id int64, t time.Time) error {
	if _, err := q.exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ts(t), id); err != nil {
		return fmt.Errorf("store: touch api key %d: %w", id, err)
	}
	return nil
}

func joinScopes(s []patchpanda.Scope) string {
	parts := make([]string, len(s))
	for i, sc := range s {
		parts[i] = string(sc)
	}
	return strings.Join(parts, " ")
}

func splitScopes(s string) []patchpanda.Scope {
	var out []patchpanda.Scope
	for _, f := range strings.Fields(s) {
		out = append(out, patchpanda.Scope(f))
	}
	return out
}
