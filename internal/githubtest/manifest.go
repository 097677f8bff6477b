package githubtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The App manifest flow (docs: "Registering a GitHub App from a
// manifest"). The web half, POST /settings/apps/new (or
// /organizations/{org}/settings/apps/new) with a "manifest" form field, is
// where a person confirms on github.com; the fake confirms at once and
// redirects to the manifest's redirect_url with a code and the state. The
// API half exchanges the code, once and within an hour, for the App's
// credentials. The fake has a single App, so the conversion answers with
// its id and private key: a relay configured from the answer talks to the
// fake as that App.
const (
	RouteConvertManifest = "POST /app-manifests/{code}/conversions"
	RouteNewApp          = "POST /settings/apps/new"
	RouteNewOrgApp       = "POST /organizations/{org}/settings/apps/new"
)

// ManifestApp is an App registered through the manifest flow.
type ManifestApp struct {
	Code string
	// Owner is the organization named in the URL, or "" for the user.
	Owner    string
	Manifest map[string]any
	// WebhookSecret is the secret GitHub generated for the App.
	WebhookSecret string
	CreatedAt     time.Time
	Converted     bool
}

type manifestState struct {
	mu   sync.Mutex
	apps []*ManifestApp
}

// ManifestApps returns the Apps registered through the manifest flow.
func (s *Server) ManifestApps() []ManifestApp {
	s.manifests.mu.Lock()
	defer s.manifests.mu.Unlock()
	out := make([]ManifestApp, len(s.manifests.apps))
	for i, a := range s.manifests.apps {
		out[i] = *a
	}
	return out
}

// newApp is github.com's "create App from manifest" page, confirmed at
// once. GitHub answers a malformed manifest with an error page; the fake
// answers 422 naming the problem.
func (s *Server) newApp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.PostFormValue("manifest")), &m); err != nil {
		http.Error(w, "manifest is not JSON: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	str := func(k string) string { v, _ := m[k].(string); return v }
	hook, _ := m["hook_attributes"].(map[string]any)
	hookURL, _ := hook["url"].(string)
	redirect, err := url.Parse(str("redirect_url"))
	switch {
	case str("url") == "":
		http.Error(w, "manifest: url is required", http.StatusUnprocessableEntity)
		return
	case hookURL == "":
		http.Error(w, "manifest: hook_attributes.url is required", http.StatusUnprocessableEntity)
		return
	case err != nil || redirect.Host == "":
		http.Error(w, "manifest: redirect_url must be an absolute URL", http.StatusUnprocessableEntity)
		return
	}
	a := &ManifestApp{Code: randomHex(10), Owner: r.PathValue("org"), Manifest: m, WebhookSecret: randomHex(20), CreatedAt: s.now()}
	s.manifests.mu.Lock()
	s.manifests.apps = append(s.manifests.apps, a)
	s.manifests.mu.Unlock()
	q := redirect.Query()
	q.Set("code", a.Code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// convertManifest answers POST /app-manifests/{code}/conversions with
// GitHub's shape: 201 and the App with client_id, client_secret,
// webhook_secret and pem; 404 for an unknown, used or expired code.
func (s *Server) convertManifest(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	code := r.PathValue("code")
	s.manifests.mu.Lock()
	var app *ManifestApp
	for _, m := range s.manifests.apps {
		if m.Code == code && !m.Converted && s.now().Sub(m.CreatedAt) < time.Hour {
			app = m
		}
	}
	if app != nil {
		app.Converted = true
	}
	s.manifests.mu.Unlock()
	if app == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot+"/apps/apps#create-a-github-app-from-a-manifest")
		return
	}
	name, _ := app.Manifest["name"].(string)
	owner, ownerType := app.Owner, "Organization"
	if owner == "" {
		owner, ownerType = "octocat", "User"
	}
	now := s.now().UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": s.AppID, "slug": s.AppSlug, "node_id": "A_fake", "name": name,
		"owner":       map[string]any{"login": owner, "id": 1, "type": ownerType},
		"description": "", "external_url": app.Manifest["url"], "html_url": "https://github.com/apps/" + s.AppSlug,
		"created_at": now, "updated_at": now,
		"permissions": app.Manifest["default_permissions"], "events": app.Manifest["default_events"],
		"client_id": "Iv1." + randomHex(8), "client_secret": randomHex(20),
		"webhook_secret": app.WebhookSecret, "pem": strings.TrimSpace(string(s.PrivateKeyPEM)) + "\n",
	})
}
