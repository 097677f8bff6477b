package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// billingTab lists billing projects with this month's spending. It is
// read-only: budgets are changed with `ppctl billing`.
type billingTab struct {
	table  table.Model
	list   []httpapi.BillingProject
	loaded bool
}

func newBillingTab() billingTab { return billingTab{table: newTable(billingColumns(100))} }

func billingColumns(width int) []table.Column {
	return fitColumns(width, 6, []table.Column{
		{Title: "ID", Width: 4}, {Title: "NAME", Width: 18}, {Title: "MONTH", Width: 7}, {Title: "BUDGET", Width: 11},
		{Title: "SPENT", Width: 11}, {Title: "USED", Width: 11}, {Title: "REPOSITORIES", Width: 20},
	})
}

func (t *billingTab) resize(width, height int) {
	t.table.SetColumns(billingColumns(width))
	t.table.SetWidth(width)
	t.table.SetHeight(height - 1) // a line for the note below
}

type billingMsg struct {
	answer
	projects []httpapi.BillingProject
	err      error
}

func (m *Model) loadBilling() tea.Cmd {
	c := m.client
	return m.request(func(ctx context.Context) tea.Msg {
		ps, err := c.BillingProjects(ctx)
		return billingMsg{projects: ps, err: err}
	})
}

func (m Model) billingAnswer(msg billingMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.setError("list billing projects", msg.err)
		return m, nil
	}
	m.billing.list = msg.projects
	rows := make([]table.Row, len(msg.projects))
	for i, p := range msg.projects {
		budget := "none"
		if p.BudgetMicros > 0 {
			budget = "$" + patchpanda.FormatUSD(p.BudgetMicros)
		}
		rows[i] = row(strconv.FormatInt(p.ID, 10), p.Name, p.Month, budget, "$"+patchpanda.FormatUSD(p.SpentMicros), used(p), strings.Join(p.Repositories, ", "))
	}
	m.billing.table.SetRows(rows)
	if m.billing.table.Cursor() >= len(rows) {
		m.billing.table.SetCursor(max(len(rows)-1, 0))
	}
	return m, nil
}

// used says how much of its budget a project spent.
func used(p httpapi.BillingProject) string {
	switch {
	case p.BudgetMicros <= 0:
		return "-"
	case p.OverBudget:
		return fmt.Sprintf("%d%% OVER", p.SpentMicros*100/p.BudgetMicros)
	default:
		return fmt.Sprintf("%d%%", p.SpentMicros*100/p.BudgetMicros)
	}
}

func (m Model) billingKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.billing.table, cmd = m.billing.table.Update(msg)
	return m, cmd
}

func (m Model) billingView() string {
	if len(m.billing.list) == 0 && m.pending == 0 {
		return faint.Render("No billing projects. Create them with ppctl billing.")
	}
	return place(m.billing.table.View()+"\n"+faint.Render("Read-only: change budgets and bindings with ppctl billing."), "", m.bodyHeight())
}
