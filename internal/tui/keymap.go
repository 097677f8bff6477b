package tui

import (
	"charm.land/bubbles/v2/key"
)

// keyMap holds every binding, so that help and handling agree.
type keyMap struct {
	ForceQuit, Quit                    key.Binding
	NextTab, PrevTab, Tab1, Tab2, Tab3 key.Binding
	Refresh                            key.Binding
	Up, Down                           key.Binding
	Open, Back, Replay, Filter         key.Binding
	New, Revoke                        key.Binding
	Yes, No                            key.Binding
	Toggle, NextField, PrevField       key.Binding
	Submit, Cancel, Dismiss            key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Quit:      b([]string{"q"}, "q", "quit"),
		NextTab:   b([]string{"tab", "right", "l"}, "tab", "next tab"),
		PrevTab:   b([]string{"shift+tab", "left", "h"}, "shift+tab", "previous tab"),
		Tab1:      b([]string{"1"}, "1", "jobs"),
		Tab2:      b([]string{"2"}, "2", "keys"),
		Tab3:      b([]string{"3"}, "3", "billing"),
		Refresh:   b([]string{"ctrl+r", "f5"}, "ctrl+r", "refresh"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		Open:      b([]string{"enter"}, "enter", "details"),
		Back:      b([]string{"esc", "backspace"}, "esc", "back"),
		Replay:    b([]string{"r"}, "r", "replay"),
		Filter:    b([]string{"f"}, "f", "filter state"),
		New:       b([]string{"n"}, "n", "new key"),
		Revoke:    b([]string{"x", "delete"}, "x", "revoke"),
		Yes:       b([]string{"y", "Y"}, "y", "yes"),
		No:        b([]string{"n", "N", "esc"}, "n/esc", "no"),
		Toggle:    b([]string{"space"}, "space", "toggle scope"),
		NextField: b([]string{"tab", "down"}, "tab/↓", "next field"),
		PrevField: b([]string{"shift+tab", "up"}, "shift+tab/↑", "previous field"),
		Submit:    b([]string{"enter"}, "enter", "create"),
		Cancel:    b([]string{"esc"}, "esc", "cancel"),
		Dismiss:   b([]string{"enter", "esc"}, "enter", "I have stored it"),
	}
}

// bindings is a help.KeyMap over a fixed list.
type bindings []key.Binding

func (b bindings) ShortHelp() []key.Binding  { return b }
func (b bindings) FullHelp() [][]key.Binding { return [][]key.Binding{b} }

// helpKeys returns the keys that do something right now.
func (m Model) helpKeys() bindings {
	k := m.keys
	tabs := []key.Binding{k.NextTab, k.Refresh, k.Quit}
	switch m.tab {
	case tabJobs:
		switch {
		case m.jobs.confirm != "":
			return bindings{k.Yes, k.No}
		case m.jobs.detailID != "":
			return append(bindings{k.Up, k.Down, k.Back, k.Replay}, tabs...)
		default:
			return append(bindings{k.Up, k.Down, k.Open, k.Replay, k.Filter}, tabs...)
		}
	case tabKeys:
		switch {
		case m.apiKeys.created != nil:
			return bindings{k.Dismiss}
		case m.apiKeys.confirm != nil:
			return bindings{k.Yes, k.No}
		case m.apiKeys.form != nil:
			return bindings{k.NextField, k.PrevField, k.Toggle, k.Submit, k.Cancel}
		default:
			return append(bindings{k.Up, k.Down, k.New, k.Revoke}, tabs...)
		}
	default:
		return append(bindings{k.Up, k.Down}, tabs...)
	}
}
