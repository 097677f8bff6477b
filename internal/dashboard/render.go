package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/config"
)

// view is what every page template gets: the person, the CSRF token for
// its forms, and the page's own data.
type view struct {
	Title string
	User  *user
	CSRF  string
	Admin bool
	Data  any
	// Static is where the stylesheet and script are served.
	Static string
}

type errorPage struct {
	Title, Message string
	Retry          bool // offer to sign in again
}

var funcs = template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", v) },
	"delta": func(v *float64) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf("%+.1f", *v)
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"usd": func(micros int64) string { return fmt.Sprintf("$%d.%02d", micros/1e6, micros%1e6/1e4) },
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02 15:04 UTC")
			}
		}
		return ""
	},
	"pathEscape": func(s string) string {
		parts := strings.Split(s, "/")
		for i, p := range parts {
			parts[i] = url.PathEscape(p)
		}
		return strings.Join(parts, "/")
	},
	"add": func(a, b int) int { return a + b },
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", n, err)
		}
		out[base] = t
	}
	return out, nil
}

// render writes page with data, buffered, so a template error never sends
// half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, u *user, data any) {
	v := view{User: u, Data: data, Static: "/ui/static"}
	if u != nil {
		v.CSRF = u.CSRFToken
		v.Admin = u.Role("") == config.DashboardAdmin
	}
	if e, ok := data.(errorPage); ok {
		v.Title = e.Title
	}
	var buf bytes.Buffer
	if err := d.pages[page].Execute(&buf, v); err != nil {
		d.log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// chartPoint is one commit on the trend chart.
type chartPoint struct {
	X, Y    float64
	SHA     string
	Percent float64
}

// trend lays out percents (oldest first) on a width×height SVG, with room
// for labels; the template draws it as a polyline with a dot per commit.
type trend struct {
	Width, Height float64
	Points        []chartPoint
	Polyline      string
	Min, Max      float64
}

func newTrend(shas []string, percents []float64) trend {
	t := trend{Width: 640, Height: 160, Min: 100, Max: 0}
	if len(percents) == 0 {
		return t
	}
	for _, p := range percents {
		t.Min, t.Max = math.Min(t.Min, p), math.Max(t.Max, p)
	}
	// Keep a little headroom so a flat line sits in the middle.
	lo, hi := math.Max(0, math.Floor(t.Min-5)), math.Min(100, math.Ceil(t.Max+5))
	const padX, padY = 40, 16
	var pts []string
	for i, p := range percents {
		x := padX + (t.Width-2*padX)*0.5
		if len(percents) > 1 {
			x = padX + (t.Width-2*padX)*float64(i)/float64(len(percents)-1)
		}
		y := t.Height - padY - (t.Height-2*padY)*(p-lo)/math.Max(hi-lo, 1)
		t.Points = append(t.Points, chartPoint{X: x, Y: y, SHA: shas[i], Percent: p})
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
	}
	t.Polyline = strings.Join(pts, " ")
	t.Min, t.Max = lo, hi
	return t
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
