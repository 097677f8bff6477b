package relay_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	manifestRE   = regexp.MustCompile(`name="manifest" value="([^"]+)"`)
	settingRE    = regexp.MustCompile(`(PATCHPANDA_[A-Z_]+)=([^\s<]+)`)
)

// TestAppManifestSetupEndToEnd walks GitHub's App manifest flow against
// the fake GitHub: a relay without an App serves /setup, GitHub registers
// the App and sends the browser back, the relay converts the code, seals
// the credentials, and a relay started with the settings it shows is that
// App.
func TestAppManifestSetupEndToEnd(t *testing.T) {
	gh := githubtest.New(t)
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "patchpanda.db")
	r, logs := start(t, dbURL, func(c *relay.Config) { c.GitHubAPIURL = gh.URL() })
	if !strings.Contains(logs.String(), "dashboard off: /ui/ answers 404 because single sign-on is not configured") {
		t.Errorf("start log does not say why the dashboard is off:\n%s", logs)
	}
	if resp, err := http.Get(r.URL() + "/ui/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ui/ without single sign-on: %v %v, want 404", resp.StatusCode, err)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(r.URL() + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="relay_url"`) {
		t.Fatalf("GET /setup from loopback: %d\n%s", resp.StatusCode, page)
	}
	resp, err = browser.PostForm(r.URL()+"/setup", url.Values{"name": {"PatchPanda test"}, "org": {"acme"}, "relay_url": {r.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, resp)
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "form-action 'self' "+gh.URL()) {
		t.Errorf("CSP %q does not let the form post to GitHub only", got)
	}
	action, manifest := formActionRE.FindStringSubmatch(page), manifestRE.FindStringSubmatch(page)
	if action == nil || manifest == nil {
		t.Fatalf("manifest page has no form to GitHub:\n%s", page)
	}
	if want := gh.URL() + "/organizations/acme/settings/apps/new?state="; !strings.HasPrefix(html.UnescapeString(action[1]), want) {
		t.Errorf("form posts to %s, want %s…", action[1], want)
	}
	// The browser posts the manifest to GitHub, which sends it back to the
	// relay's callback with a code.
	resp, err = browser.PostForm(html.UnescapeString(action[1]), url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, page)
	}
	settings := map[string]string{}
	for _, m := range settingRE.FindAllStringSubmatch(html.UnescapeString(page), -1) {
		settings[m[1]] = m[2]
	}
	apps := gh.ManifestApps()
	if len(apps) != 1 || !apps[0].Converted || apps[0].Owner != "acme" {
		t.Fatalf("GitHub's manifest apps: %+v, want one for acme, converted", apps)
	}
	hook, _ := apps[0].Manifest["hook_attributes"].(map[string]any)
	if hook["url"] != r.URL()+"/webhooks/github" || apps[0].Manifest["redirect_url"] != r.URL()+"/setup/callback" {
		t.Errorf("manifest webhook %v, redirect %v", hook["url"], apps[0].Manifest["redirect_url"])
	}
	if perms, _ := apps[0].Manifest["default_permissions"].(map[string]any); perms["checks"] != "write" || perms["pull_requests"] != "write" {
		t.Errorf("manifest permissions %v lack what the relay needs", perms)
	}
	if settings["PATCHPANDA_GITHUB_APP_ID"] != strconv.FormatInt(gh.AppID, 10) || settings["PATCHPANDA_WEBHOOK_SECRET"] != apps[0].WebhookSecret {
		t.Fatalf("settings shown: %v", settings)
	}
	keyFile := settings["PATCHPANDA_GITHUB_PRIVATE_KEY_FILE"]
	sealed, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(keyFile); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if strings.Contains(string(sealed), "PRIVATE KEY") || strings.Contains(logs.String(), apps[0].WebhookSecret) {
		t.Error("the private key is stored in the clear, or the webhook secret reached the log")
	}
	if resp, _ := browser.Get(r.URL() + "/setup"); resp.StatusCode != http.StatusConflict {
		t.Errorf("/setup after an App was created: %d, want 409", resp.StatusCode)
	}

	// The next start, with the settings shown, is the App.
	next, _ := start(t, dbURL, func(c *relay.Config) {
		c.GitHubAPIURL = gh.URL()
		c.GitHubAppID, _ = strconv.ParseInt(settings["PATCHPANDA_GITHUB_APP_ID"], 10, 64)
		c.GitHubPrivateKey = keyFile
		c.WebhookSecrets = []string{settings["PATCHPANDA_WEBHOOK_SECRET"]}
	})
	inst := gh.AddInstallation(githubtest.Installation{Account: "acme", Repositories: []patchpanda.Repository{{Owner: "acme", Name: "widgets"}}})
	if _, err := next.GitHub.Installation(context.Background(), inst.ID); err != nil {
		t.Errorf("the relay started with the sealed key cannot act as the App: %v", err)
	}
	if resp, _ := http.Get(next.URL() + "/setup"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/setup with an App configured: %d, want 404", resp.StatusCode)
	}
}

func TestSetupRefusals(t *testing.T) {
	gh := githubtest.New(t)
	r, _ := start(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"), func(c *relay.Config) { c.GitHubAPIURL = gh.URL() })
	_, adminKey, err := r.Keys.Create(context.Background(), "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, readKey, err := r.Keys.Create(context.Background(), "reader", []patchpanda.Scope{patchpanda.ScopeJobsRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	viaProxy := func(method, path, auth string, form url.Values) int {
		var b io.Reader
		if form != nil {
			b = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, r.URL()+path, b)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Forwarded-For", "203.0.113.9") // not this machine
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		method string
		path   string
		auth   string
		form   url.Values
		want   int
	}{
		{"from elsewhere without a key", "POST", "/setup", "", url.Values{"name": {"x"}, "relay_url": {"https://relay.example"}}, http.StatusForbidden},
		{"from elsewhere with a key lacking admin", "POST", "/setup", readKey, url.Values{"name": {"x"}, "relay_url": {"https://relay.example"}}, http.StatusForbidden},
		{"from elsewhere with the admin key", "POST", "/setup", adminKey, url.Values{"name": {"x"}, "relay_url": {"https://relay.example"}}, http.StatusOK},
		{"admin key in the form", "POST", "/setup", "", url.Values{"admin_key": {adminKey}, "step": {"key"}}, http.StatusOK},
		{"a relay URL with a path", "POST", "/setup", adminKey, url.Values{"name": {"x"}, "relay_url": {"https://relay.example/sub"}}, http.StatusBadRequest},
		{"callback without the browser's state", "GET", "/setup/callback?code=abc&state=forged", "", nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := viaProxy(tt.method, tt.path, tt.auth, tt.form); got != tt.want {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.path, got, tt.want)
			}
		})
	}
	if n := len(gh.ManifestApps()); n != 0 {
		t.Errorf("%d Apps created by refused requests", n)
	}
}
