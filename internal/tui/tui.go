// Package tui is ppctl's terminal UI: bubbletea models for the relay's
// jobs, API keys and billing projects, in tabs. The models reach the relay
// only through Client, so tests drive them with a hand-written fake.
package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Client is what the terminal UI asks of the relay; *httpapi.Client
// satisfies it. Every method returns a *patchpanda.Error carrying the
// relay's code and a message safe to show when the relay refuses, and an
// EUNAVAILABLE error when it cannot be reached.
type Client interface {
	Jobs(ctx context.Context, f patchpanda.JobFilter) (httpapi.JobList, error)
	Job(ctx context.Context, id string) (*patchpanda.Job, error)
	ReplayJob(ctx context.Context, id string) (*patchpanda.Job, error)
	ListKeys(ctx context.Context) ([]patchpanda.APIKey, error)
	CreateKey(ctx context.Context, req httpapi.CreateKeyRequest) (httpapi.CreateKeyResponse, error)
	RevokeKey(ctx context.Context, id int64) (patchpanda.APIKey, error)
	BillingProjects(ctx context.Context) ([]httpapi.BillingProject, error)
}

// Options tune the terminal UI. The zero value is usable.
type Options struct {
	// Relay is the relay's URL, shown in the title.
	Relay string
	// Timeout bounds each request to the relay; 0 means 30 seconds.
	Timeout time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Run shows the terminal UI on in and out until the user quits or ctx
// ends. It returns ctx's error (wrapped) when ctx ended it, the relay's
// EUNAUTHORIZED error when it refused the credential (the UI closes, since
// nothing else can work), and an error when the terminal cannot be driven.
func Run(ctx context.Context, c Client, in io.Reader, out io.Writer, opts Options) error {
	p := tea.NewProgram(New(c, opts), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	final, err := p.Run()
	if m, ok := final.(Model); ok && m.fatal != nil {
		return m.fatal
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, tea.ErrInterrupted) {
			return context.Canceled
		}
		return err
	}
	return nil
}

// The tabs, in the order they are shown.
const (
	tabJobs = iota
	tabKeys
	tabBilling
	tabCount
)

var tabNames = [tabCount]string{"Jobs", "API keys", "Billing"}

// Model is the whole terminal UI: the tabs, the status line and the help.
// Build it with New; it follows bubbletea's Elm architecture, so Update
// returns a changed copy.
type Model struct {
	client  Client
	opts    Options
	keys    keyMap
	tab     int
	jobs    jobsTab
	apiKeys keysTab
	billing billingTab

	status    string
	statusErr bool
	// fatal is the relay's refusal of the credential, which ends the UI.
	fatal error
	// pending counts requests in flight, for the spinner.
	pending int
	spinner spinner.Model
	help    help.Model
	width   int
	height  int
}

// New returns the terminal UI over c, on the Jobs tab.
func New(c Client, opts Options) Model {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := Model{client: c, opts: opts, keys: newKeyMap(), spinner: spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(accent)),
		help: help.New(), width: 100, height: 30}
	m.jobs = newJobsTab()
	m.apiKeys = newKeysTab()
	m.billing = newBillingTab()
	m.resize()
	// Init asks for the jobs; Update counts the answer.
	m.jobs.loaded = true
	m.pending = 1
	return m
}

// Init loads the first tab.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.command(m.fetchJobs()), m.spinner.Tick)
}

// command runs fn with its own deadline. Each request gets one rather
// than a context kept in the model: bubbletea runs commands outside any
// caller's context, and a deadline bounds how long one can outlive the UI.
func (m *Model) command(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	timeout := m.opts.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return fn(ctx)
	}
}

// request is command, counted as pending (with the spinner turning) until
// its answer, a message embedding answer, arrives.
func (m *Model) request(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	m.pending++
	if m.pending == 1 {
		return tea.Batch(m.command(fn), m.spinner.Tick)
	}
	return m.command(fn)
}

// answer is embedded in every message carrying a relay's answer, so that
// Update can count it as no longer pending.
type answer struct{}

func (answer) isAnswer() {}

type answered interface{ isAnswer() }

// Update handles a message and returns the changed model and what to do
// next.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.update(msg)
	if nm, ok := next.(Model); ok && nm.fatal != nil {
		return nm, tea.Quit
	}
	return next, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(answered); ok && m.pending > 0 {
		m.pending--
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case spinner.TickMsg:
		if m.pending == 0 {
			return m, nil // let the spinner stop until the next request
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case jobsMsg, jobMsg, replayedMsg:
		return m.jobsAnswer(msg)
	case keysMsg, keyCreatedMsg, keyRevokedMsg:
		return m.keysAnswer(msg)
	case billingMsg:
		return m.billingAnswer(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m, tea.Quit
	}
	// A dialog owns every other key while it is open.
	switch m.tab {
	case tabJobs:
		if m.jobs.confirm != "" {
			return m.jobsConfirmKey(msg)
		}
	case tabKeys:
		if m.apiKeys.dialogOpen() {
			return m.keysDialogKey(msg)
		}
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.NextTab):
		return m.switchTab((m.tab + 1) % tabCount)
	case key.Matches(msg, m.keys.PrevTab):
		return m.switchTab((m.tab + tabCount - 1) % tabCount)
	case key.Matches(msg, m.keys.Tab1):
		return m.switchTab(tabJobs)
	case key.Matches(msg, m.keys.Tab2):
		return m.switchTab(tabKeys)
	case key.Matches(msg, m.keys.Tab3):
		return m.switchTab(tabBilling)
	case key.Matches(msg, m.keys.Refresh):
		m.setStatus("")
		return m, m.reload()
	}
	switch m.tab {
	case tabJobs:
		return m.jobsKey(msg)
	case tabKeys:
		return m.keysKey(msg)
	default:
		return m.billingKey(msg)
	}
}

// switchTab shows tab t, loading it the first time.
func (m Model) switchTab(t int) (tea.Model, tea.Cmd) {
	m.tab = t
	m.setStatus("")
	switch t {
	case tabKeys:
		if !m.apiKeys.loaded {
			m.apiKeys.loaded = true
			return m, m.loadKeys()
		}
	case tabBilling:
		if !m.billing.loaded {
			m.billing.loaded = true
			return m, m.loadBilling()
		}
	}
	return m, nil
}

// reload asks the relay again for what the current tab shows.
func (m *Model) reload() tea.Cmd {
	switch m.tab {
	case tabJobs:
		if m.jobs.detailID != "" {
			return m.loadJob(m.jobs.detailID)
		}
		return m.loadJobs()
	case tabKeys:
		return m.loadKeys()
	default:
		return m.loadBilling()
	}
}

func (m *Model) setStatus(s string) { m.status, m.statusErr = s, false }

// setError shows err in the status line: the relay's message for its own
// errors, with a hint for the ones a person can fix.
func (m *Model) setError(what string, err error) {
	msg := err.Error()
	var pe *patchpanda.Error
	if errors.As(err, &pe) {
		msg = pe.Message
	}
	switch patchpanda.ErrorCode(err) {
	case patchpanda.EUNAUTHORIZED:
		m.fatal = err
		msg += " (check --token or PATCHPANDA_TOKEN)"
	case patchpanda.EFORBIDDEN:
		msg += " (this key lacks the scope)"
	}
	m.status, m.statusErr = what+": "+oneLine(msg), true
}

// bodyHeight is how many lines a tab may draw: the title, the tabs and a
// blank line are above it, a blank line, the status and the help below.
func (m Model) bodyHeight() int { return max(m.height-6, 3) }

// resize lays the tabs out for the terminal's size.
func (m *Model) resize() {
	body := m.bodyHeight()
	m.jobs.resize(m.width, body)
	m.apiKeys.resize(m.width, body)
	m.billing.resize(m.width, body)
	m.help.SetWidth(m.width)
}

// View draws the terminal UI on the alternate screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	return v
}

// Render draws the terminal UI as text.
func (m Model) Render() string {
	var b strings.Builder
	title := titleStyle.Render("PatchPanda")
	if m.opts.Relay != "" {
		title += faint.Render("  " + m.opts.Relay)
	}
	b.WriteString(title + "\n")
	b.WriteString(m.tabsView() + "\n\n")
	switch m.tab {
	case tabJobs:
		b.WriteString(m.jobsView())
	case tabKeys:
		b.WriteString(m.keysView())
	default:
		b.WriteString(m.billingView())
	}
	b.WriteString("\n\n")
	b.WriteString(m.statusView() + "\n")
	b.WriteString(m.help.View(m.helpKeys()))
	return b.String()
}

func (m Model) tabsView() string {
	parts := make([]string, tabCount)
	for i, name := range tabNames {
		label := string(rune('1'+i)) + " " + name
		if i == m.tab {
			parts[i] = activeTab.Render("[" + label + "]")
		} else {
			parts[i] = inactiveTab.Render(" " + label + " ")
		}
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, parts...)
}

func (m Model) statusView() string {
	line := m.status
	if m.pending > 0 {
		if line != "" {
			line = " " + line
		}
		line = m.spinner.View() + " loading…" + line
	}
	if m.statusErr {
		return errorStyle.Render(ansi.Truncate("✗ "+m.status, m.width, "…"))
	}
	return statusStyle.Render(ansi.Truncate(line, m.width, "…"))
}

// place draws body with dialog, when there is one, below it, cutting
// body so that the two fit in height lines.
func place(body, dialog string, height int) string {
	keep := height
	if dialog != "" {
		keep = max(height-lipgloss.Height(dialog)-1, 0)
	}
	lines := strings.Split(body, "\n")
	if len(lines) > keep {
		lines = lines[:keep]
	}
	out := strings.Join(lines, "\n")
	if dialog != "" {
		out += "\n\n" + dialog
	}
	return out
}

// oneLine keeps s on one line, so that it cannot break the layout.
func oneLine(s string) string { return strings.Join(strings.Fields(iostreams.SanitizeLine(s)), " ") }
