// Package dashboard serves the relay's web pages under /ui/: single
// sign-on with OpenID Connect, server-side sessions, and pages over the
// same services the REST API serves (coverage, jobs, audit, billing, API
// keys). It also serves /setup, GitHub's App manifest flow. Pages are
// html/template with embedded assets: no build step, no CDN, no inline
// script.
package dashboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// OIDC is the single sign-on client's configuration
// (PATCHPANDA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _REDIRECT_URL).
type OIDC struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
}

// Configured reports whether every setting is present.
func (o OIDC) Configured() bool {
	return o.Issuer != "" && o.ClientID != "" && o.ClientSecret != "" && o.RedirectURL != ""
}

// Sessions stores sign-in sessions (internal/store).
type Sessions interface {
	CreateSession(ctx context.Context, idHash []byte, s store.Session) error
	SessionByHash(ctx context.Context, idHash []byte) (store.Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
}

// Coverage is what the pages read of coverage: the same service calls as
// GET /api/coverage and the REST API's coverage views.
type Coverage interface {
	List(ctx context.Context, f coverage.ListParams) (coverage.List, error)
	httpapi.CoverageViews
}

// Billing lists billing projects with this month's spending.
type Billing interface {
	Projects(ctx context.Context) ([]patchpanda.BillingProjectStatus, error)
}

// Options are what New needs. Zero services leave their pages answering
// 404.
type Options struct {
	Logger *slog.Logger
	// OIDC or GitHub (not both) is how people sign in.
	OIDC   OIDC
	GitHub GitHubOAuth
	// GitHubUsers asks GitHub who signed in (with GitHub only).
	GitHubUsers GitHubUsers
	// HTTPClient reaches the identity provider (tests: its httptest client).
	HTTPClient *http.Client
	Grants     []config.DashboardGrant
	Sessions   Sessions
	Coverage   Coverage
	// Jobs is the REST API's job service: the dashboard's replay goes
	// through the same call as POST /api/jobs/{id}/replay.
	Jobs    httpapi.JobService
	Keys    httpapi.KeyService
	Audit   httpapi.AuditLog
	Billing Billing
	// IdleTimeout ends a session unused this long (default 8h); MaxAge
	// ends any session this long after sign-in (default 7 days).
	IdleTimeout, MaxAge time.Duration
	Now                 func() time.Time
}

// Dashboard serves the pages and the sign-in flow.
type Dashboard struct {
	opts   Options
	log    *slog.Logger
	pages  map[string]*template.Template
	idp    identityProvider
	secure bool // cookies are Secure: the redirect URL is https
}

// New checks the options and parses the templates. It does not contact the
// identity provider: discovery happens on the first sign-in, so a relay
// starts while its IdP is down. It returns an error naming a missing
// setting or a broken template.
func New(opts Options) (*Dashboard, error) {
	if opts.OIDC.Configured() == opts.GitHub.Configured() {
		return nil, errors.New("dashboard: sign-in needs either PATCHPANDA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL, or GitHub's OAuth App (PATCHPANDA_GITHUB_OAUTH_CLIENT_ID, _CLIENT_SECRET, _REDIRECT_URL), not both")
	}
	if opts.GitHub.Configured() && opts.GitHubUsers == nil {
		return nil, errors.New("dashboard: signing in with GitHub needs the GitHub App configured, to ask GitHub who signed in")
	}
	if opts.Sessions == nil {
		return nil, errors.New("dashboard: no session store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 8 * time.Hour
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{opts: opts, log: opts.Logger, pages: pages}
	if opts.OIDC.Configured() {
		d.idp = &oidcProvider{cfg: opts.OIDC, client: opts.HTTPClient, now: opts.Now}
		d.secure = strings.HasPrefix(opts.OIDC.RedirectURL, "https://")
	} else {
		var teams []string
		for _, g := range opts.Grants {
			for _, group := range g.Groups {
				if strings.Count(group, "/") == 1 && !slices.Contains(teams, group) {
					teams = append(teams, group)
				}
			}
		}
		d.idp = newGitHubProvider(opts.GitHub, opts.GitHubUsers, teams, opts.HTTPClient)
		d.secure = strings.HasPrefix(opts.GitHub.RedirectURL, "https://")
	}
	return d, nil
}

// Routes returns an httpapi.Server.Routes entry that serves the sign-in
// flow and the pages.
func (d *Dashboard) Routes() func(*http.ServeMux, *httpapi.Server) {
	return func(mux *http.ServeMux, _ *httpapi.Server) { d.Register(mux) }
}

// Register adds the dashboard's routes to mux.
func (d *Dashboard) Register(mux *http.ServeMux) {
	mux.Handle("GET /ui/static/", headers(false, http.StripPrefix("/ui/static/", assets())))
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	mux.Handle("GET /auth/login", headers(true, http.HandlerFunc(d.login)))
	mux.Handle("GET /auth/callback", headers(true, http.HandlerFunc(d.callback)))
	mux.Handle("POST /auth/logout", headers(true, http.HandlerFunc(d.logout)))
	page := func(pattern string, min config.DashboardRole, h pageFunc) {
		mux.Handle(pattern, headers(true, d.page(min, h)))
	}
	page("GET /ui/{$}", config.DashboardViewer, d.repositories)
	page("GET /ui/repos/{owner}/{name}", config.DashboardViewer, d.repository)
	page("GET /ui/repos/{owner}/{name}/commits/{sha}", config.DashboardViewer, d.commit)
	page("GET /ui/repos/{owner}/{name}/commits/{sha}/files/{path...}", config.DashboardViewer, d.file)
	page("GET /ui/repos/{owner}/{name}/pulls/{number}", config.DashboardViewer, d.pull)
	page("GET /ui/jobs", config.DashboardViewer, d.jobs)
	page("GET /ui/jobs/{id}", config.DashboardViewer, d.job)
	page("POST /ui/jobs/{id}/replay", config.DashboardOperator, d.replay)
	page("GET /ui/audit", config.DashboardAdmin, d.audit)
	page("GET /ui/billing", config.DashboardAdmin, d.billing)
	page("GET /ui/keys", config.DashboardAdmin, d.keys)
	page("POST /ui/keys", config.DashboardAdmin, d.createKey)
	page("POST /ui/keys/{id}/revoke", config.DashboardAdmin, d.revokeKey)
	mux.Handle("/ui/", headers(true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.render(w, r, http.StatusNotFound, "error", nil, errorPage{Title: "Not found", Message: "There is no page at " + r.URL.Path + "."})
	})))
}

// assets serves the embedded stylesheet and script, and no directory
// listing.
func assets() http.Handler {
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// headers sets the security headers every answer carries: a CSP that
// allows only the dashboard's own script and style files (no inline
// script), no framing, no referrer leaving the site, and for pages that
// show a signed-in person's data, no caching.
func headers(private bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if private {
			h.Set("Cache-Control", "no-store")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
		next.ServeHTTP(w, r)
	})
}

// hashID is what the store keeps of a session id.
func hashID(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// user is the signed-in person of a request, with what the grants give.
type user struct {
	store.Session
	idHash []byte
	grants []config.DashboardGrant // the grants naming this person
}

// Name is how pages show the person.
func (u *user) Display() string {
	for _, s := range []string{u.Name, u.Email, u.Login, u.Subject} {
		if s != "" {
			return s
		}
	}
	return "signed in"
}

// Actor names the person in audit events and job requests.
func (u *user) Actor() string {
	switch {
	case u.Email != "":
		return "sso:" + u.Email
	case u.Login != "":
		return "sso:" + u.Login
	}
	return "sso:" + u.Subject
}

// Principal is the person as the job service sees them (a replay's
// decision and audit): kind "sso", named as Actor names them. The
// dashboard has already checked the operator role; the decision adds the
// job's repository and the budget.
func (u *user) Principal() *patchpanda.Principal {
	kind, name, _ := strings.Cut(u.Actor(), ":")
	return &patchpanda.Principal{Kind: patchpanda.PrincipalKind(kind), Name: name}
}

// Role returns the strongest role any grant gives on repo; with repo ""
// only grants that cover every repository count.
func (u *user) Role(repo string) config.DashboardRole {
	var best config.DashboardRole
	for _, g := range u.grants {
		covers := len(g.Repos) == 0 || repo != "" && config.MatchRepo(g.Repos, repo)
		if covers && g.Role.Rank() > best.Rank() {
			best = g.Role
		}
	}
	return best
}

// Sees reports whether any grant shows the person repo.
func (u *user) Sees(repo string) bool { return u.Role(repo) != "" }

// Best is the strongest role on any repository: what decides whether a
// page opens at all.
func (u *user) Best() config.DashboardRole {
	var best config.DashboardRole
	for _, g := range u.grants {
		if g.Role.Rank() > best.Rank() {
			best = g.Role
		}
	}
	return best
}

// Can reports whether the person holds at least min on repo.
func (u *user) Can(min config.DashboardRole, repo string) bool {
	return u.Role(repo).Rank() >= min.Rank()
}

// grantsFor returns the grants naming the person with these claims.
func (d *Dashboard) grantsFor(s store.Session) []config.DashboardGrant {
	var out []config.DashboardGrant
	for _, g := range d.opts.Grants {
		if g.Matches(s.Subject, s.Email, s.Login, s.Groups) {
			out = append(out, g)
		}
	}
	return out
}

// forbidden is the error of a role that does not reach.
func forbidden(format string, args ...any) error {
	return patchpanda.Errorf(patchpanda.EFORBIDDEN, format, args...)
}
