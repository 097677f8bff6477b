package store

import (
	"context"
	"fmt"
)

// InstallationForAccount returns the id of the live installation of this
// App on account (a user or organisation login, any case). It returns
// ENOTFOUND when the App is not installed there, or is suspended or
// deleted.
func (q *Queries) InstallationForAccount(ctx context.Context, account string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT id FROM installations WHERE LOWER(account) = LOWER($1) AND deleted_at IS NULL AND suspended_at IS NULL
		ORDER BY updated_at DESC LIMIT 1`, account).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: installation on %s: %w", account, notFound(err, "the App is not installed on %s", account))
	}
	return id, nil
}
