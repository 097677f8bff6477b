package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// keysTab lists API keys and holds the dialogs that create and revoke
// them.
type keysTab struct {
	table  table.Model
	list   []patchpanda.APIKey
	loaded bool
	form   *keyForm
	// created is the answer to a creation, holding the key itself: it is
	// shown until dismissed and then dropped, never shown again.
	created *httpapi.CreateKeyResponse
	// confirm is the key awaiting a yes to be revoked.
	confirm *patchpanda.APIKey
}

func newKeysTab() keysTab { return keysTab{table: newTable(keyColumns(100))} }

func keyColumns(width int) []table.Column {
	return fitColumns(width, 3, []table.Column{
		{Title: "ID", Width: 4}, {Title: "NAME", Width: 16}, {Title: "PREFIX", Width: 12}, {Title: "SCOPES", Width: 20},
		{Title: "STATE", Width: 8}, {Title: "LAST USED", Width: 16}, {Title: "EXPIRES", Width: 16},
	})
}

func (t *keysTab) resize(width, height int) {
	t.table.SetColumns(keyColumns(width))
	t.table.SetWidth(width)
	t.table.SetHeight(height)
}

func (t *keysTab) dialogOpen() bool { return t.form != nil || t.created != nil || t.confirm != nil }

// keyForm asks for a new key's name, scopes and lifetime. Focus runs over
// the name (0), the scopes (1 to len(Scopes)) and the lifetime (last).
type keyForm struct {
	name, expires textinput.Model
	scopes        map[patchpanda.Scope]bool
	focus         int
	err           string
}

func newKeyForm() *keyForm {
	in := func(placeholder string, limit int) textinput.Model {
		t := textinput.New()
		t.Placeholder = placeholder
		t.CharLimit = limit
		t.Prompt = ""
		t.SetWidth(40)
		// A steady cursor: a blinking one redraws the screen twice a second.
		st := t.Styles()
		st.Cursor.Blink = false
		t.SetStyles(st)
		return t
	}
	f := &keyForm{name: in("what the key is for, e.g. ci-coverage", 100), expires: in("30d, 12h… (empty: never)", 10),
		scopes: map[patchpanda.Scope]bool{}}
	f.name.Focus()
	return f
}

func (f *keyForm) last() int { return len(patchpanda.Scopes) + 1 }

func (f *keyForm) setFocus(i int) {
	f.focus = (i + f.last() + 1) % (f.last() + 1)
	f.name.Blur()
	f.expires.Blur()
	switch f.focus {
	case 0:
		f.name.Focus()
	case f.last():
		f.expires.Focus()
	}
}

// request returns what the form asks for, or a message saying what is
// missing.
func (f *keyForm) request() (httpapi.CreateKeyRequest, string) {
	req := httpapi.CreateKeyRequest{Name: strings.TrimSpace(f.name.Value()), ExpiresIn: strings.TrimSpace(f.expires.Value())}
	for _, s := range patchpanda.Scopes {
		if f.scopes[s] {
			req.Scopes = append(req.Scopes, s)
		}
	}
	switch {
	case req.Name == "":
		return req, "Give the key a name."
	case len(req.Scopes) == 0:
		return req, "Choose at least one scope (space toggles)."
	}
	return req, ""
}

// Messages carrying the relay's answers.
type (
	keysMsg struct {
		answer
		keys []patchpanda.APIKey
		err  error
	}
	keyCreatedMsg struct {
		answer
		res httpapi.CreateKeyResponse
		err error
	}
	keyRevokedMsg struct {
		answer
		id  int64
		key patchpanda.APIKey
		err error
	}
)

func (m *Model) loadKeys() tea.Cmd {
	c := m.client
	return m.request(func(ctx context.Context) tea.Msg {
		ks, err := c.ListKeys(ctx)
		return keysMsg{keys: ks, err: err}
	})
}

func (m Model) keysAnswer(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case keysMsg:
		if msg.err != nil {
			m.setError("list keys", msg.err)
			return m, nil
		}
		m.apiKeys.list = msg.keys
		now := m.opts.Now()
		rows := make([]table.Row, len(msg.keys))
		for i, k := range msg.keys {
			scopes := make([]string, len(k.Scopes))
			for j, s := range k.Scopes {
				scopes[j] = string(s)
			}
			rows[i] = row(strconv.FormatInt(k.ID, 10), k.Name, k.Prefix, strings.Join(scopes, ","), k.State(now),
				stampPtr(k.LastUsedAt, "never"), stampPtr(k.ExpiresAt, "never"))
		}
		m.apiKeys.table.SetRows(rows)
		if m.apiKeys.table.Cursor() >= len(rows) {
			m.apiKeys.table.SetCursor(max(len(rows)-1, 0))
		}
	case keyCreatedMsg:
		if msg.err != nil {
			// Keep the form so that the person can correct it.
			m.setError("create key", msg.err)
			return m, nil
		}
		m.apiKeys.form = nil
		m.apiKeys.created = &msg.res
		m.status = fmt.Sprintf("Created key %d %q", msg.res.APIKey.ID, msg.res.APIKey.Name)
		return m, m.loadKeys()
	case keyRevokedMsg:
		if msg.err != nil {
			m.setError(fmt.Sprintf("revoke key %d", msg.id), msg.err)
			return m, nil
		}
		m.status = fmt.Sprintf("Revoked key %d %q", msg.key.ID, msg.key.Name)
		return m, m.loadKeys()
	}
	return m, nil
}

func (m Model) keysKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.New):
		m.apiKeys.form = newKeyForm()
		m.setStatus("")
		return m, nil
	case key.Matches(msg, m.keys.Revoke):
		i := m.apiKeys.table.Cursor()
		if i < 0 || i >= len(m.apiKeys.list) {
			return m, nil
		}
		k := m.apiKeys.list[i]
		if k.RevokedAt != nil {
			m.setStatus(fmt.Sprintf("Key %d is already revoked", k.ID))
			return m, nil
		}
		m.apiKeys.confirm = &k
		m.setStatus("")
		return m, nil
	}
	var cmd tea.Cmd
	m.apiKeys.table, cmd = m.apiKeys.table.Update(msg)
	return m, cmd
}

// keysDialogKey handles a key while a dialog of the Keys tab is open.
func (m Model) keysDialogKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	t := &m.apiKeys
	switch {
	case t.created != nil:
		if key.Matches(msg, m.keys.Dismiss) {
			t.created = nil // the only copy of the key goes with it
		}
		return m, nil
	case t.confirm != nil:
		switch {
		case key.Matches(msg, m.keys.Yes):
			k := *t.confirm
			t.confirm = nil
			m.setStatus("")
			c := m.client
			return m, m.request(func(ctx context.Context) tea.Msg {
				out, err := c.RevokeKey(ctx, k.ID)
				return keyRevokedMsg{id: k.ID, key: out, err: err}
			})
		case key.Matches(msg, m.keys.No), key.Matches(msg, m.keys.Quit):
			t.confirm = nil
			m.setStatus("Revocation cancelled")
		}
		return m, nil
	}
	// The form.
	f := t.form
	switch {
	case key.Matches(msg, m.keys.Cancel):
		t.form = nil
		m.setStatus("Key creation cancelled")
		return m, nil
	case key.Matches(msg, m.keys.Submit):
		req, problem := f.request()
		if f.err = problem; problem != "" {
			return m, nil
		}
		m.setStatus("")
		c := m.client
		return m, m.request(func(ctx context.Context) tea.Msg {
			res, err := c.CreateKey(ctx, req)
			return keyCreatedMsg{res: res, err: err}
		})
	case key.Matches(msg, m.keys.NextField):
		f.setFocus(f.focus + 1)
		return m, nil
	case key.Matches(msg, m.keys.PrevField):
		f.setFocus(f.focus - 1)
		return m, nil
	case f.focus > 0 && f.focus < f.last():
		if key.Matches(msg, m.keys.Toggle) || msg.String() == "x" {
			s := patchpanda.Scopes[f.focus-1]
			f.scopes[s] = !f.scopes[s]
		}
		return m, nil
	}
	var cmd tea.Cmd
	if f.focus == 0 {
		f.name, cmd = f.name.Update(msg)
	} else {
		f.expires, cmd = f.expires.Update(msg)
	}
	return m, cmd
}

func (m Model) keysView() string {
	t := m.apiKeys
	switch {
	case t.created != nil:
		return place(createdView(t.created), "", m.bodyHeight())
	case t.form != nil:
		return place(formView(t.form), "", m.bodyHeight())
	}
	body := t.table.View()
	if len(t.list) == 0 && m.pending == 0 {
		body = faint.Render("No API keys. Press n to create one.")
	}
	dialog := ""
	if k := t.confirm; k != nil {
		dialog = dialogStyle.Render(
			warnStyle.Render(fmt.Sprintf("Revoke key %d %q?", k.ID, k.Name)) + "\n" +
				"Everything using it is refused from now on. This cannot be undone.\n\n" +
				labelStyle.Render("y") + " revoke   " + labelStyle.Render("n") + " cancel")
	}
	return place(body, dialog, m.bodyHeight())
}

func formView(f *keyForm) string {
	var b strings.Builder
	b.WriteString(labelStyle.Render("New API key") + "\n\n")
	mark := func(i int) string {
		if f.focus == i {
			return accent.Render("›")
		}
		return " "
	}
	fmt.Fprintf(&b, "%s Name     %s\n\n", mark(0), f.name.View())
	b.WriteString("  Scopes\n")
	for i, s := range patchpanda.Scopes {
		box := "[ ]"
		if f.scopes[s] {
			box = "[x]"
		}
		fmt.Fprintf(&b, "%s   %s %s\n", mark(i+1), box, s)
	}
	fmt.Fprintf(&b, "\n%s Expires  %s\n", mark(f.last()), f.expires.View())
	if f.err != "" {
		b.WriteString("\n" + errorStyle.Render(f.err) + "\n")
	}
	return b.String()
}

func createdView(res *httpapi.CreateKeyResponse) string {
	return secretStyle.Render(
		labelStyle.Render(fmt.Sprintf("New API key %d %q", res.APIKey.ID, res.APIKey.Name)) + "\n\n" +
			accent.Render(res.Key) + "\n\n" +
			warnStyle.Render("⚠ This key is shown only this once.") + "\n" +
			"Copy it now and store it somewhere safe: it cannot be shown again.\n\n" +
			faint.Render("Press enter when you have stored it."))
}
