package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"

	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// newTable returns a focused table with cols. Its page-down keys leave f
// and space free for the tabs' own keys.
func newTable(cols []table.Column) table.Model {
	km := table.DefaultKeyMap()
	km.PageDown = key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down"))
	km.PageUp = key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up"))
	s := table.DefaultStyles()
	s.Header = s.Header.BorderStyle(lipgloss.NormalBorder()).BorderBottom(true)
	// Reverse video marks the selected row even where colour is off
	// (NO_COLOR keeps text attributes): bold alone is easy to miss.
	s.Selected = s.Selected.Reverse(true)
	return table.New(table.WithColumns(cols), table.WithFocused(true), table.WithKeyMap(km), table.WithStyles(s))
}

// fitColumns gives column flex whatever width the others leave, at least
// its own width. Each column is padded by one space on both sides.
func fitColumns(width, flex int, cols []table.Column) []table.Column {
	used := 0
	for i, c := range cols {
		if i != flex {
			used += c.Width
		}
		used += 2
	}
	if rest := width - used; rest > cols[flex].Width {
		cols[flex].Width = rest
	}
	return cols
}

// row is a table row of server-supplied cells, each sanitized: the
// table draws them raw, so an escape in a job message or a key name
// would reach the terminal.
func row(cells ...string) table.Row {
	for i, c := range cells {
		cells[i] = iostreams.SanitizeLine(c)
	}
	return cells
}

// stamp formats t in local time to the minute, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

// stampPtr is stamp for an optional time, with what to say when it is
// absent.
func stampPtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return stamp(*t)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return iostreams.SanitizeLine(s)
}
