package githubtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func appJWT(t *testing.T, key *rsa.PrivateKey, iss string, iat, exp time.Time) string {
	t.Helper()
	claims := jwt.RegisteredClaims{Issuer: iss, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serverKey(t *testing.T, s *githubtest.Server) *rsa.PrivateKey {
	t.Helper()
	k, err := jwt.ParseRSAPrivateKeyFromPEM(s.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// do sends one request with token and decodes the JSON answer.
func do(t *testing.T, s *githubtest.Server, method, path, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func setup(t *testing.T) (*githubtest.Server, githubtest.Installation, string) {
	t.Helper()
	s := githubtest.New(t, githubtest.WithClock(func() time.Time { return t0 }))
	inst := s.AddInstallation(githubtest.Installation{Account: "octo", Repositories: []patchpanda.Repository{{Name: "widgets"}, {Name: "gadgets"}}})
	return s, inst, appJWT(t, serverKey(t, s), strconv.FormatInt(s.AppID, 10), t0.Add(-time.Minute), t0.Add(9*time.Minute))
}

func TestAppJWTIsCheckedLikeGitHub(t *testing.T) {
	s, inst, _ := setup(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := serverKey(t, s)
	iss := strconv.FormatInt(s.AppID, 10)
	path := "/app/installations/" + strconv.FormatInt(inst.ID, 10)
	tests := []struct {
		name   string
		token  string
		status int
		msg    string
	}{
		{"valid JWT is accepted", appJWT(t, key, iss, t0.Add(-time.Minute), t0.Add(9*time.Minute)), 200, ""},
		{"JWT signed with another key is refused", appJWT(t, other, iss, t0.Add(-time.Minute), t0.Add(9*time.Minute)), 401, "could not be decoded"},
		{"expired JWT is refused", appJWT(t, key, iss, t0.Add(-20*time.Minute), t0.Add(-10*time.Minute)), 401, "'Expiration time'"},
		{"JWT expiring over 10 minutes ahead is refused", appJWT(t, key, iss, t0, t0.Add(11*time.Minute)), 401, "too far in the future"},
		{"JWT of another App is refused", appJWT(t, key, "99", t0.Add(-time.Minute), t0.Add(9*time.Minute)), 401, "Issuer"},
		{"JWT issued in the future is refused", appJWT(t, key, iss, t0.Add(time.Minute), t0.Add(9*time.Minute)), 401, "Issued at"},
		{"no credentials are refused", "", 401, "JSON web token"},
		{"an unknown token is refused", "ghs_nope", 401, "Bad credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, s, "GET", path, tt.token, "")
			if status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", status, tt.status, body)
			}
			if tt.msg != "" {
				if msg, _ := body["message"].(string); !strings.Contains(msg, tt.msg) {
					t.Errorf("message = %q, want it to contain %q", msg, tt.msg)
				}
				if body["documentation_url"] == nil {
					t.Errorf("error body %v lacks documentation_url", body)
				}
			}
			for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
				if h.Get(name) == "" {
					t.Errorf("answer lacks %s", name)
				}
			}
		})
	}
}

func mintToken(t *testing.T, s *githubtest.Server, jwtTok string, inst int64, body string) (int, map[string]any) {
	t.Helper()
	status, _, m := do(t, s, "POST", "/app/installations/"+strconv.FormatInt(inst, 10)+"/access_tokens", jwtTok, body)
	return status, m
}

func TestInstallationTokensAreScoped(t *testing.T) {
	s, inst, jwtTok := setup(t)
	s.SetFile("octo/widgets", "main", "README.md", []byte("hi"))
	s.SetFile("octo/gadgets", "main", "README.md", []byte("hi"))

	status, full := mintToken(t, s, jwtTok, inst.ID, "")
	if status != 201 {
		t.Fatalf("mint full token: %d %v", status, full)
	}
	status, narrow := mintToken(t, s, jwtTok, inst.ID, `{"repositories":["widgets"],"permissions":{"contents":"read"}}`)
	if status != 201 {
		t.Fatalf("mint narrow token: %d %v", status, narrow)
	}
	if got, want := narrow["permissions"], map[string]any{"contents": "read", "metadata": "read"}; !cmp.Equal(got, want) {
		t.Errorf("narrow permissions = %v, want %v", got, want)
	}
	if repos, _ := narrow["repositories"].([]any); len(repos) != 1 {
		t.Errorf("narrow token repositories = %v, want one", narrow["repositories"])
	}

	fullTok, narrowTok := full["token"].(string), narrow["token"].(string)
	tests := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"full token reads either repository", "GET", "/repos/octo/gadgets/contents/README.md", fullTok, "", 200},
		{"narrow token reads its repository", "GET", "/repos/octo/widgets/contents/README.md", narrowTok, "", 200},
		{"narrow token cannot see another repository", "GET", "/repos/octo/gadgets/contents/README.md", narrowTok, "", 404},
		{"narrow token cannot write what it may only read", "POST", "/repos/octo/widgets/check-runs", narrowTok, `{"name":"x","head_sha":"abc"}`, 403},
		{"token cannot reach a repository outside the installation", "GET", "/repos/other/thing/contents/README.md", fullTok, "", 404},
		{"installation token is refused on App endpoints", "GET", "/app/installations/" + strconv.FormatInt(inst.ID, 10), fullTok, "", 401},
		{"JWT is refused on repository endpoints", "GET", "/repos/octo/widgets/contents/README.md", jwtTok, "", 403},
		{"installation token cannot read /user", "GET", "/user", fullTok, "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, s, tt.method, tt.path, tt.token, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d (%v)", status, tt.status, body)
			}
		})
	}

	t.Run("token asking for more than the installation has is refused", func(t *testing.T) {
		for _, body := range []string{`{"permissions":{"administration":"write"}}`, `{"repositories":["elsewhere"]}`, `{"repository_ids":[1]}`} {
			if status, m := mintToken(t, s, jwtTok, inst.ID, body); status != 422 {
				t.Errorf("mint %s: status %d, want 422 (%v)", body, status, m)
			}
		}
	})
	t.Run("revoked tokens get Bad credentials", func(t *testing.T) {
		s.RevokeTokens()
		status, _, body := do(t, s, "GET", "/repos/octo/widgets/contents/README.md", fullTok, "")
		if status != 401 || body["message"] != "Bad credentials" {
			t.Errorf("got %d %v, want 401 Bad credentials", status, body)
		}
	})
}

func TestInjectedFailuresCarryRateLimitHeaders(t *testing.T) {
	s, inst, jwtTok := setup(t)
	path := "/app/installations/" + strconv.FormatInt(inst.ID, 10)
	reset := t0.Add(30 * time.Second)
	s.SecondaryRateLimitNext(githubtest.RouteGetInstallation, 7*time.Second, 1)
	s.PrimaryRateLimitNext(githubtest.RouteGetInstallation, reset, 1)
	s.FailNext("/app/installations/{installation_id}", 503, 1)

	status, h, body := do(t, s, "GET", path, jwtTok, "")
	if status != 403 || h.Get("Retry-After") != "7" || !strings.Contains(body["message"].(string), "secondary rate limit") {
		t.Errorf("secondary: got %d Retry-After %q %v", status, h.Get("Retry-After"), body)
	}
	status, h, _ = do(t, s, "GET", path, jwtTok, "")
	if status != 403 || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset") != strconv.FormatInt(reset.Unix(), 10) {
		t.Errorf("primary: got %d remaining %q reset %q", status, h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"))
	}
	if status, _, _ = do(t, s, "GET", path, jwtTok, ""); status != 503 {
		t.Errorf("5xx: got %d, want 503", status)
	}
	if status, _, _ = do(t, s, "GET", path, jwtTok, ""); status != 200 {
		t.Errorf("after the failures: got %d, want 200", status)
	}
	calls := s.CallsTo(githubtest.RouteGetInstallation)
	if len(calls) != 4 || calls[0].Auth != githubtest.AuthApp {
		t.Errorf("calls = %+v, want 4 made with the App JWT", calls)
	}
}

func TestSignMatchesGitHubsExample(t *testing.T) {
	// The example from GitHub's "Validating webhook deliveries".
	got := githubtest.Sign("It's a Secret to Everybody", []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestSendWebhookSendsGitHubsHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	ctx := context.Background()
	payload := map[string]any{"action": "created", "installation": map[string]any{"id": 7}}

	resp, err := githubtest.SendWebhook(ctx, hook.URL, "s3cret", "issue_comment", payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = githubtest.SendWebhookDelivery(ctx, hook.URL, "s3cret", "issue_comment", "d-1", payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d", resp.StatusCode)
	}

	r, body := got[0], bodies[0]
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("method %s content type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "GitHub-Hookshot/") {
		t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
	}
	if r.Header.Get("X-GitHub-Event") != "issue_comment" || r.Header.Get("X-GitHub-Delivery") == "" ||
		r.Header.Get("X-GitHub-Hook-ID") == "" || r.Header.Get("X-GitHub-Hook-Installation-Target-ID") == "" ||
		r.Header.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" {
		t.Errorf("headers = %v", r.Header)
	}
	if sig := r.Header.Get("X-Hub-Signature-256"); sig != githubtest.Sign("s3cret", body) {
		t.Errorf("signature %q does not sign the body", sig)
	}
	if got[1].Header.Get("X-GitHub-Delivery") != "d-1" {
		t.Errorf("explicit delivery id = %q", got[1].Header.Get("X-GitHub-Delivery"))
	}
	if got[0].Header.Get("X-GitHub-Delivery") == got[1].Header.Get("X-GitHub-Delivery") {
		t.Error("a new delivery reused an id")
	}
}

func TestServerIsSafeForConcurrentUse(t *testing.T) {
	s, inst, jwtTok := setup(t)
	_, m := mintToken(t, s, jwtTok, inst.ID, "")
	tok := m["token"].(string)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				s.SetFile("octo/widgets", "main", "f"+strconv.Itoa(i), []byte{byte(j)})
				req, _ := http.NewRequest("POST", s.URL()+"/repos/octo/widgets/issues/1/comments", strings.NewReader(`{"body":"hi"}`))
				req.Header.Set("Authorization", "token "+tok)
				resp, err := s.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				_ = s.Calls()
			}
		}()
	}
	wg.Wait()
	if n := len(s.Comments("octo/widgets", 1)); n != 40 {
		t.Errorf("comments = %d, want 40", n)
	}
}
