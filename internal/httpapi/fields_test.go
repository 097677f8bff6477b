package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/apitest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// call sends one request with the admin key and returns the status and
// the error message of the answer.
func call(t *testing.T, base, key, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	if len(b) > 4096 {
		t.Errorf("%s %s: answer of %d bytes echoes the input", method, path, len(b))
	}
	return resp.StatusCode, e.Error.Message
}

func TestPathIdsAreWholeNumbers(t *testing.T) {
	ctx := context.Background()
	env := apitest.Start(t, nil)
	var target patchpanda.APIKey
	for range 7 {
		k, _, err := env.Keys.Create(ctx, "k", []patchpanda.Scope{patchpanda.ScopeJobsRead}, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		target = k
	}
	id := target.ID
	p, err := env.Billing.CreateProject(ctx, "acme", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, method, path string }{
		{"trailing letters", "POST", "/api/admin/keys/{id}abc/revoke"},
		{"a plus sign", "POST", "/api/admin/keys/+{id}/revoke"},
		{"hexadecimal", "POST", "/api/admin/keys/0x{id}/revoke"},
		{"a space", "POST", "/api/admin/keys/%20{id}/revoke"},
		{"a decimal point", "DELETE", "/api/admin/keys/{id}.0"},
		{"too big for int64", "DELETE", "/api/admin/keys/99999999999999999999{id}"},
		{"a negative id", "GET", "/api/admin/billing/projects/-{id}"},
		{"a project id with letters", "GET", "/api/admin/billing/projects/{id}x"},
	} {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			n := id
			if strings.Contains(tc.path, "projects") {
				n = p.ID
			}
			path := strings.Replace(tc.path, "{id}", itoa(n), 1)
			path = strings.Replace(path, "%%20", "%20", 1)
			code, msg := call(t, env.URL, env.Admin, tc.method, path, "")
			if code != http.StatusBadRequest || !strings.Contains(msg, "is not a positive whole number") {
				t.Errorf("%s %s = %d %q, want 400", tc.method, path, code, msg)
			}
		})
	}
	ks, err := env.Keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.RevokedAt != nil {
			t.Errorf("key %d was revoked by a malformed id", k.ID)
		}
	}
	if code, _ := call(t, env.URL, env.Admin, "POST", "/api/admin/keys/"+itoa(id)+"/revoke", ""); code != http.StatusOK {
		t.Errorf("revoke %d = %d, want 200", id, code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestFreeTextIsCappedWithTheFieldAndLimitNamed(t *testing.T) {
	ctx := context.Background()
	env := apitest.Start(t, nil)
	p, err := env.Billing.CreateProject(ctx, "acme", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	proj := "/api/admin/billing/projects/" + itoa(p.ID)
	huge := strings.Repeat("k", 900<<10)
	body := func(v any) string { return string(mustJSON(v)) }
	for _, tc := range []struct {
		name, method, path, body, want string
	}{
		{"a 900 KB key name", "POST", "/api/admin/keys", body(map[string]any{"name": huge, "scopes": []string{"jobs:read"}}), "name is 921600 bytes long; the limit is 100"},
		{"a key name with a newline", "POST", "/api/admin/keys", body(map[string]any{"name": "ci\nkey", "scopes": []string{"jobs:read"}}), "name has a control character"},
		{"a key name with an escape", "POST", "/api/admin/keys", body(map[string]any{"name": "ci\x1b[2J", "scopes": []string{"jobs:read"}}), "name has a control character"},
		{"a long expires_in", "POST", "/api/admin/keys", body(map[string]any{"name": "ci", "scopes": []string{"jobs:read"}, "expires_in": strings.Repeat("9", 100)}), "expires_in is 100 bytes long; the limit is 32"},
		{"a long project name", "POST", "/api/admin/billing/projects", body(map[string]any{"name": strings.Repeat("p", 101)}), "name is 101 bytes long; the limit is 100"},
		{"a long new project name", "PATCH", proj, body(map[string]any{"name": strings.Repeat("p", 101)}), "the limit is 100"},
		{"a repository with ..", "POST", proj + "/repositories", body(map[string]any{"repository": "acme/.."}), `repository: repository "acme/..": the name must be`},
		{"a repository with NUL", "POST", proj + "/repositories", body(map[string]any{"repository": "acme/api\x00"}), "the name must be"},
		{"a repository with a newline", "POST", proj + "/repositories", body(map[string]any{"repository": "acme/api\nx"}), "the name must be"},
		{"a 900 KB repository", "POST", proj + "/repositories", body(map[string]any{"repository": "acme/" + huge}), "1 to 100"},
		{"an unbind of a bad owner", "DELETE", proj + "/repositories/-acme/api", "", "the owner must be"},
		{"a long provider key name", "POST", proj + "/provider-keys", body(map[string]any{"provider": "openai", "name": huge, "key": "sk-" + strings.Repeat("x", 40)}), "name is 921600 bytes long"},
		{"a huge provider key", "POST", proj + "/provider-keys", body(map[string]any{"provider": "openai", "name": "n", "key": huge}), "key is 921600 bytes long; the limit is 8192"},
		{"a long audit action filter", "GET", "/api/audit?action=" + strings.Repeat("a", 300), "", "action is 300 bytes long; the limit is 256"},
		{"an audit subject with a newline", "GET", "/api/audit?subject=" + url.QueryEscape("a\nb"), "", "subject has a control character"},
	} {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			code, msg := call(t, env.URL, env.Admin, tc.method, tc.path, tc.body)
			if code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("%s = %d %q, want 400 with %q", tc.name, code, msg, tc.want)
			}
		})
	}
	if ks, _ := env.Keys.List(ctx); len(ks) != 1 {
		t.Errorf("%d keys exist, want only the admin key", len(ks))
	}
}

// reports is a job service that counts the events that reach it; every
// other method is left to the embedded (nil) interface.
type reports struct {
	httpapi.JobService
	n int
}

func (r *reports) Report(ctx context.Context, id, lease string, ev patchpanda.WorkerEvent, who *patchpanda.Principal) (*patchpanda.Job, error) {
	r.n++
	return &patchpanda.Job{ID: id}, nil
}

func TestWorkerEventTextIsCapped(t *testing.T) {
	ctx := context.Background()
	env := apitest.Start(t, nil)
	_, worker, err := env.Keys.Create(ctx, "w", []patchpanda.Scope{patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	svc := &reports{}
	api := &httpapi.Server{Logger: slog.New(slog.DiscardHandler), Auth: env.Keys, Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.JobRoutes(svc)}}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	for _, tc := range []struct{ name, body, want string }{
		{"a message over 4 KB", string(mustJSON(map[string]any{"type": "progress", "message": strings.Repeat("m", 5000)})), "message is 5000 bytes long; the limit is 4096"},
		{"a message with NUL", string(mustJSON(map[string]any{"type": "progress", "message": "a\x00b"})), "message has a NUL byte"},
		{"a pull request URL over 2 KB", string(mustJSON(map[string]any{"type": "succeeded", "pull_request_url": "https://github.com/" + strings.Repeat("u", 2100)})), "pull_request_url is 2119 bytes long; the limit is 2048"},
		{"a pull request URL with a newline", string(mustJSON(map[string]any{"type": "succeeded", "pull_request_url": "https://github.com/a\n"})), "pull_request_url has a control character"},
	} {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			code, msg := call(t, srv.URL, worker, "POST", "/api/jobs/job_1/events", tc.body)
			if code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("= %d %q, want 400 with %q", code, msg, tc.want)
			}
		})
	}
	if code, _ := call(t, srv.URL, worker, "POST", "/api/jobs/job_1/events", `{"type":"progress","message":"line 1\nline 2"}`); code != http.StatusOK || svc.n != 1 {
		t.Errorf("a two-line message = %d (reports %d), want 200", code, svc.n)
	}
}

// jobCalls is a job service that counts the calls that reach it.
type jobCalls struct {
	httpapi.JobService
	n int
}

func (c *jobCalls) Get(ctx context.Context, id string) (*patchpanda.Job, error) {
	c.n++
	return &patchpanda.Job{ID: id}, nil
}

func (c *jobCalls) Replay(ctx context.Context, id string, who *patchpanda.Principal) (*patchpanda.Job, error) {
	c.n++
	return &patchpanda.Job{ID: id}, nil
}

func (c *jobCalls) Claim(ctx context.Context, id string, who *patchpanda.Principal) (patchpanda.Lease, error) {
	c.n++
	return patchpanda.Lease{ID: "l"}, nil
}

func (c *jobCalls) Report(ctx context.Context, id, lease string, ev patchpanda.WorkerEvent, who *patchpanda.Principal) (*patchpanda.Job, error) {
	c.n++
	return &patchpanda.Job{ID: id}, nil
}

func (c *jobCalls) Token(ctx context.Context, id, lease string, who *patchpanda.Principal) (*patchpanda.JobToken, error) {
	c.n++
	return &patchpanda.JobToken{}, nil
}

func TestJobIdsInPathsAreChecked(t *testing.T) {
	ctx := context.Background()
	env := apitest.Start(t, nil)
	_, key, err := env.Keys.Create(ctx, "w", []patchpanda.Scope{patchpanda.ScopeJobsRead, patchpanda.ScopeJobsWrite, patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	svc := &jobCalls{}
	api := &httpapi.Server{Logger: slog.New(slog.DiscardHandler), Auth: env.Keys, Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.JobRoutes(svc)}}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	routes := []struct{ method, suffix, body string }{
		{"GET", "", ""},
		{"POST", "/replay", ""},
		{"POST", "/claim", ""},
		{"POST", "/events", `{"type":"progress","message":"m"}`},
		{"POST", "/token", ""},
	}
	for _, id := range []struct{ name, path, want string }{
		{"a 10 KB id", strings.Repeat("j", 10240), "job id is 10240 bytes long; the limit is 64"},
		{"an id with NUL", "job_1%00", "job id \"job_1\\x00\" has a character other than"},
		{"an id with a newline", "job_1%0Ax", "job id \"job_1\\nx\" has a character other than"},
		{"an id with a space", "job%201", "has a character other than"},
	} {
		for _, r := range routes {
			t.Run(id.name+" "+r.method+r.suffix+" is 400", func(t *testing.T) {
				code, msg := call(t, srv.URL, key, r.method, "/api/jobs/"+id.path+r.suffix, r.body)
				if code != http.StatusBadRequest || !strings.Contains(msg, id.want) {
					t.Errorf("= %d %q, want 400 with %q", code, msg, id.want)
				}
			})
		}
	}
	if svc.n != 0 {
		t.Errorf("%d calls reached the job service, want none", svc.n)
	}
	id := patchpanda.NewJobID(time.Now())
	for _, r := range routes {
		if code, msg := call(t, srv.URL, key, r.method, "/api/jobs/"+id+r.suffix, r.body); code >= 300 {
			t.Errorf("%s /api/jobs/%s%s = %d %q, want success", r.method, id, r.suffix, code, msg)
		}
	}
	if svc.n != len(routes) {
		t.Errorf("%d calls reached the job service, want %d", svc.n, len(routes))
	}
}
