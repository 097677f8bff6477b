package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Keeper seals secrets (internal/secrets).
type Keeper interface {
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
}

// SetupOptions configure the App manifest flow.
type SetupOptions struct {
	Logger *slog.Logger
	// APIURL is the GitHub REST base (PATCHPANDA_GITHUB_API_URL); the web
	// host the manifest is posted to is derived from it.
	APIURL     string
	HTTPClient *http.Client
	Secrets    Keeper
	// Dir is where the sealed private key and webhook secret are written.
	Dir string
	// Admin accepts an admin API key for requests not from loopback.
	Admin interface {
		Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error)
	}
	// Audit records the App's creation; may be nil.
	Audit interface {
		AppendAudit(ctx context.Context, ev patchpanda.AuditEvent) (patchpanda.AuditEvent, error)
	}
}

// Setup serves /setup: GitHub's App manifest flow, for a relay started
// without an App. It registers an App with the permissions and events the
// relay needs, stores the App's private key and webhook secret sealed by
// the secrets keeper, and says what to set for the next start. Once an App
// was created, it refuses to create another until the relay restarts.
type Setup struct {
	opts  SetupOptions
	log   *slog.Logger
	pages map[string]*template.Template
	web   string // GitHub's web origin, e.g. https://github.com

	mu   sync.Mutex
	done bool
}

// NewSetup returns the manifest flow's handlers. It returns an error for an
// API URL it cannot derive GitHub's web address from.
func NewSetup(opts SetupOptions) (*Setup, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	web, err := WebURL(opts.APIURL)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Setup{opts: opts, log: opts.Logger, pages: pages, web: web}, nil
}

// WebURL returns GitHub's web origin for a REST base URL: github.com for
// api.github.com, https://HOST for GitHub Enterprise's https://HOST/api/v3,
// and the base itself otherwise (a test's fake serves both).
func WebURL(apiURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(apiURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("dashboard: GitHub API URL %q is not an http(s) URL", apiURL)
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return "https://github.com", nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/api/v3")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// Register adds /setup's routes to mux.
func (s *Setup) Register(mux *http.ServeMux) {
	mux.Handle("GET /setup/static/", headers(false, http.StripPrefix("/setup/static/", assets())))
	mux.Handle("GET /setup", http.HandlerFunc(s.start))
	mux.Handle("POST /setup", http.HandlerFunc(s.manifest))
	mux.Handle("GET /setup/callback", http.HandlerFunc(s.callback))
}

// Routes returns an httpapi-style Routes entry.
func (s *Setup) Routes() func(*http.ServeMux) { return s.Register }

func (s *Setup) headers(w http.ResponseWriter) {
	h := w.Header()
	// The manifest form posts to GitHub, so form-action names it.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self' "+s.web+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Setup) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.headers(w)
	v := view{Data: data, Static: "/setup/static"}
	if e, ok := data.(errorPage); ok {
		v.Title = e.Title
	} else {
		v.Title = "Set up the GitHub App"
	}
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, v); err != nil {
		s.log.ErrorContext(r.Context(), "render setup page", "page", page, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// loopback reports whether the request came straight from this machine.
// A request relayed by a proxy (which would itself be on loopback) carries
// forwarding headers and does not count.
func loopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowed reports whether the request may use /setup: from loopback, or
// with an admin API key in the Authorization header or the form.
func (s *Setup) allowed(r *http.Request) bool {
	if loopback(r) {
		return true
	}
	key := r.PostFormValue("admin_key")
	if h := r.Header.Get("Authorization"); key == "" && h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "bearer") {
			key = strings.TrimSpace(tok)
		}
	}
	if key == "" || s.opts.Admin == nil {
		return false
	}
	p, err := s.opts.Admin.Authenticate(r.Context(), key)
	return err == nil && p.Can(patchpanda.ScopeAdmin)
}

func (s *Setup) finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

type setupForm struct {
	Name, Org, RelayURL string
	NeedKey             bool   // the admin key field is shown
	AdminKey            string // carried from the key form to the next step
	Problem             string
}

// relayURL guesses the relay's public URL from the request.
func relayURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Setup) start(w http.ResponseWriter, r *http.Request) {
	if s.finished() {
		s.render(w, r, http.StatusConflict, "error", errorPage{Title: "Already set up", Message: "An App was created; restart the relay with the settings shown then."})
		return
	}
	f := setupForm{Name: "PatchPanda", RelayURL: relayURL(r), NeedKey: !loopback(r)}
	status := http.StatusOK
	if f.NeedKey && !s.allowed(r) {
		status = http.StatusForbidden
	}
	s.render(w, r, status, "setup", f)
}

// Manifest is the App manifest posted to GitHub: what the relay needs.
type Manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	HookAttributes     map[string]any    `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// NewManifest returns the manifest of an App named name for a relay at
// relayURL: the permissions and events the relay uses, the webhook at
// /webhooks/github, and the redirect back to /setup/callback.
func NewManifest(name, relayURL string) Manifest {
	relayURL = strings.TrimRight(relayURL, "/")
	return Manifest{
		Name: name, URL: relayURL,
		HookAttributes: map[string]any{"url": relayURL + "/webhooks/github", "active": true},
		RedirectURL:    relayURL + "/setup/callback",
		DefaultPermissions: map[string]string{
			"metadata": "read", "contents": "write", "pull_requests": "write",
			"issues": "write", "checks": "write", "members": "read",
		},
		DefaultEvents: []string{"pull_request", "issue_comment", "check_run", "installation_repositories"},
	}
}

type manifestPage struct {
	Action   string // GitHub's "new App" URL with the state
	Manifest string // JSON
	Name     string
	Org      string
}

// manifest checks the form and renders the page whose button posts the
// manifest to GitHub. The state it sends along is kept in an HttpOnly
// cookie, and the callback accepts only that state.
func (s *Setup) manifest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if s.finished() {
		s.render(w, r, http.StatusConflict, "error", errorPage{Title: "Already set up", Message: "An App was created; restart the relay with the settings shown then."})
		return
	}
	f := setupForm{Name: strings.TrimSpace(r.PostFormValue("name")), Org: strings.TrimSpace(r.PostFormValue("org")),
		RelayURL: strings.TrimRight(strings.TrimSpace(r.PostFormValue("relay_url")), "/"), NeedKey: !loopback(r)}
	if !s.allowed(r) {
		f.Problem = "Open /setup from the relay's own machine, or give an admin API key (relay admin-key create)."
		s.render(w, r, http.StatusForbidden, "setup", f)
		return
	}
	f.AdminKey = r.PostFormValue("admin_key")
	if r.PostFormValue("step") == "key" { // the admin key was just given: now the App form
		f.Name, f.RelayURL = "PatchPanda", relayURL(r)
		s.render(w, r, http.StatusOK, "setup", f)
		return
	}
	u, err := url.Parse(f.RelayURL)
	switch {
	case f.Name == "" || len(f.Name) > 34:
		f.Problem = "The App name must be 1 to 34 characters (GitHub's limit)."
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "":
		f.Problem = fmt.Sprintf("The relay URL %q must be an http(s) URL with no path, such as https://patchpanda.example.com.", f.RelayURL)
	case f.Org != "" && !orgRE(f.Org):
		f.Problem = fmt.Sprintf("%q is not a GitHub organization name.", f.Org)
	}
	if f.Problem != "" {
		s.render(w, r, http.StatusBadRequest, "setup", f)
		return
	}
	m, _ := json.Marshal(NewManifest(f.Name, f.RelayURL))
	state := random()
	http.SetCookie(w, &http.Cookie{Name: "pp_setup", Value: state, Path: "/setup/", MaxAge: 3600, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	action := s.web + "/settings/apps/new"
	if f.Org != "" {
		action = s.web + "/organizations/" + url.PathEscape(f.Org) + "/settings/apps/new"
	}
	s.render(w, r, http.StatusOK, "manifest", manifestPage{Action: action + "?state=" + url.QueryEscape(state), Manifest: string(m), Name: f.Name, Org: f.Org})
}

func orgRE(s string) bool {
	if len(s) > 39 || s == "" || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// AppCredentials is GitHub's answer to a manifest conversion.
type AppCredentials struct {
	ID            int64  `json:"id"`
	Slug          string `json:"slug"`
	Name          string `json:"name"`
	HTMLURL       string `json:"html_url"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	WebhookSecret string `json:"webhook_secret"`
	PEM           string `json:"pem"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

// Convert exchanges a manifest code for the new App's credentials at
// POST /app-manifests/{code}/conversions. It returns an error naming
// GitHub's status for a refused code; the error never contains a secret.
func (s *Setup) Convert(ctx context.Context, code string) (AppCredentials, error) {
	var out AppCredentials
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.opts.APIURL, "/")+"/app-manifests/"+url.PathEscape(code)+"/conversions", nil)
	if err != nil {
		return out, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("dashboard: convert App manifest: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return out, fmt.Errorf("dashboard: convert App manifest: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return out, fmt.Errorf("dashboard: convert App manifest: GitHub answered %d %s", resp.StatusCode, e.Message)
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID == 0 || out.PEM == "" || out.WebhookSecret == "" {
		return AppCredentials{}, errors.New("dashboard: convert App manifest: GitHub's answer lacks the App id, key or webhook secret")
	}
	return out, nil
}

// setupDone is the result page: what to set for the next start.
type setupDone struct {
	App            AppCredentials
	KeyFile        string
	SecretFile     string
	WebhookSecret  string
	KeeperRequired bool
}

func (s *Setup) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.finished() {
		s.render(w, r, http.StatusConflict, "error", errorPage{Title: "Already set up", Message: "An App was created; restart the relay with the settings shown then."})
		return
	}
	c, err := r.Cookie("pp_setup")
	if err != nil || !equal(c.Value, r.URL.Query().Get("state")) || c.Value == "" {
		s.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Setup failed",
			Message: "This answer from GitHub does not belong to a setup started in this browser (state mismatch). Start again at /setup."})
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" || len(code) > 200 {
		s.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Setup failed", Message: "GitHub sent no code."})
		return
	}
	s.mu.Lock() // one conversion at a time: a code works once
	defer s.mu.Unlock()
	if s.done {
		s.render(w, r, http.StatusConflict, "error", errorPage{Title: "Already set up", Message: "An App was created; restart the relay with the settings shown then."})
		return
	}
	app, err := s.Convert(ctx, code)
	if err != nil {
		s.log.WarnContext(ctx, "App manifest conversion failed", "err", err)
		s.render(w, r, http.StatusBadGateway, "error", errorPage{Title: "Setup failed", Message: err.Error() + ". Codes expire after an hour; start again at /setup."})
		return
	}
	done, err := s.store(ctx, app)
	if err != nil {
		// The App exists on GitHub now; say so, so nobody creates a second.
		s.log.ErrorContext(ctx, "store App credentials", "app_id", app.ID, "err", err)
		s.render(w, r, http.StatusInternalServerError, "error", errorPage{Title: "Setup incomplete", Message: fmt.Sprintf(
			"GitHub created the App %s (id %d), but its credentials could not be stored: %s. Generate a new private key on the App's settings page (%s) and configure the relay by hand (docs/github-app.md).",
			app.Slug, app.ID, patchpanda.ErrorMessage(err), app.HTMLURL)})
		s.done = true
		return
	}
	s.done = true
	http.SetCookie(w, &http.Cookie{Name: "pp_setup", Value: "", Path: "/setup/", MaxAge: -1, HttpOnly: true})
	if s.opts.Audit != nil {
		data, _ := json.Marshal(map[string]any{"app_id": app.ID, "slug": app.Slug, "owner": app.Owner.Login})
		if _, err := s.opts.Audit.AppendAudit(ctx, patchpanda.AuditEvent{Actor: "setup", Action: patchpanda.AuditAppCreated,
			Subject: "app:" + strconv.FormatInt(app.ID, 10), Reason: "created with the App manifest flow", Data: data}); err != nil {
			s.log.ErrorContext(ctx, "audit App creation", "err", err)
		}
	}
	s.log.InfoContext(ctx, "GitHub App created through /setup", "app_id", app.ID, "slug", app.Slug, "key_file", done.KeyFile)
	s.render(w, r, http.StatusOK, "setupdone", done)
}

// store seals the private key and the webhook secret with the secrets
// keeper and writes them, mode 0600, to the setup directory.
func (s *Setup) store(ctx context.Context, app AppCredentials) (setupDone, error) {
	if s.opts.Secrets == nil {
		return setupDone{}, patchpanda.Errorf(patchpanda.EINVALID, "no secrets keeper; set PATCHPANDA_SECRETS_KEEPER")
	}
	done := setupDone{App: app, WebhookSecret: app.WebhookSecret}
	write := func(name string, plain []byte) (string, error) {
		sealed, err := s.opts.Secrets.Encrypt(ctx, plain)
		if err != nil {
			return "", err
		}
		path, err := filepath.Abs(filepath.Join(s.opts.Dir, name))
		if err != nil {
			return "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		if _, err := f.Write(sealed); err != nil {
			f.Close()
			os.Remove(path)
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		return path, f.Close()
	}
	var err error
	if done.KeyFile, err = write(fmt.Sprintf("github-app-%d.pem.sealed", app.ID), []byte(app.PEM)); err != nil {
		return done, err
	}
	if done.SecretFile, err = write(fmt.Sprintf("github-app-%d.webhook-secret.sealed", app.ID), []byte(app.WebhookSecret)); err != nil {
		return done, err
	}
	return done, nil
}
