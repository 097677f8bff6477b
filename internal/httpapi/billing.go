package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// BillingService manages billing projects, repository bindings, budgets
// and provider keys (internal/billing.Service). Amounts are micro-USD.
type BillingService interface {
	// CreateProject returns EINVALID for a bad name or budget and ECONFLICT
	// for a taken name.
	CreateProject(ctx context.Context, name string, budgetMicros int64, by string) (patchpanda.BillingProjectStatus, error)
	Projects(ctx context.Context) ([]patchpanda.BillingProjectStatus, error)
	// Project returns ENOTFOUND for an unknown id.
	Project(ctx context.Context, id int64) (patchpanda.BillingProjectStatus, error)
	// UpdateProject returns EINVALID, ENOTFOUND or ECONFLICT (name taken).
	UpdateProject(ctx context.Context, id int64, u patchpanda.BillingProjectUpdate, by string) (patchpanda.BillingProjectStatus, error)
	// Bind returns EINVALID, ENOTFOUND or ECONFLICT (bound elsewhere).
	Bind(ctx context.Context, projectID int64, repo, by string) (patchpanda.RepositoryBinding, error)
	// Unbind returns ENOTFOUND when repo is not bound to the project.
	Unbind(ctx context.Context, projectID int64, repo, by string) error
	// ProviderKeys returns ENOTFOUND for an unknown project.
	ProviderKeys(ctx context.Context, projectID int64) ([]patchpanda.ProviderKey, error)
	// AddProviderKey returns EINVALID (also when no secrets keeper is
	// configured), ENOTFOUND or ECONFLICT; it never returns the key.
	AddProviderKey(ctx context.Context, projectID int64, provider, name, plaintext, by string) (patchpanda.ProviderKey, error)
	// RevokeProviderKey returns ENOTFOUND when the project has no such key.
	RevokeProviderKey(ctx context.Context, projectID, keyID int64, by string) (patchpanda.ProviderKey, error)
}

// BillingRoutes returns a Server.Routes entry serving the billing API
// under /api/admin/billing, to admin keys only.
func BillingRoutes(b BillingService) func(mux *http.ServeMux, s *Server) {
	return func(mux *http.ServeMux, s *Server) {
		h := &billingHandlers{b: b, s: s}
		admin := func(f HandlerFunc) http.Handler { return s.Require(patchpanda.ScopeAdmin, f) }
		const p = "/api/admin/billing/projects"
		mux.Handle("GET "+p, admin(h.list))
		mux.Handle("POST "+p, admin(h.create))
		mux.Handle("GET "+p+"/{id}", admin(h.show))
		mux.Handle("PATCH "+p+"/{id}", admin(h.update))
		mux.Handle("POST "+p+"/{id}/repositories", admin(h.bind))
		mux.Handle("DELETE "+p+"/{id}/repositories/{owner}/{name}", admin(h.unbind))
		mux.Handle("GET "+p+"/{id}/provider-keys", admin(h.listProviderKeys))
		mux.Handle("POST "+p+"/{id}/provider-keys", admin(h.addProviderKey))
		mux.Handle("DELETE "+p+"/{id}/provider-keys/{keyid}", admin(h.revokeProviderKey))
	}
}

// Amount is an amount of US dollars in a request: a JSON string such as
// "12.34" or a JSON number, either parsed exactly as decimal text (never
// through a float) by patchpanda.ParseUSD.
type Amount string

// UnmarshalJSON takes a JSON string or number. It returns an error for any
// other JSON value.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Amount(s)
		return nil
	}
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		*a = Amount(b)
		return nil
	}
	return errors.New(`an amount of USD must be a decimal string like "12.34" or a number`)
}

// Micros parses the amount into micro-USD; it returns an EINVALID error
// naming the field for anything but a non-negative amount with at most six
// decimal places.
func (a Amount) Micros(field string) (int64, error) {
	m, err := patchpanda.ParseUSD(string(a))
	if err != nil {
		return 0, patchpanda.Errorf(patchpanda.EINVALID, "%s: %s", field, patchpanda.ErrorMessage(err))
	}
	return m, nil
}

// BillingProject is a billing project as the API shows it. USD amounts are
// decimal strings with two to six decimals, micro-USD amounts integers.
type BillingProject struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// BudgetMicros is the monthly budget, 0 when there is none.
	BudgetMicros int64 `json:"budget_micros"`
	// BudgetUSD is null when the project has no monthly budget.
	BudgetUSD *string `json:"budget_usd"`
	// Month is the calendar month (UTC) that Spent covers, as "2006-01".
	Month        string    `json:"month"`
	SpentMicros  int64     `json:"spent_micros"`
	SpentUSD     string    `json:"spent_usd"`
	OverBudget   bool      `json:"over_budget"`
	Repositories []string  `json:"repositories"`
	CreatedAt    time.Time `json:"created_at"`
}

// BillingProjectList answers GET /api/admin/billing/projects.
type BillingProjectList struct {
	Projects []BillingProject `json:"projects"`
}

// CreateBillingProjectRequest is the body of POST
// /api/admin/billing/projects. Without a budget the project has none.
type CreateBillingProjectRequest struct {
	Name      string  `json:"name"`
	BudgetUSD *Amount `json:"budget_usd,omitempty"`
}

// UpdateBillingProjectRequest is the body of PATCH
// /api/admin/billing/projects/{id}; absent fields are left alone, and a
// budget of "0" removes the budget.
type UpdateBillingProjectRequest struct {
	Name      *string `json:"name,omitempty"`
	BudgetUSD *Amount `json:"budget_usd,omitempty"`
}

// BindRepositoryRequest is the body of POST
// /api/admin/billing/projects/{id}/repositories.
type BindRepositoryRequest struct {
	Repository string `json:"repository"`
}

// AddProviderKeyRequest is the body of POST
// /api/admin/billing/projects/{id}/provider-keys. Key is the provider's API
// key; no answer ever contains it.
type AddProviderKeyRequest struct {
	Provider string `json:"provider"`
	Name     string `json:"name"`
	Key      string `json:"key"`
}

// ProviderKeyList answers GET /api/admin/billing/projects/{id}/provider-keys.
type ProviderKeyList struct {
	ProviderKeys []patchpanda.ProviderKey `json:"provider_keys"`
}

// NewBillingProject converts a project's status to its API shape.
func NewBillingProject(st patchpanda.BillingProjectStatus) BillingProject {
	out := BillingProject{
		ID: st.ID, Name: st.Name, BudgetMicros: st.BudgetMicros,
		Month: st.Month.Format("2006-01"), SpentMicros: st.SpentMicros, SpentUSD: patchpanda.FormatUSD(st.SpentMicros),
		OverBudget: st.OverBudget(), Repositories: st.Repositories, CreatedAt: st.CreatedAt,
	}
	if st.BudgetMicros > 0 {
		b := patchpanda.FormatUSD(st.BudgetMicros)
		out.BudgetUSD = &b
	}
	if out.Repositories == nil {
		out.Repositories = []string{}
	}
	return out
}

type billingHandlers struct {
	b BillingService
	s *Server
}

func (h *billingHandlers) list(w http.ResponseWriter, r *http.Request) error {
	sts, err := h.b.Projects(r.Context())
	if err != nil {
		return err
	}
	out := BillingProjectList{Projects: make([]BillingProject, 0, len(sts))}
	for _, st := range sts {
		out.Projects = append(out.Projects, NewBillingProject(st))
	}
	h.s.JSON(w, http.StatusOK, out)
	return nil
}

func (h *billingHandlers) create(w http.ResponseWriter, r *http.Request) error {
	var req CreateBillingProjectRequest
	if err := h.s.Decode(w, r, &req); err != nil {
		return err
	}
	var budget int64
	if req.BudgetUSD != nil {
		var err error
		if budget, err = req.BudgetUSD.Micros("budget_usd"); err != nil {
			return err
		}
	}
	st, err := h.b.CreateProject(r.Context(), req.Name, budget, actor(r))
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusCreated, NewBillingProject(st))
	return nil
}

func (h *billingHandlers) show(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := h.b.Project(r.Context(), id)
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusOK, NewBillingProject(st))
	return nil
}

func (h *billingHandlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req UpdateBillingProjectRequest
	if err := h.s.Decode(w, r, &req); err != nil {
		return err
	}
	u := patchpanda.BillingProjectUpdate{Name: req.Name}
	if req.BudgetUSD != nil {
		m, err := req.BudgetUSD.Micros("budget_usd")
		if err != nil {
			return err
		}
		u.BudgetMicros = &m
	}
	if u.Name == nil && u.BudgetMicros == nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "nothing to change: send name and/or budget_usd")
	}
	st, err := h.b.UpdateProject(r.Context(), id, u, actor(r))
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusOK, NewBillingProject(st))
	return nil
}

func (h *billingHandlers) bind(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req BindRepositoryRequest
	if err := h.s.Decode(w, r, &req); err != nil {
		return err
	}
	b, err := h.b.Bind(r.Context(), id, req.Repository, actor(r))
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusCreated, b)
	return nil
}

func (h *billingHandlers) unbind(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	repo, err := pathRepository(r)
	if err != nil {
		return err
	}
	if err := h.b.Unbind(r.Context(), id, repo, actor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *billingHandlers) listProviderKeys(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ks, err := h.b.ProviderKeys(r.Context(), id)
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []patchpanda.ProviderKey{}
	}
	h.s.JSON(w, http.StatusOK, ProviderKeyList{ProviderKeys: ks})
	return nil
}

func (h *billingHandlers) addProviderKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req AddProviderKeyRequest
	if err := h.s.Decode(w, r, &req); err != nil {
		return err
	}
	k, err := h.b.AddProviderKey(r.Context(), id, req.Provider, req.Name, req.Key, actor(r))
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusCreated, k)
	return nil
}

func (h *billingHandlers) revokeProviderKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	keyID, err := pathID(r, "keyid")
	if err != nil {
		return err
	}
	k, err := h.b.RevokeProviderKey(r.Context(), id, keyID, actor(r))
	if err != nil {
		return err
	}
	h.s.JSON(w, http.StatusOK, k)
	return nil
}
