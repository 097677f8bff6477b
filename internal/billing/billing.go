// Package billing manages billing projects: which project pays for a
// repository's jobs, each project's monthly budget, and the model-provider
// API keys a project's jobs use, stored encrypted. Every change is written
// together with its audit event, in one transaction. Check answers the
// dispatcher's question "may this repository spend this much now?".
package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Audit actions of billing that internal/patchpanda does not name yet.
const (
	AuditProjectRenamed     = "billing_project.renamed"
	AuditRepoUnbound        = "repository.unbound"
	AuditProviderKeyRevoked = "provider_key.revoked"
	AuditProviderKeyUsed    = "provider_key.decrypted"
)

// Service is the billing service.
type Service struct {
	DB     *store.DB
	Keeper *secrets.Keeper
}

// NewService returns a Service over db that keeps provider keys with keeper.
func NewService(db *store.DB, keeper *secrets.Keeper) *Service {
	return &Service{DB: db, Keeper: keeper}
}

// CreateProject creates a project with a monthly budget in micro-USD (0:
// none), records an audit event and returns the project's status. It
// returns an EINVALID error for a bad name or budget and an ECONFLICT error
// when the name is taken.
func (s *Service) CreateProject(ctx context.Context, name string, budgetMicros int64, by string) (patchpanda.BillingProjectStatus, error) {
	if err := checkProjectName(name); err != nil {
		return patchpanda.BillingProjectStatus{}, err
	}
	if err := checkBudget(budgetMicros); err != nil {
		return patchpanda.BillingProjectStatus{}, err
	}
	var p patchpanda.BillingProject
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		var err error
		if p, err = q.CreateBillingProject(ctx, name, budgetMicros); err != nil {
			return err
		}
		return audit(ctx, q, by, patchpanda.AuditProjectCreated, p.ID,
			fmt.Sprintf("created billing project %q with %s", name, budgetText(budgetMicros)),
			map[string]any{"name": name, "budget_micros": budgetMicros})
	})
	if err != nil {
		return patchpanda.BillingProjectStatus{}, fmt.Errorf("billing: create project %q: %w", name, err)
	}
	return s.status(ctx, s.DB.Queries, p)
}

// Projects returns every project with its status, by name.
func (s *Service) Projects(ctx context.Context) ([]patchpanda.BillingProjectStatus, error) {
	ps, err := s.DB.BillingProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("billing: list projects: %w", err)
	}
	out := make([]patchpanda.BillingProjectStatus, 0, len(ps))
	for _, p := range ps {
		st, err := s.status(ctx, s.DB.Queries, p)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Project returns one project's status. It returns an ENOTFOUND error for
// an unknown id.
func (s *Service) Project(ctx context.Context, id int64) (patchpanda.BillingProjectStatus, error) {
	p, err := s.DB.BillingProject(ctx, id)
	if err != nil {
		return patchpanda.BillingProjectStatus{}, fmt.Errorf("billing: project %d: %w", id, err)
	}
	return s.status(ctx, s.DB.Queries, p)
}

// UpdateProject renames a project and/or sets its monthly budget in one
// transaction, with an audit event for each change, and returns its
// status. It returns an EINVALID error for a bad name or budget, an
// ENOTFOUND error for an unknown id and an ECONFLICT error when the new name
// is taken.
func (s *Service) UpdateProject(ctx context.Context, id int64, u patchpanda.BillingProjectUpdate, by string) (patchpanda.BillingProjectStatus, error) {
	if u.Name != nil {
		if err := checkProjectName(*u.Name); err != nil {
			return patchpanda.BillingProjectStatus{}, err
		}
	}
	if u.BudgetMicros != nil {
		if err := checkBudget(*u.BudgetMicros); err != nil {
			return patchpanda.BillingProjectStatus{}, err
		}
	}
	var p patchpanda.BillingProject
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		old, err := q.BillingProject(ctx, id)
		if err != nil {
			return err
		}
		p = old
		if u.Name != nil && *u.Name != old.Name {
			if p, err = q.RenameBillingProject(ctx, id, *u.Name); err != nil {
				return err
			}
			if err := audit(ctx, q, by, AuditProjectRenamed, id,
				fmt.Sprintf("renamed billing project %q to %q", old.Name, p.Name),
				map[string]any{"from": old.Name, "to": p.Name}); err != nil {
				return err
			}
		}
		if u.BudgetMicros != nil && *u.BudgetMicros != old.BudgetMicros {
			if p, err = q.SetBillingBudget(ctx, id, *u.BudgetMicros); err != nil {
				return err
			}
			if err := audit(ctx, q, by, patchpanda.AuditBudgetChanged, id,
				fmt.Sprintf("billing project %q: %s, was %s", p.Name, budgetText(p.BudgetMicros), budgetText(old.BudgetMicros)),
				map[string]any{"from_micros": old.BudgetMicros, "to_micros": p.BudgetMicros}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return patchpanda.BillingProjectStatus{}, fmt.Errorf("billing: update project %d: %w", id, err)
	}
	return s.status(ctx, s.DB.Queries, p)
}

// Rename renames a project; see UpdateProject.
func (s *Service) Rename(ctx context.Context, id int64, name, by string) (patchpanda.BillingProjectStatus, error) {
	return s.UpdateProject(ctx, id, patchpanda.BillingProjectUpdate{Name: &name}, by)
}

// SetBudget sets a project's monthly budget in micro-USD (0: none); see
// UpdateProject.
func (s *Service) SetBudget(ctx context.Context, id int64, micros int64, by string) (patchpanda.BillingProjectStatus, error) {
	return s.UpdateProject(ctx, id, patchpanda.BillingProjectUpdate{BudgetMicros: &micros}, by)
}

// Bind binds a repository ("owner/name") to a project and records an audit
// event. Binding it again to the same project changes nothing. It returns
// an EINVALID error for a malformed name, an ENOTFOUND error for an
// unknown project and an ECONFLICT error when another project has it.
func (s *Service) Bind(ctx context.Context, projectID int64, repo, by string) (patchpanda.RepositoryBinding, error) {
	if err := checkRepository(repo); err != nil {
		return patchpanda.RepositoryBinding{}, err
	}
	var b patchpanda.RepositoryBinding
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		before, err := q.RepositoryBindings(ctx, projectID)
		if err != nil {
			return err
		}
		if b, err = q.BindRepository(ctx, projectID, repo); err != nil {
			return err
		}
		for _, x := range before {
			if x.Repository == b.Repository {
				return nil // already bound here: nothing happened
			}
		}
		return audit(ctx, q, by, patchpanda.AuditRepoBound, projectID,
			fmt.Sprintf("bound repository %s to billing project %d", b.Repository, projectID),
			map[string]any{"repository": b.Repository})
	})
	if err != nil {
		return b, fmt.Errorf("billing: bind %s: %w", repo, err)
	}
	return b, nil
}

// Unbind removes a repository's binding to a project, so that its jobs are
// no longer paid by it or limited by its budget, and records an audit
// event. It returns an ENOTFOUND error when the repository is not bound to
// that project.
func (s *Service) Unbind(ctx context.Context, projectID int64, repo, by string) error {
	if err := checkRepository(repo); err != nil {
		return err
	}
	err := s.DB.InTx(ctx, func(q *store.Queries) error {
		if err := q.UnbindRepository(ctx, projectID, repo); err != nil {
			return err
		}
		return audit(ctx, q, by, AuditRepoUnbound, projectID,
			fmt.Sprintf("unbound repository %s from billing project %d", strings.ToLower(repo), projectID),
			map[string]any{"repository": strings.ToLower(repo)})
	})
	if err != nil {
		return fmt.Errorf("billing: unbind %s: %w", repo, err)
	}
	return nil
}

// Check returns the budget decision for a job of repo estimated to cost
// estimateMicros: the bound project, what it spent this month and whether
// the job would go over its budget. A repository bound to no project is
// allowed (Unbound). It returns an EINVALID error for a malformed name or a
// negative estimate.
func (s *Service) Check(ctx context.Context, repo string, estimateMicros int64) (patchpanda.Budget, error) {
	if err := checkRepository(repo); err != nil {
		return patchpanda.Budget{}, err
	}
	if estimateMicros < 0 || estimateMicros > patchpanda.MaxMicros {
		return patchpanda.Budget{}, patchpanda.Errorf(patchpanda.EINVALID, "estimate %d micro-USD is out of range", estimateMicros)
	}
	b := patchpanda.Budget{Repository: strings.ToLower(repo), EstimateMicros: estimateMicros}
	p, err := s.DB.BillingProjectOfRepository(ctx, repo)
	switch {
	case patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND:
		b.Unbound = true
		return patchpanda.DecideBudget(b), nil
	case err != nil:
		return b, fmt.Errorf("billing: check %s: %w", repo, err)
	}
	b.Project = p
	if b.SpentMicros, b.Month, err = s.DB.SpentThisMonth(ctx, p.Name); err != nil {
		return b, fmt.Errorf("billing: check %s: %w", repo, err)
	}
	return patchpanda.DecideBudget(b), nil
}

func (s *Service) status(ctx context.Context, q *store.Queries, p patchpanda.BillingProject) (patchpanda.BillingProjectStatus, error) {
	st := patchpanda.BillingProjectStatus{BillingProject: p, Repositories: []string{}}
	var err error
	if st.SpentMicros, st.Month, err = q.SpentThisMonth(ctx, p.Name); err != nil {
		return st, fmt.Errorf("billing: project %d: %w", p.ID, err)
	}
	bs, err := q.RepositoryBindings(ctx, p.ID)
	if err != nil {
		return st, fmt.Errorf("billing: project %d: %w", p.ID, err)
	}
	for _, b := range bs {
		st.Repositories = append(st.Repositories, b.Repository)
	}
	return st, nil
}

// audit appends one billing audit event about project id.
func audit(ctx context.Context, q *store.Queries, by, action string, projectID int64, reason string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit data: %w", err)
	}
	_, err = q.AppendAudit(ctx, patchpanda.AuditEvent{
		Actor: by, Action: action, Subject: "billing_project:" + strconv.FormatInt(projectID, 10), Reason: reason, Data: b,
	})
	return err
}

func budgetText(micros int64) string {
	if micros == 0 {
		return "no monthly budget"
	}
	return "a monthly budget of " + patchpanda.FormatUSD(micros) + " USD"
}

func checkProjectName(name string) error {
	if name == "" || len(name) > 64 {
		return patchpanda.Errorf(patchpanda.EINVALID, "name: must be 1 to 64 characters")
	}
	for i, r := range name {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._-", r)))
		if !ok {
			return patchpanda.Errorf(patchpanda.EINVALID, "name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", name)
		}
	}
	return nil
}

func checkBudget(micros int64) error {
	if micros < 0 || micros > patchpanda.MaxMicros {
		return patchpanda.Errorf(patchpanda.EINVALID, "budget: must be between 0 (no budget) and 1000000000 USD")
	}
	return nil
}

func checkRepository(repo string) error {
	_, _, err := patchpanda.ParseFullName(repo) // GitHub's rules, kept in one place
	return err
}
