package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// jobsPage is how many jobs the tab asks for.
const jobsPage = 100

// stateFilters are what f cycles through on the Jobs tab.
var stateFilters = []patchpanda.JobState{"", patchpanda.JobQueued, patchpanda.JobRunning, patchpanda.JobSucceeded, patchpanda.JobFailed, patchpanda.JobCancelled}

// jobsTab is the list of jobs and, when open, one job's detail.
type jobsTab struct {
	table  table.Model
	list   []*patchpanda.Job
	more   bool
	loaded bool
	filter int // index in stateFilters
	// detailID is the job whose detail is open ("" for the list), detail
	// that job once loaded.
	detailID string
	detail   *patchpanda.Job
	view     viewport.Model
	// confirm is the job awaiting a yes to be replayed.
	confirm string
}

func newJobsTab() jobsTab {
	return jobsTab{table: newTable(jobColumns(100)), view: viewport.New(viewport.WithWidth(100), viewport.WithHeight(10))}
}

func jobColumns(width int) []table.Column {
	return fitColumns(width, 1, []table.Column{
		{Title: "ID", Width: 28}, {Title: "REPOSITORY", Width: 20}, {Title: "PR", Width: 6}, {Title: "STATE", Width: 10},
		{Title: "TRIGGER", Width: 12}, {Title: "TRY", Width: 3}, {Title: "COST", Width: 9}, {Title: "CREATED", Width: 16},
	})
}

func (t *jobsTab) resize(width, height int) {
	t.table.SetColumns(jobColumns(width))
	t.table.SetWidth(width)
	t.table.SetHeight(height - 1) // a line for the filter below
	t.view.SetWidth(width)
	t.view.SetHeight(height)
}

// Messages carrying the relay's answers.
type (
	jobsMsg struct {
		answer
		list httpapi.JobList
		err  error
	}
	jobMsg struct {
		answer
		id  string
		job *patchpanda.Job
		err error
	}
	replayedMsg struct {
		answer
		from string
		job  *patchpanda.Job
		err  error
	}
)

func (m *Model) fetchJobs() func(context.Context) tea.Msg {
	c, f := m.client, patchpanda.JobFilter{State: stateFilters[m.jobs.filter], Limit: jobsPage}
	return func(ctx context.Context) tea.Msg {
		list, err := c.Jobs(ctx, f)
		return jobsMsg{list: list, err: err}
	}
}

func (m *Model) loadJobs() tea.Cmd { return m.request(m.fetchJobs()) }

func (m *Model) loadJob(id string) tea.Cmd {
	c := m.client
	return m.request(func(ctx context.Context) tea.Msg {
		j, err := c.Job(ctx, id)
		return jobMsg{id: id, job: j, err: err}
	})
}

func (m *Model) replay(id string) tea.Cmd {
	c := m.client
	return m.request(func(ctx context.Context) tea.Msg {
		j, err := c.ReplayJob(ctx, id)
		return replayedMsg{from: id, job: j, err: err}
	})
}

func (m Model) jobsAnswer(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case jobsMsg:
		if msg.err != nil {
			m.setError("list jobs", msg.err)
			return m, nil
		}
		m.jobs.list, m.jobs.more = msg.list.Jobs, msg.list.Next != ""
		rows := make([]table.Row, len(msg.list.Jobs))
		for i, j := range msg.list.Jobs {
			rows[i] = row(j.ID, j.Repository.FullName(), "#"+strconv.Itoa(j.PullRequest.Number), string(j.State),
				string(j.Trigger), strconv.Itoa(j.Attempt), "$"+patchpanda.FormatUSD(j.CostMicros), stamp(j.CreatedAt))
		}
		m.jobs.table.SetRows(rows)
		if m.jobs.table.Cursor() >= len(rows) {
			m.jobs.table.SetCursor(max(len(rows)-1, 0))
		}
	case jobMsg:
		if msg.id != m.jobs.detailID {
			return m, nil // the detail was closed meanwhile
		}
		if msg.err != nil {
			m.setError("show job "+msg.id, msg.err)
			return m, nil
		}
		m.jobs.detail = msg.job
		m.jobs.view.SetContent(jobDetail(msg.job, m.opts.Now()))
	case replayedMsg:
		if msg.err != nil {
			m.setError("replay "+msg.from, msg.err)
			return m, nil
		}
		m.status = fmt.Sprintf("Replayed %s as %s (attempt %d)", msg.from, msg.job.ID, msg.job.Attempt)
		return m, m.loadJobs()
	}
	return m, nil
}

// selectedJob returns the id of the job under the cursor, or "".
func (m Model) selectedJob() string {
	if m.jobs.detailID != "" {
		return m.jobs.detailID
	}
	if row := m.jobs.table.SelectedRow(); row != nil && len(m.jobs.list) > 0 {
		return row[0]
	}
	return ""
}

func (m Model) jobsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Replay):
		if id := m.selectedJob(); id != "" {
			m.jobs.confirm = id
			m.setStatus("")
		}
		return m, nil
	case m.jobs.detailID != "":
		if key.Matches(msg, k.Back) {
			m.jobs.detailID, m.jobs.detail = "", nil
			return m, nil
		}
		var cmd tea.Cmd
		m.jobs.view, cmd = m.jobs.view.Update(msg)
		return m, cmd
	case key.Matches(msg, k.Open):
		id := m.selectedJob()
		if id == "" {
			return m, nil
		}
		m.jobs.detailID, m.jobs.detail = id, nil
		m.jobs.view.SetContent("")
		m.jobs.view.GotoTop()
		m.setStatus("")
		return m, m.loadJob(id)
	case key.Matches(msg, k.Filter):
		m.jobs.filter = (m.jobs.filter + 1) % len(stateFilters)
		m.setStatus("")
		return m, m.loadJobs()
	}
	var cmd tea.Cmd
	m.jobs.table, cmd = m.jobs.table.Update(msg)
	return m, cmd
}

func (m Model) jobsConfirmKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Yes):
		id := m.jobs.confirm
		m.jobs.confirm = ""
		m.setStatus("")
		return m, m.replay(id)
	case key.Matches(msg, m.keys.No), key.Matches(msg, m.keys.Quit):
		m.jobs.confirm = ""
		m.setStatus("Replay cancelled")
	}
	return m, nil
}

func (m Model) jobsView() string {
	var body string
	switch {
	case m.jobs.detailID != "":
		if m.jobs.detail == nil {
			body = faint.Render("Loading " + m.jobs.detailID + "…")
		} else {
			body = m.jobs.view.View()
		}
	case len(m.jobs.list) == 0 && m.pending == 0:
		body = faint.Render("No jobs" + m.filterLabel() + ".")
	default:
		body = m.jobs.table.View()
		if s := m.filterLabel(); s != "" || m.jobs.more {
			if m.jobs.more {
				s += fmt.Sprintf(" (newest %d shown)", jobsPage)
			}
			body += "\n" + faint.Render("Jobs"+s)
		}
	}
	dialog := ""
	if id := m.jobs.confirm; id != "" {
		dialog = dialogStyle.Render(
			warnStyle.Render("Replay "+id+"?") + "\n" +
				"This enqueues the same work again as a new attempt,\nwhich the billing project pays for.\n\n" +
				labelStyle.Render("y") + " replay   " + labelStyle.Render("n") + " cancel")
	}
	return place(body, dialog, m.bodyHeight())
}

func (m Model) filterLabel() string {
	if st := stateFilters[m.jobs.filter]; st != "" {
		return " that are " + string(st)
	}
	return ""
}

// jobDetail renders one job with its events.
func jobDetail(j *patchpanda.Job, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s#%d  %s\n", labelStyle.Render(oneLine(j.ID)), oneLine(j.Repository.FullName()), j.PullRequest.Number, stateLabel(j.State))
	if j.ReplayOf != "" {
		fmt.Fprintf(&b, "attempt %d, a replay of %s\n", j.Attempt, oneLine(j.ReplayOf))
	} else {
		fmt.Fprintf(&b, "attempt %d\n", j.Attempt)
	}
	b.WriteString("\n")
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "  %-10s %s\n", name, oneLine(value))
		}
	}
	field("Trigger", fmt.Sprintf("%s by %s", j.Trigger, dash(j.RequestedBy)))
	field("Commits", fmt.Sprintf("head %s, base %s", dash(short(j.PullRequest.HeadSHA)), dash(short(j.PullRequest.BaseSHA))))
	field("Billing", j.BillingProject)
	field("Cost", "$"+patchpanda.FormatUSD(j.CostMicros))
	field("Result", j.ResultURL)
	field("Message", oneLine(j.Message))
	field("Created", fmt.Sprintf("%s (%s)", stamp(j.CreatedAt), iostreams.Ago(j.CreatedAt, now)))
	if j.StartedAt != nil {
		field("Started", stamp(*j.StartedAt))
	}
	if j.FinishedAt != nil {
		field("Finished", stamp(*j.FinishedAt))
	}
	b.WriteString("\n" + labelStyle.Render("Events") + "\n")
	if len(j.Events) == 0 {
		b.WriteString(faint.Render("  none yet") + "\n")
	}
	for _, ev := range j.Events {
		detail := oneLine(ev.Message)
		if ev.CostMicros != 0 {
			detail = strings.TrimSpace(detail + "  $" + patchpanda.FormatUSD(ev.CostMicros))
		}
		if ev.URL != "" {
			detail = strings.TrimSpace(detail + "  " + oneLine(ev.URL))
		}
		fmt.Fprintf(&b, "  %s  %-10s %s\n", ev.CreatedAt.Local().Format("2006-01-02 15:04:05"), oneLine(ev.Type), detail)
	}
	return b.String()
}

func stateLabel(s patchpanda.JobState) string {
	switch s {
	case patchpanda.JobSucceeded:
		return okStyle.Render(string(s))
	case patchpanda.JobFailed, patchpanda.JobCancelled:
		return errorStyle.Render(string(s))
	default:
		return warnStyle.Render(string(s))
	}
}
