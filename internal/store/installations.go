package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// UpsertInstallation records an installation (created, unsuspended) with
// its account, clearing any deletion or suspension, and replaces its
// repositories with repos when repos is not nil. It keeps the account id
// the relay already knows (see UpsertInstallationAccount).
func (q *Queries) UpsertInstallation(ctx context.Context, id int64, account string, repos []patchpanda.Repository) error {
	return q.UpsertInstallationAccount(ctx, id, account, 0, repos)
}

// UpsertInstallationAccount is UpsertInstallation that also records the
// GitHub id of the account the installation is on, which Actions tokens'
// repository_owner_id is checked against. An accountID of 0 (unknown)
// keeps the id already recorded.
func (q *Queries) UpsertInstallationAccount(ctx context.Context, id int64, account string, accountID int64, repos []patchpanda.Repository) error {
	row := installationRow{account: account, accountID: accountID}
	if prev, ok := q.installations[id]; !ok || prev != row {
		// Not yet written by this transaction with these values: a repeat
		// would change nothing but updated_at, by the moments between
		// two statements of one transaction.
		now := q.now()
		_, err := q.exec(ctx, `INSERT INTO installations (id, account, account_id, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET account = $2, updated_at = $4, deleted_at = NULL, suspended_at = NULL,
			account_id = CASE WHEN $3 <> 0 THEN $3 ELSE installations.account_id END`, id, account, accountID, now)
		if err != nil {
			return fmt.Errorf("store: upsert installation %d: %w", id, err)
		}
		if q.installations != nil {
			q.installations[id] = row
		}
	}
	if repos == nil {
		return nil
	}
	if _, err := q.exec(ctx, `DELETE FROM installation_repositories WHERE installation_id = $1`, id); err != nil {
		return fmt.Errorf("store: upsert installation %d: %w", id, err)
	}
	return q.AddInstallationRepositories(ctx, id, repos)
}

// installationRow is what UpsertInstallationAccount wrote to an
// installation's row.
type installationRow struct {
	account   string
	accountID int64
}

// SetInstallationState marks an installation deleted, suspended or active
// again ("deleted", "suspended", "active"). Deleting also forgets its
// repositories.
func (q *Queries) SetInstallationState(ctx context.Context, id int64, state string) error {
	delete(q.installations, id) // the next upsert must clear the state again
	now := q.now()
	var err error
	switch state {
	case "deleted":
		if _, err = q.exec(ctx, `DELETE FROM installation_repositories WHERE installation_id = $1`, id); err == nil {
			_, err = q.exec(ctx, `UPDATE installations SET deleted_at = $1, updated_at = $1 WHERE id = $2`, now, id)
		}
	case "suspended":
		_, err = q.exec(ctx, `UPDATE installations SET suspended_at = $1, updated_at = $1 WHERE id = $2`, now, id)
	case "active":
		_, err = q.exec(ctx, `UPDATE installations SET suspended_at = NULL, updated_at = $1 WHERE id = $2`, now, id)
	default:
		return patchpanda.Errorf(patchpanda.EINVALID, "installation state %q is not deleted, suspended or active", state)
	}
	if err != nil {
		return fmt.Errorf("store: installation %d %s: %w", id, state, err)
	}
	return nil
}

// AddInstallationRepositories records repositories of an installation
// (a known one takes the name given). Inside a transaction the rows wait
// and are written together, in one statement, before the transaction's
// next statement or its commit: the processor's batch adds repositories
// for many deliveries, and installing the App on an organisation adds
// hundreds at once.
func (q *Queries) AddInstallationRepositories(ctx context.Context, id int64, repos []patchpanda.Repository) error {
	held := q
	if q.installations == nil { // on the pool, which goroutines share: write at once
		held = &Queries{q: q.q, dialect: q.dialect}
	}
	for _, r := range repos {
		row := installationRepo{id, r.ID, r.FullName()}
		k := [2]int64{id, r.ID}
		if i, ok := held.repoAt[k]; ok {
			held.repos[i] = row // one statement may not upsert a row twice
			continue
		}
		if held.repoAt == nil {
			held.repoAt = map[[2]int64]int{}
		}
		held.repoAt[k] = len(held.repos)
		held.repos = append(held.repos, row)
	}
	if held != q {
		return held.flush(ctx)
	}
	return nil
}

// installationRepo is a row of installation_repositories.
type installationRepo struct {
	installation, repository int64
	fullName                 string
}

// reposPerStatement bounds a statement's parameters (three a row) well
// under PostgreSQL's 65,535 and SQLite's 32,766.
const reposPerStatement = 1000

// flush writes the installation repositories this transaction holds back.
// A failure sticks: the transaction cannot commit.
func (q *Queries) flush(ctx context.Context) error {
	if q.flushErr != nil || len(q.repos) == 0 {
		return q.flushErr
	}
	rows := q.repos
	q.repos, q.repoAt = nil, nil
	q.flushErr = q.writeRepos(ctx, rows)
	return q.flushErr
}

func (q *Queries) writeRepos(ctx context.Context, rows []installationRepo) error {
	for chunk := range slices.Chunk(rows, reposPerStatement) {
		var b strings.Builder
		b.WriteString(`INSERT INTO installation_repositories (installation_id, repository_id, full_name) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
			args = append(args, r.installation, r.repository, r.fullName)
		}
		b.WriteString(` ON CONFLICT (installation_id, repository_id) DO UPDATE SET full_name = excluded.full_name`)
		// Not q.exec, which would flush first.
		if _, err := q.q.ExecContext(ctx, q.rebind(b.String()), args...); err != nil {
			if len(chunk) == 1 {
				return fmt.Errorf("store: add repository %s to installation %d: %w", chunk[0].fullName, chunk[0].installation, err)
			}
			return fmt.Errorf("store: add %d repositories to installations: %w", len(chunk), err)
		}
	}
	return nil
}

// RemoveInstallationRepositories forgets repositories of an installation.
func (q *Queries) RemoveInstallationRepositories(ctx context.Context, id int64, repos []patchpanda.Repository) error {
	for _, r := range repos {
		if _, err := q.exec(ctx, `DELETE FROM installation_repositories WHERE installation_id = $1 AND repository_id = $2`, id, r.ID); err != nil {
			return fmt.Errorf("store: remove repository %s from installation %d: %w", r.FullName(), id, err)
		}
	}
	return nil
}

// InstallationFor returns the id of the active installation that has the
// repository "owner/name" (case-insensitively, as GitHub names are). It
// returns an ENOTFOUND error when the App is not installed there.
func (q *Queries) InstallationFor(ctx context.Context, fullName string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT r.installation_id FROM installation_repositories r JOIN installations i ON i.id = r.installation_id
		WHERE LOWER(r.full_name) = LOWER($1) AND i.deleted_at IS NULL AND i.suspended_at IS NULL
		ORDER BY r.installation_id LIMIT 1`, fullName).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: installation for %s: %w", fullName, notFound(err, "PatchPanda is not installed on %s", fullName))
	}
	return id, nil
}
