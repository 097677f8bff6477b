package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const billingProjectColumns = `id, name, budget_micros, created_at`

func scanBillingProject(row interface{ Scan(...any) error }) (patchpanda.BillingProject, error) {
	var p patchpanda.BillingProject
	if err := row.Scan(&p.ID, &p.Name, &p.BudgetMicros, &p.CreatedAt); err != nil {
		return p, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

// CreateBillingProject stores a new project and returns it with its id and
// creation time set. It returns an ECONFLICT error when a project of that
// name exists.
func (q *Queries) CreateBillingProject(ctx context.Context, name string, budgetMicros int64) (patchpanda.BillingProject, error) {
	p := patchpanda.BillingProject{Name: name, BudgetMicros: budgetMicros, CreatedAt: q.now()}
	err := q.queryRow(ctx, `INSERT INTO billing_projects (name, budget_micros, created_at) VALUES ($1, $2, $3) RETURNING id`,
		p.Name, p.BudgetMicros, p.CreatedAt).Scan(&p.ID)
	if err != nil {
		return p, fmt.Errorf("store: create billing project %q: %w", name, billingConflict(err, "a billing project named %q exists", name))
	}
	return p, nil
}

// BillingProjects lists every project by name.
func (q *Queries) BillingProjects(ctx context.Context) ([]patchpanda.BillingProject, error) {
	rows, err := q.query(ctx, `SELECT `+billingProjectColumns+` FROM billing_projects ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list billing projects: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.BillingProject
	for rows.Next() {
		p, err := scanBillingProject(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list billing projects: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// BillingProject returns the project with that id. It returns an ENOTFOUND
// error when there is none.
func (q *Queries) BillingProject(ctx context.Context, id int64) (patchpanda.BillingProject, error) {
	p, err := scanBillingProject(q.queryRow(ctx, `SELECT `+billingProjectColumns+` FROM billing_projects WHERE id = $1`, id))
	if err != nil {
		return p, fmt.Errorf("store: billing project %d: %w", id, notFound(err, "billing project %d not found", id))
	}
	return p, nil
}

// BillingProjectByName returns the project with that name. It returns an
// ENOTFOUND error when there is none.
func (q *Queries) BillingProjectByName(ctx context.Context, name string) (patchpanda.BillingProject, error) {
	p, err := scanBillingProject(q.queryRow(ctx, `SELECT `+billingProjectColumns+` FROM billing_projects WHERE name = $1`, name))
	if err != nil {
		return p, fmt.Errorf("store: billing project %q: %w", name, notFound(err, "billing project %q not found", name))
	}
	return p, nil
}

// RenameBillingProject renames a project and returns it. Jobs record their
// project by name, so the project's jobs are relabelled with it and keep
// counting against its budget. It returns an ENOTFOUND error for an unknown
// id and an ECONFLICT error when another project has the name.
func (q *Queries) RenameBillingProject(ctx context.Context, id int64, name string) (patchpanda.BillingProject, error) {
	old, err := q.BillingProject(ctx, id)
	if err != nil {
		return old, err
	}
	if old.Name == name {
		return old, nil
	}
	if _, err := q.exec(ctx, `UPDATE billing_projects SET name = $1 WHERE id = $2`, name, id); err != nil {
		return old, fmt.Errorf("store: rename billing project %d: %w", id, billingConflict(err, "a billing project named %q exists", name))
	}
	if _, err := q.exec(ctx, `UPDATE jobs SET billing_project = $1 WHERE billing_project = $2`, name, old.Name); err != nil {
		return old, fmt.Errorf("store: rename billing project %d: relabel jobs: %w", id, err)
	}
	old.Name = name
	return old, nil
}

// SetBillingBudget sets a project's monthly budget in micro-USD (0: none)
// and returns the project. It returns an ENOTFOUND error for an unknown id.
func (q *Queries) SetBillingBudget(ctx context.Context, id int64, micros int64) (patchpanda.BillingProject, error) {
	if _, err := q.exec(ctx, `UPDATE billing_projects SET budget_micros = $1 WHERE id = $2`, micros, id); err != nil {
		return patchpanda.BillingProject{}, fmt.Errorf("store: set budget of billing project %d: %w", id, err)
	}
	return q.BillingProject(ctx, id)
}

// BindRepository binds a repository ("owner/name", matched without regard
// to case) to a project and returns the binding. Binding it again to the
// same project returns the existing binding. It returns an ENOTFOUND error
// for an unknown project and an ECONFLICT error naming the other project
// when the repository is bound elsewhere.
func (q *Queries) BindRepository(ctx context.Context, projectID int64, repo string) (patchpanda.RepositoryBinding, error) {
	repo = strings.ToLower(repo)
	if _, err := q.BillingProject(ctx, projectID); err != nil {
		return patchpanda.RepositoryBinding{}, err
	}
	id, err := q.RepositoryID(ctx, repo)
	if err != nil {
		return patchpanda.RepositoryBinding{}, err
	}
	b, err := q.repositoryBinding(ctx, repo, id)
	switch {
	case err == nil && b.RepositoryID != 0 && id != 0 && b.RepositoryID != id:
		return b, patchpanda.Errorf(patchpanda.ECONFLICT, "repository %s was bound when the name belonged to repository id %d, which was since renamed or deleted; unbind it first", repo, b.RepositoryID)
	case err == nil && b.ProjectID == projectID:
		return b, nil
	case err == nil:
		other, err := q.BillingProject(ctx, b.ProjectID)
		if err != nil {
			return b, err
		}
		return b, patchpanda.Errorf(patchpanda.ECONFLICT, "repository %s is bound to billing project %q (id %d); unbind it there first", repo, other.Name, other.ID)
	case !errors.Is(err, sql.ErrNoRows):
		return b, fmt.Errorf("store: bind repository %s: %w", repo, err)
	}
	b = patchpanda.RepositoryBinding{Repository: repo, RepositoryID: id, ProjectID: projectID, CreatedAt: q.now()}
	if _, err := q.exec(ctx, `INSERT INTO repository_bindings (repository, repository_id, billing_project_id, created_at) VALUES ($1, $2, $3, $4)`,
		b.Repository, b.RepositoryID, b.ProjectID, b.CreatedAt); err != nil {
		return b, fmt.Errorf("store: bind repository %s: %w", repo, billingConflict(err, "repository %s was bound to another billing project meanwhile", repo))
	}
	return b, nil
}

// bindingMatch is the SQL condition for the binding of the repository
// named $1 whose id is now $2 (0: unknown): the binding of that id, or one
// made by that name while the id was unknown (or is unknown now). A
// binding of another id under the same name belongs to a deleted or
// renamed repository and does not match. orderBinding prefers the id.
const (
	bindingMatch = `((b.repository_id = $2 AND $2 > 0) OR (b.repository = $1 AND (b.repository_id = 0 OR $2 = 0)))`
	orderBinding = ` ORDER BY CASE WHEN b.repository_id = $2 THEN 0 ELSE 1 END LIMIT 1`
)

func (q *Queries) repositoryBinding(ctx context.Context, repo string, id int64) (patchpanda.RepositoryBinding, error) {
	var b patchpanda.RepositoryBinding
	err := q.queryRow(ctx, `SELECT b.repository, b.repository_id, b.billing_project_id, b.created_at FROM repository_bindings b
		WHERE b.repository = $1 OR (b.repository_id = $2 AND $2 > 0)`+orderBinding, repo, id).
		Scan(&b.Repository, &b.RepositoryID, &b.ProjectID, &b.CreatedAt)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

// UnbindRepository removes a repository's binding to a project (by its
// name, or by the id the name has now). It returns an ENOTFOUND error when
// the repository is not bound to that project.
func (q *Queries) UnbindRepository(ctx context.Context, projectID int64, repo string) error {
	repo = strings.ToLower(repo)
	id, err := q.RepositoryID(ctx, repo)
	if err != nil {
		return err
	}
	res, err := q.exec(ctx, `DELETE FROM repository_bindings WHERE billing_project_id = $3
		AND (repository = $1 OR (repository_id = $2 AND $2 > 0))`, repo, id, projectID)
	if err != nil {
		return fmt.Errorf("store: unbind repository %s: %w", repo, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: unbind repository %s: %w", repo, err)
	} else if n == 0 {
		return patchpanda.Errorf(patchpanda.ENOTFOUND, "repository %s is not bound to billing project %d", repo, projectID)
	}
	return nil
}

// RepositoryBindings lists the repositories bound to a project, by name.
func (q *Queries) RepositoryBindings(ctx context.Context, projectID int64) ([]patchpanda.RepositoryBinding, error) {
	rows, err := q.query(ctx, `SELECT repository, repository_id, billing_project_id, created_at FROM repository_bindings
		WHERE billing_project_id = $1 ORDER BY repository`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: list repository bindings: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.RepositoryBinding
	for rows.Next() {
		var b patchpanda.RepositoryBinding
		if err := rows.Scan(&b.Repository, &b.RepositoryID, &b.ProjectID, &b.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: list repository bindings: %w", err)
		}
		b.CreatedAt = b.CreatedAt.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// BillingProjectOfRepository returns the project a repository ("owner/name",
// any case) is bound to. It returns an ENOTFOUND error when it is unbound.
func (q *Queries) BillingProjectOfRepository(ctx context.Context, repo string) (patchpanda.BillingProject, error) {
	repo = strings.ToLower(repo)
	id, err := q.RepositoryID(ctx, repo)
	if err != nil {
		return patchpanda.BillingProject{}, err
	}
	p, err := scanBillingProject(q.queryRow(ctx, `SELECT p.id, p.name, p.budget_micros, p.created_at
		FROM repository_bindings b JOIN billing_projects p ON p.id = b.billing_project_id WHERE `+bindingMatch+orderBinding, repo, id))
	if err != nil {
		return p, fmt.Errorf("store: billing project of %s: %w", repo, notFound(err, "repository %s is bound to no billing project", repo))
	}
	return p, nil
}

// SpentThisMonth returns what a project's jobs cost in the current calendar
// month (UTC): the sum of cost_micros of the jobs labelled with the
// project's name and created in the month, and the month's first instant.
func (q *Queries) SpentThisMonth(ctx context.Context, projectName string) (int64, time.Time, error) {
	start := patchpanda.MonthStart(q.now())
	end := start.AddDate(0, 1, 0)
	var spent int64
	err := q.queryRow(ctx, `SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM jobs
		WHERE billing_project = $1 AND created_at >= $2 AND created_at < $3`, projectName, start, end).Scan(&spent)
	if err != nil {
		return 0, start, fmt.Errorf("store: spent this month by %q: %w", projectName, err)
	}
	return spent, start, nil
}

const providerKeyColumns = `id, billing_project_id, provider, name, hint, created_at, revoked_at`

func scanProviderKey(row interface{ Scan(...any) error }) (patchpanda.ProviderKey, error) {
	var k patchpanda.ProviderKey
	var revoked sql.NullTime
	if err := row.Scan(&k.ID, &k.ProjectID, &k.Provider, &k.Name, &k.Hint, &k.CreatedAt, &revoked); err != nil {
		return k, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.RevokedAt = nullTime(revoked)
	return k, nil
}

// AddProviderKey stores a provider key's ciphertext and description (the
// plaintext never reaches the store) and returns it with its id and
// creation time set. It returns an ENOTFOUND error for an unknown project
// and an ECONFLICT error when the project has an active key of that
// provider and name.
func (q *Queries) AddProviderKey(ctx context.Context, k patchpanda.ProviderKey, ciphertext []byte) (patchpanda.ProviderKey, error) {
	if _, err := q.BillingProject(ctx, k.ProjectID); err != nil {
		return k, err
	}
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM provider_keys
		WHERE billing_project_id = $1 AND provider = $2 AND name = $3 AND revoked_at IS NULL`, k.ProjectID, k.Provider, k.Name).Scan(&n); err != nil {
		return k, fmt.Errorf("store: add provider key: %w", err)
	}
	if n > 0 {
		return k, patchpanda.Errorf(patchpanda.ECONFLICT, "billing project %d has an active %s key named %q; revoke it first", k.ProjectID, k.Provider, k.Name)
	}
	k.CreatedAt, k.RevokedAt = q.now(), nil
	err := q.queryRow(ctx, `INSERT INTO provider_keys (billing_project_id, provider, name, ciphertext, hint, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, k.ProjectID, k.Provider, k.Name, ciphertext, k.Hint, k.CreatedAt).Scan(&k.ID)
	if err != nil {
		return k, fmt.Errorf("store: add provider key: %w", billingConflict(err,
			"billing project %d has an active %s key named %q; revoke it first", k.ProjectID, k.Provider, k.Name))
	}
	return k, nil
}

// ProviderKeys lists a project's provider keys, revoked ones too, newest
// first.
func (q *Queries) ProviderKeys(ctx context.Context, projectID int64) ([]patchpanda.ProviderKey, error) {
	rows, err := q.query(ctx, `SELECT `+providerKeyColumns+` FROM provider_keys WHERE billing_project_id = $1 ORDER BY id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: list provider keys: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.ProviderKey
	for rows.Next() {
		k, err := scanProviderKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list provider keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeProviderKey marks a project's provider key revoked and returns it;
// revoking it again keeps the first time. It returns an ENOTFOUND error
// when the project has no key with that id.
func (q *Queries) RevokeProviderKey(ctx context.Context, projectID, keyID int64) (patchpanda.ProviderKey, error) {
	if _, err := q.exec(ctx, `UPDATE provider_keys SET revoked_at = $1 WHERE id = $2 AND billing_project_id = $3 AND revoked_at IS NULL`,
		q.now(), keyID, projectID); err != nil {
		return patchpanda.ProviderKey{}, fmt.Errorf("store: revoke provider key %d: %w", keyID, err)
	}
	k, err := scanProviderKey(q.queryRow(ctx, `SELECT `+providerKeyColumns+` FROM provider_keys WHERE id = $1 AND billing_project_id = $2`, keyID, projectID))
	if err != nil {
		return k, fmt.Errorf("store: revoke provider key %d: %w", keyID, notFound(err, "billing project %d has no provider key %d", projectID, keyID))
	}
	return k, nil
}

// ActiveProviderKey returns a project's newest unrevoked key of a provider
// with its ciphertext. It returns an ENOTFOUND error when there is none.
func (q *Queries) ActiveProviderKey(ctx context.Context, projectID int64, provider string) (patchpanda.ProviderKey, []byte, error) {
	var ct []byte
	var k patchpanda.ProviderKey
	var revoked sql.NullTime
	err := q.queryRow(ctx, `SELECT `+providerKeyColumns+`, ciphertext FROM provider_keys
		WHERE billing_project_id = $1 AND provider = $2 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1`, projectID, provider).
		Scan(&k.ID, &k.ProjectID, &k.Provider, &k.Name, &k.Hint, &k.CreatedAt, &revoked, &ct)
	if err != nil {
		return k, nil, fmt.Errorf("store: active %s key of billing project %d: %w", provider, projectID,
			notFound(err, "billing project %d has no active %s key", projectID, provider))
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.RevokedAt = nullTime(revoked)
	return k, ct, nil
}

// billingConflict maps a unique-constraint violation to an ECONFLICT error.
func billingConflict(err error, format string, args ...any) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return patchpanda.Errorf(patchpanda.ECONFLICT, format, args...)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return patchpanda.Errorf(patchpanda.ECONFLICT, format, args...)
	}
	return err
}
