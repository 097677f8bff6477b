package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// A repository's identity is its GitHub id: a rename keeps it, and a
// repository deleted and created again under the same name gets a new
// one. Names identify a repository only while the relay does not know its
// id, and then without regard to case, as GitHub compares them.

// seriesKey is the identity a coverage report is filed under: "id:N" when
// the repository's id is known, else "name:owner/name" in lower case.
func seriesKey(repositoryID int64, fullName string) string {
	if repositoryID > 0 {
		return "id:" + strconv.FormatInt(repositoryID, 10)
	}
	return "name:" + patchpanda.RepositoryKey(fullName)
}

// seriesOf is the SQL for the series keys a repository name (the
// placeholder p) may be filed under: the id the name has now among the
// installed repositories (the newest id, when a stale row shares the
// name), and the name itself for reports filed before the id was known.
func seriesOf(p string) string {
	return `(SELECT 'id:' || CAST(ir.repository_id AS TEXT) FROM installation_repositories ir
		WHERE LOWER(ir.full_name) = LOWER(` + p + `) ORDER BY ir.repository_id DESC LIMIT 1), 'name:' || LOWER(` + p + `)`
}

// RepositoryID returns the GitHub id of the installed repository named
// fullName (without regard to case; the newest id when two rows share the
// name), or 0 when the relay knows no such repository.
func (q *Queries) RepositoryID(ctx context.Context, fullName string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT repository_id FROM installation_repositories WHERE LOWER(full_name) = LOWER($1)
		ORDER BY repository_id DESC LIMIT 1`, fullName).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: repository id of %s: %w", fullName, err)
	}
	return id, nil
}

// InstalledRepository is a repository of an active installation.
type InstalledRepository struct {
	InstallationID int64
	RepositoryID   int64
	FullName       string // as the relay last learned it
	// AccountID is the GitHub id of the installation's account, 0 while
	// the relay has not learned it from an installation webhook.
	AccountID int64
}

// InstalledRepositoryByID returns the active installation holding the
// repository with GitHub id id. It returns an ENOTFOUND error when no
// active installation has it.
//
// When a stale row (a transfer the relay has not yet been told of) leaves
// the repository in two installations, the one of account preferAccount
// is taken, then the one whose account is unknown, then the oldest.
func (q *Queries) InstalledRepositoryByID(ctx context.Context, id, preferAccount int64) (InstalledRepository, error) {
	r := InstalledRepository{RepositoryID: id}
	err := q.queryRow(ctx, `SELECT r.installation_id, r.full_name, i.account_id FROM installation_repositories r JOIN installations i ON i.id = r.installation_id
		WHERE r.repository_id = $1 AND i.deleted_at IS NULL AND i.suspended_at IS NULL
		ORDER BY CASE WHEN i.account_id = $2 THEN 0 WHEN i.account_id = 0 THEN 1 ELSE 2 END, r.installation_id LIMIT 1`,
		id, preferAccount).Scan(&r.InstallationID, &r.FullName, &r.AccountID)
	if err != nil {
		return r, fmt.Errorf("store: installed repository %d: %w", id, notFound(err, "PatchPanda is not installed on the repository with id %d", id))
	}
	return r, nil
}

// RenameRepository records that the repository with GitHub id id is now
// called fullName (it was renamed or transferred), as a signed GitHub
// token or a webhook said. Other rows that still carry that name belong to
// a deleted repository and lose it, so the name resolves to id alone.
func (q *Queries) RenameRepository(ctx context.Context, id int64, fullName string) error {
	if _, _, err := patchpanda.ParseFullName(fullName); err != nil {
		return err
	}
	if _, err := q.exec(ctx, `UPDATE installation_repositories SET full_name = $1 WHERE repository_id = $2 AND full_name <> $1`, fullName, id); err != nil {
		return fmt.Errorf("store: rename repository %d to %s: %w", id, fullName, err)
	}
	if _, err := q.exec(ctx, `DELETE FROM installation_repositories WHERE LOWER(full_name) = $1 AND repository_id <> $2`, strings.ToLower(fullName), id); err != nil {
		return fmt.Errorf("store: rename repository %d to %s: %w", id, fullName, err)
	}
	return nil
}

// ForgetRepository removes the repository with GitHub id id from every
// installation: it was deleted.
func (q *Queries) ForgetRepository(ctx context.Context, id int64) error {
	if _, err := q.exec(ctx, `DELETE FROM installation_repositories WHERE repository_id = $1`, id); err != nil {
		return fmt.Errorf("store: forget repository %d: %w", id, err)
	}
	return nil
}
