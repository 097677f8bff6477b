package iostreams

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	ghtemplate "github.com/cli/go-gh/v2/pkg/template"
	"github.com/google/go-cmp/cmp"
	"github.com/mgutz/ansi"
)

// templateData is a list command's JSON: every kind of JSON value, a
// multi-line string, and timestamps old enough that both "now"s agree.
const templateData = `[
  {"name": "alpha", "count": 3, "ratio": 0.125, "ok": true, "none": null,
   "at": "2021-03-04T05:06:07Z", "url": "https://example.com/1",
   "note": "first line\nsecond line", "tags": ["a", "b"], "owner": {"login": "mona"}},
  {"name": "a much longer name than the table has room for, to be truncated", "count": 1200, "ratio": 99.999, "ok": false, "none": null,
   "at": "2019-12-31T23:59:59+02:00", "url": "https://example.com/2",
   "note": "one line", "tags": [], "owner": {"login": "hubot"}}
]`

// TestTemplateMatchesGoGH runs each template through jsonTemplate and
// through go-gh's template package, which ppctl used before, and wants the
// same output and the same error: --template behaves as it did, and as
// gh's does.
func TestTemplateMatchesGoGH(t *testing.T) {
	tests := []struct{ name, src string }{
		{"fields", `{{range .}}{{.name}} {{.count}} {{.ratio}} {{.ok}} {{.none}}{{"\n"}}{{end}}`},
		{"a table of every scalar", `{{range .}}{{tablerow .name .count .ratio .ok .none}}{{end}}`},
		{"a table's rows cut to their first line", `{{range .}}{{tablerow .note .url}}{{end}}`},
		{"two tables", `{{range .}}{{tablerow .name}}{{end}}{{tablerender}}---{{"\n"}}{{range .}}{{tablerow .count .owner.login}}{{end}}`},
		{"text after a rendered table", `{{range .}}{{tablerow .count}}{{end}}{{tablerender}}done{{"\n"}}`},
		{"join and pluck", `{{join ", " (pluck "name" .)}} {{join "+" (pluck "count" .)}}`},
		{"join of an empty list", `{{range .}}[{{join "," .tags}}]{{end}}`},
		{"pluck of a missing field", `{{join "," (pluck "nothing" .)}}`},
		{"color", `{{range .}}{{color "red+b:white" .name}} {{color "green" .count}} {{color "off" .ok}}{{end}}`},
		{"autocolor", `{{range .}}{{autocolor "yellow+h" .name}}{{end}}`},
		{"hyperlink", `{{range .}}{{hyperlink .url .name}} {{hyperlink .url ""}}{{end}}`},
		{"timefmt", `{{range .}}{{timefmt "2006-01-02 15:04 MST" .at}};{{end}}`},
		{"timeago", `{{range .}}{{timeago .at}};{{end}}`},
		{"truncate", `{{range .}}{{truncate 10 .name}}|{{truncate 3 .none}}|{{end}}`},
		{"sprig's string functions", `{{range .}}{{contains "long" .name}} {{hasPrefix "a" .name}} {{hasSuffix "ed" .name}} {{regexMatch "^a.*a$" .name}} {{replace "a" "4" .name}};{{end}}`},
		{"a bad regular expression matches nothing", `{{range .}}{{regexMatch "(" .name}}{{end}}`},
		{"a parse error", `{{range .}}{{.name}`},
		{"an unknown function", `{{nosuch .}}`},
		{"truncate of a number", `{{range .}}{{truncate 3 .count}}{{end}}`},
		{"timefmt of a non-time", `{{range .}}{{timefmt "2006" .name}}{{end}}`},
		{"timeago of a non-time", `{{range .}}{{timeago .name}}{{end}}`},
		{"join of objects", `{{join "," .}}`},
		{"tablerow of an object", `{{range .}}{{tablerow .owner}}{{end}}`},
		{"color of a list", `{{range .}}{{color "red" .tags}}{{end}}`},
		{"contains of a number", `{{range .}}{{contains "1" .count}}{{end}}`},
	}
	for _, tt := range tests {
		for _, color := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/color=%v", tt.name, color), func(t *testing.T) {
				want, wantErr := runGoGHTemplate(tt.src, color)
				got, gotErr := runTemplate(tt.src, color)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("output (-go-gh +ours):\n%s", diff)
				}
				if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
					t.Errorf("error = %v, go-gh's %v", gotErr, wantErr)
				}
			})
		}
	}
}

func runGoGHTemplate(src string, color bool) (string, error) {
	var out bytes.Buffer
	tmpl := ghtemplate.New(&out, 40, color)
	if err := tmpl.Parse(src); err != nil {
		return out.String(), err
	}
	if err := tmpl.Execute(bytes.NewReader([]byte(templateData))); err != nil {
		return out.String(), err
	}
	err := tmpl.Flush()
	return out.String(), err
}

func runTemplate(src string, color bool) (string, error) {
	var out bytes.Buffer
	tmpl := newJSONTemplate(&out, 40, color, time.Now())
	if err := tmpl.parse(src); err != nil {
		return out.String(), err
	}
	err := tmpl.execute([]byte(templateData))
	return out.String(), err
}

func TestPluckOfANonObjectIsAnError(t *testing.T) {
	_, err := runTemplate(`{{pluck "name" (index . 0).tags}}`, false)
	if want := "item 0 is string, not an object"; err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error = %v, want one saying %q", err, want)
	}
}

func TestAgo(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59*time.Minute + 59*time.Second, "59 minutes ago"},
		{time.Hour, "1 hour ago"},
		{23 * time.Hour, "23 hours ago"},
		{day, "1 day ago"},
		{29 * day, "29 days ago"},
		{30 * day, "1 month ago"},
		{364 * day, "12 months ago"},
		{365 * day, "1 year ago"},
		{3 * 365 * day, "3 years ago"},
	}
	for _, tt := range tests {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestPrintJSONFormatsWithTheTemplate checks PrintJSON's --template path:
// the chosen fields reach the template, tables are aligned even when
// piped, as gh's are, and errors name --template.
func TestPrintJSONFormatsWithTheTemplate(t *testing.T) {
	type row struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	rows := []row{{"alpha", 3}, {"b", 1200}}
	io, _, out, _ := Test()
	if err := io.PrintJSON(rows, Export{Fields: []string{"name"}, Template: `{{range .}}{{tablerow .name .count}}{{end}}`}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("alpha  \nb      \n", out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if err := io.PrintJSON(rows, Export{Template: `{{.nosuch`}); err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte("--template: ")) {
		t.Errorf("a bad template: error %v, want one starting with --template:", err)
	}
}

// colorStyles are styles gh's documentation shows and the corners of the
// syntax: attributes, bright colours, the palette, backgrounds, unknown
// names and stray separators.
var colorStyles = []string{
	"", "off", "reset", "red", "green+b", "yellow+h", "blue+bh", "magenta+Budis", "cyan+bdBuish",
	"white:black", "black+h:white+h", "default", "default:default", "208", "208+b:17", "0:255",
	"-1", "007", "99999999999999999999", "purple", "purple:purple", "+b", ":blue", "red:", "red:+h",
	"red:blue:green", "red+b+u", "red++b", "Red", " red", "red+x",
}

// TestPaintMatchesMgutzAnsi holds paint to mgutz/ansi's Color, which go-gh's
// color function used.
func TestPaintMatchesMgutzAnsi(t *testing.T) {
	for _, style := range colorStyles {
		if got, want := paint("text", style), ansi.Color("text", style); got != want {
			t.Errorf("paint(%q) = %q, mgutz/ansi's %q", style, got, want)
		}
	}
}

func FuzzPaintMatchesMgutzAnsi(f *testing.F) {
	for _, style := range colorStyles {
		f.Add(style)
	}
	f.Fuzz(func(t *testing.T, style string) {
		if got, want := paint("text", style), ansi.Color("text", style); got != want {
			t.Errorf("paint(%q) = %q, mgutz/ansi's %q", style, got, want)
		}
	})
}
