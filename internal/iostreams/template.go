package iostreams

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/cli/go-gh/v2/pkg/tableprinter"
	"github.com/cli/go-gh/v2/pkg/text"
)

// jsonTemplate formats JSON with a Go template and the functions gh
// documents for --template (`gh help formatting`): autocolor, color,
// hyperlink, join, pluck, tablerow, tablerender, timeago, timefmt and
// truncate, and sprig's contains, hasPrefix, hasSuffix, regexMatch and
// replace. It does what go-gh's template package does (the tests hold the
// two to the same output) without linking sprig for five one-line string
// functions: sprig brings semver, decimal and others whose package
// initialisation took a tenth of every ppctl command's start-up. For the
// same reason the colours are written here, not taken from mgutz/ansi,
// which builds tables of all 256 colours when the program starts.
type jsonTemplate struct {
	out   io.Writer
	width int
	color bool
	now   time.Time
	// table collects tablerow's rows until tablerender or the end.
	table tableprinter.TablePrinter
	tmpl  *template.Template
}

// newJSONTemplate returns a template writing to out. Tables are aligned to
// width whether or not out is a terminal, as gh's are; color says whether
// autocolor colours; timeago counts from now.
func newJSONTemplate(out io.Writer, width int, color bool, now time.Time) *jsonTemplate {
	return &jsonTemplate{out: out, width: width, color: color, now: now, table: tableprinter.New(out, true, width)}
}

// parse parses src; it returns text/template's error.
func (t *jsonTemplate) parse(src string) error {
	autocolor := colorize
	if !t.color {
		autocolor = func(_ string, v any) (string, error) { return scalarString(v) }
	}
	funcs := template.FuncMap{
		"autocolor":   autocolor,
		"color":       colorize,
		"hyperlink":   hyperlink,
		"join":        join,
		"pluck":       pluck,
		"tablerow":    t.tableRow,
		"tablerender": t.tableRender,
		"timeago":     t.timeAgo,
		"timefmt":     timeFormat,
		"truncate":    truncate,
		// sprig's, with sprig's argument order: the haystack last, so
		// that they read well at the end of a pipeline.
		"contains":   func(substr, s string) bool { return strings.Contains(s, substr) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"regexMatch": func(re, s string) bool { ok, _ := regexp.MatchString(re, s); return ok },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	}
	tmpl, err := template.New("").Funcs(funcs).Parse(src)
	if err != nil {
		return err
	}
	t.tmpl = tmpl
	return nil
}

// execute runs the parsed template on the JSON document data, then
// prints the rows tablerow added since the last tablerender. It returns
// the decoding, template or writing error.
func (t *jsonTemplate) execute(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if err := t.tmpl.Execute(t.out, v); err != nil {
		return err
	}
	_, err := t.tableRender()
	return err
}

func (t *jsonTemplate) tableRow(fields ...any) (string, error) {
	for _, f := range fields {
		s, err := scalarString(f)
		if err != nil {
			return "", fmt.Errorf("failed to write table row: %v", err)
		}
		t.table.AddField(s, tableprinter.WithTruncate(firstLine))
	}
	t.table.EndRow()
	return "", nil
}

// tableRender prints the rows so far and starts a new table, so that a
// template can print several.
func (t *jsonTemplate) tableRender() (string, error) {
	err := t.table.Render()
	t.table = tableprinter.New(t.out, true, t.width)
	if err != nil {
		return "", fmt.Errorf("failed to render table: %v", err)
	}
	return "", nil
}

func (t *jsonTemplate) timeAgo(stamp string) (string, error) {
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return "", err
	}
	return ago(t.now.Sub(at)), nil
}

// ago says how long d is, in the largest whole unit, as gh's timeago
// does: "just now", "1 minute ago", "3 days ago", "2 years ago".
func ago(d time.Duration) string {
	const day = 24 * time.Hour
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		n, unit = int(d.Minutes()), "minute"
	case d < day:
		n, unit = int(d.Hours()), "hour"
	case d < 30*day:
		n, unit = int(d.Hours())/24, "day"
	case d < 365*day:
		n, unit = int(d.Hours())/24/30, "month"
	default:
		n, unit = int(d.Hours()/24/365), "year"
	}
	return text.Pluralize(n, unit) + " ago"
}

func timeFormat(layout, stamp string) (string, error) {
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return "", err
	}
	return at.Format(layout), nil
}

func colorize(style string, v any) (string, error) {
	s, err := scalarString(v)
	if err != nil {
		return "", err
	}
	return paint(s, style), nil
}

const ansiReset = "\x1b[0m"

// paint wraps s in the escape sequences of style, as gh's color does:
// "FG[+ATTRS][:BG[+h]]", each colour a name (black, red, green, yellow,
// blue, magenta, cyan, white, default; any other name is black) or a
// number of the 256-colour palette, ATTRS letters of b (bold), d (dim),
// B (blink), u (underline), i (inverse), s (strikethrough) and h (bright).
// "reset" and "off" are as gh has them, and "" leaves s alone.
func paint(s, style string) string {
	switch style {
	case "":
		return s
	case "reset":
		return ansiReset + s + ansiReset
	case "off":
		return s + ansiReset
	}
	// Anything after a second ':' or '+' is ignored, as gh does.
	fgbg := strings.Split(style, ":")
	fg, fgAttrs := splitAttrs(fgbg[0])
	var b strings.Builder
	b.WriteString("\x1b[0;")
	for _, a := range []struct {
		letter string
		code   string
	}{{"b", "1;"}, {"d", "2;"}, {"B", "5;"}, {"u", "4;"}, {"i", "7;"}, {"s", "9;"}} {
		if strings.Contains(fgAttrs, a.letter) {
			b.WriteString(a.code)
		}
	}
	writeColor(&b, fg, "38", strings.Contains(fgAttrs, "h"), 30, 90)
	if len(fgbg) > 1 {
		if bg, bgAttrs := splitAttrs(fgbg[1]); bg != "" {
			writeColor(&b, bg, "48", strings.Contains(bgAttrs, "h"), 40, 100)
		}
	}
	out := b.String()
	return out[:len(out)-1] + "m" + s + ansiReset
}

// splitAttrs splits "red+bh" into the colour and the attribute letters.
func splitAttrs(part string) (color, attrs string) {
	fields := strings.Split(part, "+")
	if len(fields) > 1 {
		attrs = fields[1]
	}
	return fields[0], attrs
}

// writeColor writes color's SGR parameter and a ';': the palette form
// (extended;5;N) for a number, else base (or bright, when asked) plus the
// colour's index.
func writeColor(b *strings.Builder, color, extended string, bright bool, base, brightBase int) {
	if n, err := strconv.Atoi(color); err == nil {
		fmt.Fprintf(b, "%s;5;%d;", extended, n)
		return
	}
	if bright {
		base = brightBase
	}
	fmt.Fprintf(b, "%d;", base+colorIndex(color))
}

// colorIndex is the SGR offset of a colour name: 0 for black and for a
// name it does not know, 9 for the terminal's default.
func colorIndex(name string) int {
	switch name {
	case "red":
		return 1
	case "green":
		return 2
	case "yellow":
		return 3
	case "blue":
		return 4
	case "magenta":
		return 5
	case "cyan":
		return 6
	case "white":
		return 7
	case "default":
		return 9
	default:
		return 0
	}
}

// hyperlink makes label (or link itself, when label is empty) a link on
// terminals that know OSC 8.
func hyperlink(link, label string) string {
	if label == "" {
		label = link
	}
	return "\x1b]8;;" + link + "\x1b\\" + label + "\x1b]8;;\x1b\\"
}

func join(sep string, items []any) (string, error) {
	parts := make([]string, 0, len(items))
	for _, item := range items {
		s, err := scalarString(item)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, sep), nil
}

// pluck returns the field of each object of items; it returns an error
// for an item that is not an object.
func pluck(field string, items []any) ([]any, error) {
	var out []any
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d is %T, not an object", i, item)
		}
		out = append(out, obj[field])
	}
	return out, nil
}

func truncate(width int, v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return text.Truncate(width, s), nil
	default:
		return "", fmt.Errorf("invalid value; expected string, got %T", v)
	}
}

// firstLine fits s to width, keeping only its first line (marked with an
// ellipsis when there were more).
func firstLine(width int, s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + "..."
	}
	return text.Truncate(width, s)
}

// scalarString prints a JSON scalar for people: whole numbers without a
// fraction, others with two decimals, null as nothing. It returns an error
// for an array or an object.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		if math.Trunc(x) == x {
			return strconv.FormatFloat(x, 'f', 0, 64), nil
		}
		return strconv.FormatFloat(x, 'f', 2, 64), nil
	default:
		return "", fmt.Errorf("cannot convert type to string: %v", x)
	}
}
