package githubapp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestNewRefusesBadConfiguration(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	garbage := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("SECRETSECRETSECRET")})

	tests := []struct {
		name string
		cfg  githubapp.Config
		want string
	}{
		{"App id without key", githubapp.Config{AppID: 1}, "no private key"},
		{"key without App id", githubapp.Config{PrivateKeyPEM: garbage}, "no App id"},
		{"negative App id", githubapp.Config{AppID: -3}, "must be positive"},
		{"key that is not PEM", githubapp.Config{AppID: 1, PrivateKeyPEM: []byte("SECRETSECRETSECRET")}, "no PEM block"},
		{"PEM that is not a key", githubapp.Config{AppID: 1, PrivateKeyPEM: garbage}, "not a PKCS#1 or PKCS#8 private key"},
		{"key that is not RSA", githubapp.Config{AppID: 1, PrivateKeyPEM: ecPEM}, "GitHub Apps use RSA"},
		{"API URL that is not absolute", githubapp.Config{BaseURL: "github.example.com/api/v3"}, "absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := githubapp.New(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q shows key material", err)
			}
			for _, line := range strings.Split(string(tt.cfg.PrivateKeyPEM), "\n") {
				if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line[:8]) {
					t.Errorf("error %q shows key material", err)
				}
			}
		})
	}
}

func TestAppJWTHasGitHubsClaims(t *testing.T) {
	e := setup(t, setupOptions{})
	if !e.c.Enabled() {
		t.Fatal("client with App credentials is not enabled")
	}
	if _, err := e.c.Installation(e.ctx, e.inst.ID); err != nil {
		t.Fatal(err)
	}
	auths := e.headers.Auths()
	if len(auths) != 1 || !strings.HasPrefix(auths[0], "Bearer ") {
		t.Fatalf("Authorization headers = %q", auths)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(strings.TrimPrefix(auths[0], "Bearer "), &claims,
		func(*jwt.Token) (any, error) { return e.gh.PublicKey(), nil },
		jwt.WithTimeFunc(e.clock.Now), jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatalf("JWT does not verify with the App's public key: %v", err)
	}
	got := map[string]any{
		"alg": tok.Header["alg"],
		"iss": claims.Issuer,
		"iat": claims.IssuedAt.Time.UTC(),
		"exp": claims.ExpiresAt.Time.UTC(),
	}
	want := map[string]any{
		"alg": "RS256",
		"iss": strconv.FormatInt(e.gh.AppID, 10),
		"iat": t0.Add(-60 * time.Second),
		"exp": t0.Add(9 * time.Minute),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JWT claims (-want +got):\n%s", diff)
	}
	if span := claims.ExpiresAt.Sub(claims.IssuedAt.Time); span > 10*time.Minute {
		t.Errorf("exp - iat = %v, GitHub allows at most 10 minutes", span)
	}
}

func TestAppCallsFailWithRefusedJWT(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*githubapp.Config)
	}{
		{"clock far behind makes an expired JWT", func(c *githubapp.Config) {
			c.Now = func() time.Time { return t0.Add(-30 * time.Minute) }
		}},
		{"another App's id", func(c *githubapp.Config) { c.AppID = 77 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, setupOptions{tweak: tt.tweak})
			_, err := e.c.Installation(e.ctx, e.inst.ID)
			if !errors.Is(err, githubapp.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			if got := patchpanda.ErrorCode(err); got != patchpanda.EUNAUTHORIZED {
				t.Errorf("ErrorCode = %q", got)
			}
		})
	}
}

func TestEnterpriseBaseURLUsesAPIV3Prefix(t *testing.T) {
	e := setup(t, setupOptions{serverOpts: []githubtest.Option{githubtest.WithAPIPrefix("/api/v3")}})
	if !strings.HasSuffix(e.gh.URL(), "/api/v3") {
		t.Fatalf("fake URL %q lacks /api/v3", e.gh.URL())
	}
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 3, HeadSHA: "abc", Author: "mona"})
	pr, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 3)
	if err != nil {
		t.Fatal(err)
	}
	if pr.HeadSHA != "abc" {
		t.Errorf("HeadSHA = %q", pr.HeadSHA)
	}
	var routes []string
	for _, c := range e.gh.Calls() {
		routes = append(routes, c.Route)
	}
	if diff := cmp.Diff([]string{githubtest.RouteCreateToken, githubtest.RouteGetPull}, routes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}

	t.Run("a base URL without the prefix misses the API", func(t *testing.T) {
		c, err := githubapp.New(githubapp.Config{
			AppID: e.gh.AppID, PrivateKeyPEM: e.gh.PrivateKeyPEM,
			BaseURL: strings.TrimSuffix(e.gh.URL(), "/api/v3"), Now: e.clock.Now,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Installation(e.ctx, e.inst.ID); !errors.Is(err, githubapp.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

// failingTransport fails the test if any request is made.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request made without App credentials: %s %s", r.Method, r.URL)
	return nil, errors.New("no requests allowed")
}

func TestWithoutAppCallsAreLoggedNotMade(t *testing.T) {
	logs := &lockedBuffer{}
	c, err := githubapp.New(githubapp.Config{HTTPClient: &http.Client{Transport: failingTransport{t}}},
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled() {
		t.Fatal("client without credentials says it is enabled")
	}
	ctx := context.Background()
	check := func(name string, got, want any, err error, wantErr error) {
		t.Helper()
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: err = %v, want %v", name, err, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	tok, err := c.Token(ctx, 1, githubapp.TokenRequest{Repositories: []string{"widgets"}})
	check("Token", tok.Token, "", err, nil)
	inst, err := c.Installation(ctx, 5)
	check("Installation", inst.ID, int64(5), err, nil)
	ds, next, err := c.HookDeliveries(ctx, "", 50)
	check("HookDeliveries", len(ds)+len(next), 0, err, nil)
	check("Redeliver", nil, nil, c.Redeliver(ctx, 9), nil)
	f, err := c.Contents(ctx, 1, "octo", "widgets", ".testbot.yml", "abc")
	check("Contents", f, (*githubapp.File)(nil), err, githubapp.ErrNotFound)
	p, err := c.CollaboratorPermission(ctx, 1, "octo", "widgets", "mona")
	check("CollaboratorPermission", *p, githubapp.Permission{Permission: "none", Role: "none"}, err, nil)
	m, err := c.TeamMembership(ctx, 1, "octo", "admins", "mona")
	check("TeamMembership", m.Active(), false, err, nil)
	pr, err := c.PullRequest(ctx, 1, "octo", "widgets", 3)
	check("PullRequest", pr.Number, 3, err, nil)
	files, err := c.PullRequestFiles(ctx, 1, "octo", "widgets", 3)
	check("PullRequestFiles", len(files), 0, err, nil)
	check("ReactToComment", nil, nil, c.ReactToComment(ctx, 1, "octo", "widgets", 4, "eyes"), nil)
	cm, err := c.CreateComment(ctx, 1, "octo", "widgets", 3, "hello")
	check("CreateComment", cm.ID, int64(0), err, nil)
	cm, err = c.UpdateComment(ctx, 1, "octo", "widgets", 8, "hello")
	check("UpdateComment", cm.ID, int64(8), err, nil)
	cms, err := c.Comments(ctx, 1, "octo", "widgets", 3)
	check("Comments", len(cms), 0, err, nil)
	cr, err := c.CreateCheckRun(ctx, 1, "octo", "widgets", githubapp.CheckRunOptions{Name: "PatchPanda / tests", HeadSHA: "abc", Status: "queued"})
	check("CreateCheckRun", cr.ID, int64(0), err, nil)
	cr, err = c.UpdateCheckRun(ctx, 1, "octo", "widgets", 6, githubapp.CheckRunOptions{Name: "PatchPanda / tests", Conclusion: "success"})
	check("UpdateCheckRun", cr.ID, int64(6), err, nil)
	u, err := c.AuthenticatedUser(ctx, "gho_personal")
	check("AuthenticatedUser", u, (*githubapp.User)(nil), err, githubapp.ErrNotConfigured)
	if code := patchpanda.ErrorCode(err); code != patchpanda.EUNAUTHORIZED {
		t.Errorf("AuthenticatedUser code = %q, want %q", code, patchpanda.EUNAUTHORIZED)
	}
	m, err = c.UserTeamMembership(ctx, "gho_personal", "octo", "admins", "mona")
	check("UserTeamMembership", m, githubapp.Membership{}, err, githubapp.ErrNotConfigured)

	out := logs.String()
	if n := strings.Count(out, "github call skipped"); n != 17 {
		t.Errorf("logged %d skipped calls, want 17:\n%s", n, out)
	}
	for _, want := range []string{"route=\"POST /repos/{owner}/{repo}/check-runs\"", "repo=octo/widgets", "route=\"GET /user\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "gho_personal") {
		t.Errorf("log shows a user token:\n%s", out)
	}
}

func TestSecretsNeverReachLogsOrErrors(t *testing.T) {
	e := setup(t, setupOptions{tweak: func(c *githubapp.Config) { c.MaxRetries = 1 }})
	e.gh.AddUser("gho_usertoken123", githubtest.User{Login: "mona"})
	e.gh.FailNext(githubtest.RouteGetPull, 502, 5)
	e.gh.SecondaryRateLimitNext(githubtest.RouteCreateComment, time.Hour, 1)

	var errs []error
	tok, err := e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{Repositories: []string{"widgets"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 1)
	errs = append(errs, err)
	_, err = e.c.CreateComment(e.ctx, e.inst.ID, "octo", "widgets", 1, "hi")
	errs = append(errs, err)
	_, err = e.c.AuthenticatedUser(e.ctx, "gho_wrongtoken")
	errs = append(errs, err)
	e.gh.RevokeTokens()
	_, err = e.c.Contents(e.ctx, e.inst.ID, "octo", "widgets", "nope", "")
	errs = append(errs, err)
	e.c.Token(e.ctx, e.inst.ID, githubapp.TokenRequest{Permissions: map[string]string{"contents": "sudo"}})
	slog.New(slog.NewTextHandler(e.logs, nil)).Info("token minted", "token", tok)

	var secrets []string
	for _, a := range e.headers.Auths() {
		secrets = append(secrets, strings.TrimPrefix(a, "Bearer "))
	}
	for _, it := range e.gh.IssuedTokens() {
		secrets = append(secrets, it.Token)
	}
	secrets = append(secrets, "gho_wrongtoken", "gho_usertoken123", string(e.gh.PrivateKeyPEM[40:80]))
	texts := []string{e.logs.String(), fmt.Sprint(tok), fmt.Sprintf("%+v %#v", tok, tok)}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected every call in this test to fail")
		}
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("secret %.12s… appears in %q", s, text)
			}
		}
	}
	if !strings.Contains(e.logs.String(), "retrying after server error") {
		t.Errorf("retries were not logged:\n%s", e.logs.String())
	}
}

func TestObserveSeesEveryAttempt(t *testing.T) {
	type call struct {
		Method, Route string
		Status        int
	}
	var calls []call
	e := setup(t, setupOptions{tweak: func(c *githubapp.Config) {
		c.Observe = func(method, route string, status int, _ time.Duration) {
			calls = append(calls, call{method, route, status})
		}
	}})
	e.gh.AddPullRequest("octo/widgets", githubtest.PullRequest{Number: 1})
	e.gh.FailNext(githubtest.RouteGetPull, 500, 1)
	if _, err := e.c.PullRequest(e.ctx, e.inst.ID, "octo", "widgets", 1); err != nil {
		t.Fatal(err)
	}
	want := []call{
		{"POST", "/app/installations/{installation_id}/access_tokens", 201},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 500},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}
