package tui

import "charm.land/lipgloss/v2"

// The styles, all in one place. Colours degrade to plain text where the
// terminal has none.
var (
	accent      = lipgloss.NewStyle().Foreground(lipgloss.Color("212"))
	faint       = lipgloss.NewStyle().Faint(true)
	titleStyle  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("212"))
	activeTab   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("212"))
	inactiveTab = lipgloss.NewStyle().Faint(true)
	statusStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("245"))
	okStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("42"))
	errorStyle  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("196"))
	warnStyle   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("214"))
	labelStyle  = lipgloss.NewStyle().Bold(true)
	dialogStyle = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("214")).Padding(0, 1)
	secretStyle = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(lipgloss.Color("214")).Padding(1, 2)
)
