package iostreams

import (
	"io"
	"strings"

	"github.com/cli/go-gh/v2/pkg/tableprinter"
)

// Sanitize makes a string that came from a server safe to print on a
// terminal: every control character except tab and newline is shown in
// caret notation instead of being sent (ESC becomes "^[", CR "^M", the C1
// controls "^[" and their 7-bit letter), so that a job message or a key
// name cannot move the cursor, clear the screen, set the title or hide a
// link. What was sent stays visible, which tells the reader something was
// attempted.
func Sanitize(s string) string {
	if !needsSanitizing(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + 0x40)
		case r == 0x7f:
			b.WriteString("^?")
		case r >= 0x80 && r <= 0x9f:
			b.WriteString("^[")
			b.WriteByte(byte(r - 0x40))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SanitizeLine is Sanitize for a one-line field (a table cell, a status
// line): tabs and newlines become spaces too.
func SanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return ' '
		}
		return r
	}, Sanitize(s))
}

func needsSanitizing(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r >= 0x7f && r <= 0x9f {
			return true
		}
	}
	return false
}

// Table is a table being printed: fields row by row, then Render. Every
// field is sanitized, so that no command can print a server-supplied
// string raw in a table or in tab-separated lines.
type Table interface {
	AddField(s string)
	EndRow()
	// Render writes the table; it returns the writer's error.
	Render() error
}

type safeTable struct{ tp tableprinter.TablePrinter }

func (t safeTable) AddField(s string) { t.tp.AddField(SanitizeLine(s)) }
func (t safeTable) EndRow()           { t.tp.EndRow() }
func (t safeTable) Render() error     { return t.tp.Render() }

// sanitizer is an io.Writer that passes everything through Sanitize on
// its way, carrying a UTF-8 lead byte split across writes over to the
// next one.
type sanitizer struct {
	w       io.Writer
	pending []byte
}

// NewSanitizer returns a writer that sanitizes what is written to it
// before writing it to w, as Sanitize does. ppctl's Out and ErrOut are
// such writers, so no print path can send a server's control characters
// to the terminal; only the terminal UI and the screen clearing of
// `jobs watch` write escapes, through IO.Terminal.
func NewSanitizer(w io.Writer) io.Writer { return &sanitizer{w: w} }

func (s *sanitizer) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.pending) > 0 {
		p = append(s.pending, p...)
		s.pending = nil
	}
	// Keep an incomplete UTF-8 sequence at the end for the next write.
	if i := incompleteTail(p); i < len(p) {
		s.pending = append([]byte(nil), p[i:]...)
		p = p[:i]
	}
	if !needsSanitizing(string(p)) {
		if _, err := s.w.Write(p); err != nil {
			return 0, err
		}
		return n, nil
	}
	if _, err := io.WriteString(s.w, Sanitize(string(p))); err != nil {
		return 0, err
	}
	return n, nil
}

// incompleteTail returns where an incomplete UTF-8 sequence at the end of
// p starts, or len(p).
func incompleteTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		c := p[i]
		if c < 0x80 {
			return len(p)
		}
		if c >= 0xC0 { // a lead byte: is its sequence complete?
			need := 2
			switch {
			case c >= 0xF0:
				need = 4
			case c >= 0xE0:
				need = 3
			}
			if len(p)-i < need {
				return i
			}
			return len(p)
		}
	}
	return len(p)
}
