package patchpanda

import "time"

// The billing vocabulary that the store, the billing service, the HTTP API
// and ppctl share: projects, repository bindings, provider keys and budgets.
// Amounts of money are int64 micro-USD (money.go).

// BillingProject is a billing project: who pays for the jobs of the
// repositories bound to it, and how much it may spend per calendar month
// (UTC).
type BillingProject struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// BudgetMicros is the monthly budget in micro-USD; 0 means no budget
	// (no monthly cap).
	BudgetMicros int64     `json:"budget_micros"`
	CreatedAt    time.Time `json:"created_at"`
}

// BillingProjectUpdate changes a project; nil fields are left as they are.
type BillingProjectUpdate struct {
	Name         *string
	BudgetMicros *int64
}

// BillingProjectStatus is a project with its spending in the current month
// and the repositories bound to it.
type BillingProjectStatus struct {
	BillingProject
	// Month is the first instant (UTC) of the month SpentMicros covers.
	Month        time.Time
	SpentMicros  int64
	Repositories []string
}

// OverBudget reports whether the project has a budget and has used it up.
func (s BillingProjectStatus) OverBudget() bool {
	return s.BudgetMicros > 0 && s.SpentMicros >= s.BudgetMicros
}

// RepositoryBinding says that a repository's jobs are paid by a billing
// project.
type RepositoryBinding struct {
	// Repository is "owner/name" in lower case: GitHub names are
	// case-insensitive.
	Repository string `json:"repository"`
	// RepositoryID is GitHub's id of the repository when the relay knew it
	// at binding time: the binding follows the id through renames, and a
	// repository re-created under the same name does not inherit it.
	RepositoryID int64     `json:"repository_id,omitempty"`
	ProjectID    int64     `json:"project_id"`
	CreatedAt    time.Time `json:"created_at"`
}

// ProviderKey describes a model provider's API key stored for a project.
// The key itself is stored only encrypted and is never part of this value.
type ProviderKey struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	Provider  string `json:"provider"`
	Name      string `json:"name"`
	// Hint is the key's last four characters, to tell keys apart.
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Budget is the answer to "may this repository spend estimate more this
// month?", as the dispatcher asks it before enqueueing a job.
type Budget struct {
	Repository string
	// Unbound is true when no project is bound to the repository: such
	// jobs are allowed and billed to no project.
	Unbound bool
	// Project is the bound project, zero when Unbound.
	Project        BillingProject
	Month          time.Time
	SpentMicros    int64
	EstimateMicros int64
	// Over is true when the job must not run: the project has a budget and
	// it is used up, or the estimate does not fit in what remains.
	Over bool
}

// Reason says in a few words why the budget allows or refuses the job, for
// audit events and PR comments.
func (b Budget) Reason() string {
	switch {
	case b.Unbound:
		return "unbound: no billing project is bound to " + b.Repository
	case b.Project.BudgetMicros == 0:
		return "billing project " + b.Project.Name + " has no monthly budget"
	case b.Over:
		return "billing project " + b.Project.Name + " is over its monthly budget: spent " +
			FormatUSD(b.SpentMicros) + " of " + FormatUSD(b.Project.BudgetMicros) + " USD in " + b.Month.Format("2006-01") +
			", this job is estimated at " + FormatUSD(b.EstimateMicros)
	default:
		return "within budget: spent " + FormatUSD(b.SpentMicros) + " of " + FormatUSD(b.Project.BudgetMicros) + " USD in " + b.Month.Format("2006-01")
	}
}

// DecideBudget fills in Over for a bound project from its budget, spending
// and the estimate: a job may run while something is left and the estimate
// fits in it. A project without a budget never refuses.
func DecideBudget(b Budget) Budget {
	if b.Unbound || b.Project.BudgetMicros == 0 {
		b.Over = false
		return b
	}
	left := b.Project.BudgetMicros - b.SpentMicros
	b.Over = left <= 0 || b.EstimateMicros > left
	return b
}

// MonthStart returns the first instant of t's calendar month in UTC.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
