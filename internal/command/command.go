// Package command finds and parses the PatchPanda command in the body of a
// pull request comment, such as
//
//	/patchpanda generate internal/money "docs/user guide" --framework testify
//
// It is pure: it reads a string and returns a value. Deciding whether the
// commenter may run the command, and replying, belong to the dispatcher.
package command

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keyword starts every command. It is matched without regard to case.
const Keyword = "/patchpanda"

// MaxPaths is the most paths one generate command may name.
const MaxPaths = 50

// Name names a command.
type Name string

// The commands PatchPanda understands.
const (
	Generate Name = "generate" // generate tests, optionally for some paths only
	Help     Name = "help"     // reply with HelpText
	Cancel   Name = "cancel"   // cancel the pull request's queued or running job
	Retry    Name = "retry"    // run the pull request's last job again
)

// Names returns every command, in the order the help text shows them.
func Names() []Name { return []Name{Generate, Retry, Cancel, Help} }

const frameworkFlag = "--framework"

// Command is the command found in a comment. Exactly one of these holds:
//
//   - Err == "": the command is well formed; Name says which it is, and for
//     Generate, Paths and Framework carry its arguments.
//   - Unknown != "": the word after /patchpanda is not a command. Suggestion
//     is the closest command when one is close, and Err says both in words.
//   - otherwise Err says what is wrong with a known command's arguments
//     (an unknown flag, a missing value, a path leaving the repository).
//
// Err is meant for a reply to the commenter. It quotes what they wrote, so
// render it as text (in a code span, or escaped), not as raw markdown.
type Command struct {
	Name       Name     // "" when Unknown is set
	Paths      []string // generate: the paths to cover, in order; nil means the whole change
	Framework  string   // generate: the --framework value, "" when not given
	Line       int      // the comment line the command is on, counting from 1
	Unknown    string   // the unknown command word as typed
	Suggestion Name     // the command Unknown was probably meant to be, or ""
	Err        string   // why the command cannot run, "" when it can
}

// Parse finds the command in a comment body and parses it. It returns false
// when the body holds no command at all; a malformed command is still
// returned, with true, and Err set (see Command).
//
// A command is a line that starts with /patchpanda, after at most three
// spaces of indentation, followed by a space or the end of the line. Lines
// inside fenced code blocks (``` or ~~~), indented code blocks (four spaces
// or a tab), block quotes (">") and HTML comments are skipped, so quoting or
// showing a command does not run it. The keyword and command names match
// without regard to case; arguments keep theirs. Arguments split at spaces
// and may be quoted with "double" (where \" and \\ escape) or 'single' quotes.
// A bare "/patchpanda" is the help command.
//
// The first command in a comment wins, even when it is malformed and a later
// one is not: a comment runs at most one command, and what a person sees
// first is what runs.
func Parse(body string) (Command, bool) {
	var md markdown
	for i, line := range strings.Split(body, "\n") {
		rest, ok := md.command(strings.TrimSuffix(line, "\r"))
		if !ok {
			continue
		}
		c := parseArgs(rest)
		c.Line = i + 1
		return c, true
	}
	return Command{}, false
}

// markdown tracks, line by line, the parts of a comment whose lines cannot
// hold a command because GitHub renders them as code or hides them.
type markdown struct {
	fence     string // the open code fence ("```", "~~~~", …), "" when none
	inComment bool   // inside an HTML comment
}

// command returns what follows the keyword when line is a command line.
func (m *markdown) command(line string) (string, bool) {
	if m.fence != "" {
		if closesFence(line, m.fence) {
			m.fence = ""
		}
		return "", false
	}
	if m.inComment {
		end := strings.Index(line, "-->")
		if end < 0 {
			return "", false
		}
		m.inComment = false
		// Text after the comment on the same line is not at a line start.
		return "", false
	}
	visible, open := stripHTMLComments(line)
	m.inComment = open

	width, text := indentation(visible)
	if width >= 4 {
		return "", false // an indented code block, or a paragraph's continuation
	}
	if f := openingFence(text); f != "" {
		m.fence = f
		return "", false
	}
	if len(text) < len(Keyword) || !strings.EqualFold(text[:len(Keyword)], Keyword) {
		return "", false
	}
	rest := text[len(Keyword):]
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && !unicode.IsSpace(r) {
		return "", false // "/patchpandas", "/patchpanda:" and the like
	}
	return rest, true
}

// indentation returns the width of line's leading spaces and tabs, counting a
// tab to the next multiple of four as CommonMark does, and the text after it.
func indentation(line string) (int, string) {
	width := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			width++
		case '\t':
			width += 4 - width%4
		default:
			return width, line[i:]
		}
	}
	return width, ""
}

// openingFence returns the fence that text opens, or "".
func openingFence(text string) string {
	if !strings.HasPrefix(text, "```") && !strings.HasPrefix(text, "~~~") {
		return ""
	}
	n := 0
	for n < len(text) && text[n] == text[0] {
		n++
	}
	// A backtick fence's info string may not hold a backtick: "```x```" is
	// inline code, not a fence.
	if text[0] == '`' && strings.Contains(text[n:], "`") {
		return ""
	}
	return text[:n]
}

// closesFence reports whether line closes the code block opened by fence:
// the same character at least as many times, and nothing else.
func closesFence(line, fence string) bool {
	width, text := indentation(line)
	if width >= 4 {
		return false
	}
	n := 0
	for n < len(text) && text[n] == fence[0] {
		n++
	}
	return n >= len(fence) && strings.TrimLeft(text[n:], " \t") == ""
}

// stripHTMLComments removes the HTML comments in line and reports whether one
// is left open at its end.
func stripHTMLComments(line string) (string, bool) {
	var b strings.Builder
	for {
		start := strings.Index(line, "<!--")
		if start < 0 {
			b.WriteString(line)
			return b.String(), false
		}
		b.WriteString(line[:start])
		end := strings.Index(line[start+4:], "-->")
		if end < 0 {
			return b.String(), true
		}
		line = line[start+4+end+3:]
	}
}

// parseArgs parses what follows the keyword on a command line.
func parseArgs(rest string) Command {
	args, err := split(rest)
	if err != "" {
		return Command{Err: err}
	}
	if len(args) == 0 {
		return Command{Name: Help}
	}
	word, args := args[0], args[1:]
	name := Name(strings.ToLower(word))
	if isHelpFlag(word) {
		name = Help
	}
	if !slices.Contains(Names(), name) {
		c := Command{Unknown: clip(word, 64), Suggestion: Name(suggest(strings.ToLower(word), names()))}
		c.Err = fmt.Sprintf("unknown command %q", c.Unknown)
		if c.Suggestion != "" {
			c.Err += fmt.Sprintf("; did you mean %q?", c.Suggestion)
		}
		return c
	}
	if name == Generate {
		return parseGenerate(args)
	}
	for _, a := range args {
		switch {
		case isHelpFlag(a):
			return Command{Name: Help}
		case isFlag(a):
			return Command{Name: name, Err: unknownFlag(name, a, nil)}
		}
	}
	if len(args) > 0 {
		return Command{Name: name, Err: fmt.Sprintf("%s takes no arguments, got %q", name, clip(args[0], 64))}
	}
	return Command{Name: name}
}

func parseGenerate(args []string) Command {
	c := Command{Name: Generate}
	seenFramework, flagsDone := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if flagsDone || !isFlag(a) {
			if msg := checkPath(a); msg != "" {
				return Command{Name: Generate, Err: msg}
			}
			if len(c.Paths) == MaxPaths {
				return Command{Name: Generate, Err: fmt.Sprintf("generate takes at most %d paths", MaxPaths)}
			}
			c.Paths = append(c.Paths, a)
			continue
		}
		switch {
		case a == "--":
			flagsDone = true
			continue
		case isHelpFlag(a):
			return Command{Name: Help}
		}
		value, hasValue := "", false
		flag, v, inline := strings.Cut(a, "=")
		if flag != frameworkFlag {
			return Command{Name: Generate, Err: unknownFlag(Generate, flag, []string{frameworkFlag})}
		}
		switch {
		case inline:
			value, hasValue = v, v != ""
		case i+1 < len(args) && !isFlag(args[i+1]):
			i++
			value, hasValue = args[i], true
		}
		if !hasValue {
			return Command{Name: Generate, Err: frameworkFlag + " needs a value, as in --framework NAME"}
		}
		if seenFramework {
			return Command{Name: Generate, Err: frameworkFlag + " is given more than once"}
		}
		if hasControl(value) || utf8.RuneCountInString(value) > 64 {
			return Command{Name: Generate, Err: fmt.Sprintf("%s value %q is not a framework name", frameworkFlag, clip(value, 64))}
		}
		seenFramework, c.Framework = true, value
	}
	return c
}

func isFlag(a string) bool     { return len(a) > 1 && a[0] == '-' }
func isHelpFlag(a string) bool { return a == "--help" || a == "-h" }

func unknownFlag(cmd Name, flag string, known []string) string {
	flag = clip(flag, 64)
	msg := fmt.Sprintf("unknown flag %q for %s", flag, cmd)
	if s := suggest(flag, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(known) == 0 {
		msg += fmt.Sprintf(" (%s takes no flags)", cmd)
	} else {
		msg += fmt.Sprintf(" (known flags: %s)", strings.Join(known, ", "))
	}
	return msg
}

// checkPath returns why p cannot be a path to generate tests for, or "". A
// path is relative to the repository root and must stay inside it.
func checkPath(p string) string {
	switch {
	case p == "":
		return "a path is empty"
	case hasControl(p):
		return fmt.Sprintf("path %q holds a control character", clip(p, 200))
	case strings.HasPrefix(p, "/"):
		return fmt.Sprintf("path %q must be relative to the repository root", clip(p, 200))
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Sprintf("path %q leaves the repository", clip(p, 200))
	}
	return ""
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0
}

// clip shortens s to at most n runes, so that a long word a user typed stays
// short when quoted back to them.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func names() []string {
	var out []string
	for _, n := range Names() {
		out = append(out, string(n))
	}
	return out
}

// Quote pairs a command line may use. Curly quotes are there because phone
// keyboards type them.
var quotePairs = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '‘': '’'}

// split splits a command line into words, shell style: words are separated
// by white space, and quotes group, as in "docs/user guide" or 'x y'. Inside
// double quotes, \" and \\ stand for " and \. It returns a message when a
// quote is not closed.
func split(s string) ([]string, string) {
	var (
		words []string
		word  strings.Builder
		inTok bool
	)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			if inTok {
				words = append(words, word.String())
				word.Reset()
				inTok = false
			}
			i += size
			continue
		}
		inTok = true
		closing, isQuote := quotePairs[r]
		if !isQuote {
			word.WriteString(s[i : i+size])
			i += size
			continue
		}
		i += size
		for {
			if i >= len(s) {
				return nil, fmt.Sprintf("a quote (%c) is not closed", r)
			}
			q, qsize := utf8.DecodeRuneInString(s[i:])
			if q == closing {
				i += qsize
				break
			}
			if r == '"' && q == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				word.WriteByte(s[i+1])
				i += 2
				continue
			}
			word.WriteString(s[i : i+qsize])
			i += qsize
		}
	}
	if inTok {
		words = append(words, word.String())
	}
	return words, ""
}

// String returns the command as a user would type it, quoting arguments
// where needed, e.g. `/patchpanda generate --framework testify "a b"`.
// Parsing the result gives the same command back.
func (c Command) String() string {
	if c.Unknown != "" {
		return Keyword + " " + quote(c.Unknown)
	}
	var b strings.Builder
	b.WriteString(Keyword + " " + string(c.Name))
	if c.Framework != "" {
		b.WriteString(" " + frameworkFlag + " " + quote(c.Framework))
	}
	if slices.ContainsFunc(c.Paths, isFlag) {
		b.WriteString(" --")
	}
	for _, p := range c.Paths {
		b.WriteString(" " + quote(p))
	}
	return b.String()
}

// quote returns s as one word for split.
func quote(s string) string {
	special := func(r rune) bool {
		_, q := quotePairs[r]
		return q || unicode.IsSpace(r) || r == '\\' || r == '’' || r == '”'
	}
	if s != "" && strings.IndexFunc(s, special) < 0 {
		return s
	}
	if !strings.ContainsAny(s, "'") {
		return "'" + s + "'"
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
