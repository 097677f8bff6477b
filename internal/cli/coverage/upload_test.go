package coverage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	cov "github.com/patchpanda/patchpanda/internal/coverage"
)

const (
	headSHA  = "1111111111111111111111111111111111111111"
	mergeSHA = "2222222222222222222222222222222222222222"
	localSHA = "3333333333333333333333333333333333333333"
)

// upload is one request the fake relay received, its body undone.
type upload struct {
	query    url.Values
	auth     string
	encoding string
	// files is the file-list block's paths; nil when the body had none.
	files  []string
	report string
}

// answer is how the fake relay answers one request.
type answer struct {
	status     int
	retryAfter string
}

// fakeRelay implements POST /api/coverage as coverage_types.go describes
// it. It answers the requests with script in turn, repeating the last.
type fakeRelay struct {
	t      *testing.T
	srv    *httptest.Server
	script []answer

	mu      sync.Mutex
	uploads []upload
}

func newFakeRelay(t *testing.T, script ...answer) *fakeRelay {
	fr := &fakeRelay{t: t, script: script}
	fr.srv = httptest.NewServer(http.HandlerFunc(fr.serve))
	t.Cleanup(fr.srv.Close)
	return fr
}

func (fr *fakeRelay) received() []upload {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]upload(nil), fr.uploads...)
}

func (fr *fakeRelay) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/coverage" {
		http.Error(w, "not the upload endpoint", http.StatusNotFound)
		return
	}
	u := upload{query: r.URL.Query(), auth: r.Header.Get("Authorization"), encoding: r.Header.Get("Content-Encoding")}
	var body io.Reader = r.Body
	if u.encoding == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	br := bufio.NewReader(body)
	if head, _ := br.Peek(len(cov.FilesHeader)); string(head) == cov.FilesHeader {
		br.Discard(len(head))
		u.files = []string{}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				http.Error(w, "file list without its end", http.StatusBadRequest)
				return
			}
			if line == cov.ReportHeader {
				break
			}
			u.files = append(u.files, strings.TrimSuffix(line, "\n"))
		}
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.report = string(rest)

	fr.mu.Lock()
	n := len(fr.uploads)
	fr.uploads = append(fr.uploads, u)
	fr.mu.Unlock()

	a := fr.script[min(n, len(fr.script)-1)]
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	if a.status >= 300 {
		w.WriteHeader(a.status)
		fmt.Fprintf(w, `{"error":{"code":"%s","message":"fake relay says %d"}}`, codeFor(a.status), a.status)
		return
	}
	q := u.query
	res := cov.Upload{ID: 42, URL: fr.srv.URL + "/coverage/42", Repository: q.Get("repo"), SHA: q.Get("sha"),
		Branch: q.Get("branch"), Flag: q.Get("flag"), Format: q.Get("format"), Duplicate: a.status == http.StatusOK,
		Mapped: len(u.files), Unmapped: []string{"/elsewhere/gen.go"}, UnmappedCount: 1}
	res.Totals.Files = 2
	res.Totals.LinesFound, res.Totals.LinesHit = 10, 5
	res.Totals.Percent = 50
	w.WriteHeader(a.status)
	json.NewEncoder(w).Encode(res)
}

func codeFor(status int) string {
	switch status {
	case 401:
		return "unauthorized"
	case 429:
		return "rate_limited"
	case 400:
		return "invalid"
	}
	return "unavailable"
}

// fakeGit answers the git commands ppctl runs as a checkout at /ci/repo,
// current directory sub/, would.
func fakeGit(ctx context.Context, args ...string) ([]byte, error) {
	switch strings.Join(args, " ") {
	case "rev-parse --show-toplevel --show-prefix":
		return []byte("/ci/repo\nsub/\n"), nil
	case "rev-parse --verify --quiet HEAD":
		return []byte(localSHA + "\n"), nil
	case "symbolic-ref --quiet --short HEAD":
		return []byte("main\n"), nil
	case "-C /ci/repo ls-files -z":
		return []byte("go.mod\x00sub/calc.go\x00odd\nname.go\x00"), nil
	}
	return nil, fmt.Errorf("fake git: unexpected git %q", args)
}

// sleeps records the waits between tries instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func inCheckout(sl *sleeps) deps {
	return deps{getenv: func(string) string { return "" }, git: fakeGit, sleep: sl.sleep}
}

// gzipped writes a gzipped copy of the report at src into dir.
func gzipped(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	p := filepath.Join(dir, filepath.Base(src)+".gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUploadSendsFileListAndReportAndRetriesAfter429(t *testing.T) {
	fr := newFakeRelay(t, answer{status: 429, retryAfter: "1"}, answer{status: 201})
	sl := &sleeps{}
	report := gzipped(t, golden+"go/set.out", t.TempDir())
	plain, _ := os.ReadFile(golden + "go/set.out")

	r := run(t, inCheckout(sl), false, []string{"--relay", fr.srv.URL, "--token", "ppk_test"},
		"upload", "--repo", "octo/hello", "--flag", "unit", "--pr", "7", "--ci-job", "build-1", report)
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.errOut)
	}
	ups := fr.received()
	if len(ups) != 2 {
		t.Fatalf("relay got %d requests, want 2 (429, then a retry)", len(ups))
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, sl.got()); diff != "" {
		t.Errorf("waits (-want +got), Retry-After: 1 not honoured:\n%s", diff)
	}
	wantQuery := url.Values{"repo": {"octo/hello"}, "sha": {localSHA}, "branch": {"main"}, "pr": {"7"}, "flag": {"unit"},
		"format": {"go"}, "root": {"/ci/repo"}, "prefix": {"sub"}, "ci_job": {"build-1"}}
	for i, u := range ups {
		if diff := cmp.Diff(wantQuery, u.query); diff != "" {
			t.Errorf("try %d: query (-want +got):\n%s", i+1, diff)
		}
		if u.auth != "Bearer ppk_test" || u.encoding != "gzip" {
			t.Errorf("try %d: Authorization %q, Content-Encoding %q", i+1, u.auth, u.encoding)
		}
		if diff := cmp.Diff([]string{"go.mod", "sub/calc.go"}, u.files); diff != "" {
			t.Errorf("try %d: file list (-want +got):\n%s", i+1, diff)
		}
		if u.report != string(plain) {
			t.Errorf("try %d: report sent is not the plain report (%d bytes, want %d)", i+1, len(u.report), len(plain))
		}
	}
	if want := report + "\t42\tcreated\tgo\t50.0% of lines\t2\t1\t" + fr.srv.URL + "/coverage/42\n"; r.out != want {
		t.Errorf("stdout = %q, want %q", r.out, want)
	}
	for _, w := range []string{"try 1 failed: fake relay says 429", "/elsewhere/gen.go"} {
		if !strings.Contains(r.errOut, w) {
			t.Errorf("stderr %q does not mention %q", r.errOut, w)
		}
	}
}

func TestUploadRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []answer
		code     int
		requests int
		// waits are checked to be within ±20% of these (patchpanda.Backoff's jitter).
		waits []time.Duration
		msg   string
	}{
		{"5xx is retried with backoff until it succeeds", []answer{{status: 503}, {status: 502}, {status: 201}}, 0, 3,
			[]time.Duration{2 * time.Second, 4 * time.Second}, ""},
		{"an identical re-upload (200) is a success", []answer{{status: 200}}, 0, 1, nil, ""},
		{"it gives up after 5 tries", []answer{{status: 500}}, 1, 5,
			[]time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}, "gave up after 5 tries"},
		{"a rejected report is not retried", []answer{{status: 400}}, 1, 1, nil, "fake relay says 400"},
		{"a refused token exits 4 without retrying", []answer{{status: 401}}, 4, 1, nil, "fake relay says 401"},
		{"a Retry-After longer than 5 minutes is not waited out", []answer{{status: 429, retryAfter: "3600"}}, 1, 1, nil, "retry after 3600s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRelay(t, tc.script...)
			sl := &sleeps{}
			r := run(t, inCheckout(sl), false, []string{"--relay", fr.srv.URL, "--token", "k"},
				"upload", "--repo", "octo/hello", golden+"gcc-lcov/run1.info")
			if r.code != tc.code {
				t.Fatalf("exit %d (%v), want %d", r.code, r.err, tc.code)
			}
			if n := len(fr.received()); n != tc.requests {
				t.Errorf("relay got %d requests, want %d", n, tc.requests)
			}
			got := sl.got()
			if len(got) != len(tc.waits) {
				t.Fatalf("waited %v, want about %v", got, tc.waits)
			}
			for i, w := range tc.waits {
				if got[i] < w*8/10 || got[i] > w*12/10 {
					t.Errorf("wait %d = %v, want %v ±20%%", i+1, got[i], w)
				}
			}
			if tc.msg != "" && (r.err == nil || !strings.Contains(message(r.err), tc.msg)) {
				t.Errorf("error %v does not mention %q", r.err, tc.msg)
			}
		})
	}
}

func TestUploadRetriesAnUnreachableRelay(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	sl := &sleeps{}
	r := run(t, inCheckout(sl), false, []string{"--relay", addr, "--token", "k"},
		"upload", "--repo", "octo/hello", golden+"gcc-lcov/run1.info")
	if r.code != 1 || !strings.Contains(message(r.err), "cannot reach the relay") || !strings.Contains(message(r.err), "5 tries") {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if n := len(sl.got()); n != 4 {
		t.Errorf("waited %d times, want 4 (5 tries)", n)
	}
}

func TestUploadStopsWhenCancelledWhileWaiting(t *testing.T) {
	fr := newFakeRelay(t, answer{status: 503})
	d := inCheckout(&sleeps{})
	d.sleep = func(context.Context, time.Duration) error { return context.Canceled }
	r := run(t, d, false, []string{"--relay", fr.srv.URL, "--token", "k"}, "upload", "--repo", "octo/hello", golden+"gcc-lcov/run1.info")
	if r.code != 2 || len(fr.received()) != 1 {
		t.Fatalf("exit %d after %d requests (%v), want 2 after 1", r.code, len(fr.received()), r.err)
	}
}

func TestUploadWithoutFileList(t *testing.T) {
	tests := []struct {
		name    string
		d       deps
		args    []string
		warning bool
	}{
		{"--no-files sends the report alone", inCheckout(&sleeps{}), []string{"--no-files"}, false},
		{"outside a git checkout the report goes alone, with a warning", noMachine(), []string{"--sha", headSHA}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRelay(t, answer{status: 201})
			args := append(append([]string{"upload", "--repo", "octo/hello"}, tc.args...), golden+"jacoco/jacoco.xml")
			r := run(t, tc.d, false, []string{"--relay", fr.srv.URL, "--token", "k"}, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %v", r.code, r.err)
			}
			ups := fr.received()
			if len(ups) != 1 || ups[0].files != nil {
				t.Fatalf("uploads %+v, want one without a file list", ups)
			}
			want, _ := os.ReadFile(golden + "jacoco/jacoco.xml")
			if ups[0].report != string(want) || ups[0].query.Get("format") != "jacoco" {
				t.Errorf("report or format not sent as is (format %q)", ups[0].query.Get("format"))
			}
			if got := strings.Contains(r.errOut, "no file list"); got != tc.warning {
				t.Errorf("warning printed = %v, want %v: %q", got, tc.warning, r.errOut)
			}
		})
	}
}

func TestUploadJSONPrintsTheRelaysAnswers(t *testing.T) {
	fr := newFakeRelay(t, answer{status: 201})
	r := run(t, inCheckout(&sleeps{}), false, []string{"--relay", fr.srv.URL, "--token", "k"},
		"upload", "--json", "--repo", "octo/hello", golden+"gcc-lcov/run1.info", golden+"go/set.out")
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	var got []cov.Upload
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("--json printed %q: %v", r.out, err)
	}
	if len(got) != 2 || got[0].Format != "lcov" || got[1].Format != "go" || got[0].ID != 42 {
		t.Errorf("answers = %+v", got)
	}
}

func TestUploadRefusesBadInputBeforeSending(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello\n"), 0o644)
	tests := []struct {
		name string
		d    deps
		args []string
		msg  string
	}{
		{"no repository", inCheckout(&sleeps{}), []string{golden + "go/set.out"}, "--repo"},
		{"a repository that is not OWNER/NAME", inCheckout(&sleeps{}), []string{"--repo", "hello", golden + "go/set.out"}, "OWNER/NAME"},
		{"no commit outside a checkout", noMachine(), []string{"--repo", "o/r", golden + "go/set.out"}, "--sha"},
		{"a short sha", inCheckout(&sleeps{}), []string{"--repo", "o/r", "--sha", "abc123", golden + "go/set.out"}, "full commit sha"},
		{"a file of no known format", inCheckout(&sleeps{}), []string{"--repo", "o/r", golden + "go/set.out", notes}, "--format"},
		{"a missing file", inCheckout(&sleeps{}), []string{"--repo", "o/r", filepath.Join(dir, "gone.info")}, "gone.info"},
		{"an unknown --format", inCheckout(&sleeps{}), []string{"--repo", "o/r", "--format", "xml", golden + "go/set.out"}, "--format"},
		{"a negative --pr", inCheckout(&sleeps{}), []string{"--repo", "o/r", "--pr", "-1", golden + "go/set.out"}, "--pr"},
		{"no file", inCheckout(&sleeps{}), []string{"--repo", "o/r"}, "usage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRelay(t, answer{status: 201})
			r := run(t, tc.d, false, []string{"--relay", fr.srv.URL, "--token", "k"}, append([]string{"upload"}, tc.args...)...)
			if r.code != 1 || !strings.Contains(message(r.err), tc.msg) {
				t.Errorf("exit %d, error %v; want 1 mentioning %q", r.code, r.err, tc.msg)
			}
			if n := len(fr.received()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// actionsEnv is a pull_request job's environment with an event file and,
// when idTokenURL is set, permission to mint ID tokens.
func actionsEnv(t *testing.T, idTokenURL string) func(string) string {
	t.Helper()
	event := filepath.Join(t.TempDir(), "event.json")
	payload := `{"action":"synchronize","number":12,"pull_request":{"number":12,"head":{"sha":"` + headSHA + `","ref":"feature"}}}`
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/hello", "GITHUB_SHA": mergeSHA,
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event, "GITHUB_HEAD_REF": "feature",
		"GITHUB_REF": "refs/pull/12/merge", "GITHUB_REF_NAME": "12/merge", "GITHUB_JOB": "test", "GITHUB_RUN_ID": "99",
	}
	if idTokenURL != "" {
		env["ACTIONS_ID_TOKEN_REQUEST_URL"] = idTokenURL
		env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-request-token"
	}
	return func(k string) string { return env[k] }
}

// tokenService emulates the runner's ACTIONS_ID_TOKEN_REQUEST_URL.
func tokenService(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer runner-request-token" || r.URL.Query().Get("audience") != "patchpanda" {
			http.Error(w, `{"message":"bad request token or audience"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"value":"oidc-id-token"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUploadInsideGitHubActions(t *testing.T) {
	ts := tokenService(t)
	tests := []struct {
		name      string
		global    []string
		args      []string
		wantAuth  string
		wantQuery url.Values
	}{
		{"the run gives the commit and the OIDC token authenticates", nil, nil, "Bearer oidc-id-token",
			url.Values{"repo": {"octo/hello"}, "sha": {headSHA}, "branch": {"feature"}, "pr": {"12"}, "format": {"lcov"},
				"root": {"/ci/repo"}, "prefix": {"sub"}, "ci_job": {"test/99"}}},
		{"flags and a given token win over the run", []string{"--token", "ppk_given"},
			[]string{"--repo", "octo/other", "--sha", localSHA, "--branch", "b", "--pr", "3", "--ci-job", "x", "--root", "/w", "--prefix", "p"},
			"Bearer ppk_given",
			url.Values{"repo": {"octo/other"}, "sha": {localSHA}, "branch": {"b"}, "pr": {"3"}, "format": {"lcov"},
				"root": {"/w"}, "prefix": {"p"}, "ci_job": {"x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRelay(t, answer{status: 201})
			d := inCheckout(&sleeps{})
			d.getenv = actionsEnv(t, ts.URL+"/token?api-version=2.0")
			args := append(append([]string{"upload"}, tc.args...), golden+"gcc-lcov/run1.info")
			r := run(t, d, false, append([]string{"--relay", fr.srv.URL}, tc.global...), args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %v", r.code, r.err)
			}
			ups := fr.received()
			if len(ups) != 1 {
				t.Fatalf("%d requests", len(ups))
			}
			if ups[0].auth != tc.wantAuth {
				t.Errorf("Authorization = %q, want %q", ups[0].auth, tc.wantAuth)
			}
			if diff := cmp.Diff(tc.wantQuery, ups[0].query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUploadInActionsWithoutIDTokenPermissionExits4(t *testing.T) {
	fr := newFakeRelay(t, answer{status: 201})
	d := inCheckout(&sleeps{})
	d.getenv = actionsEnv(t, "")
	r := run(t, d, false, []string{"--relay", fr.srv.URL}, "upload", golden+"gcc-lcov/run1.info")
	if r.code != 4 || !strings.Contains(message(r.err), "id-token: write") {
		t.Fatalf("exit %d: %v; want 4 and a hint at id-token: write", r.code, r.err)
	}
	if len(fr.received()) != 0 {
		t.Error("uploaded without credentials")
	}
}

func TestUploadReadErrorIsNotRetried(t *testing.T) {
	dir := t.TempDir()
	full := gzipped(t, golden+"gcc-lcov/run1.info", dir)
	b, _ := os.ReadFile(full)
	// Detection reads the first bytes fine; the upload hits the cut.
	cut := filepath.Join(dir, "cut.info.gz")
	os.WriteFile(cut, b[:len(b)-10], 0o644)
	fr := newFakeRelay(t, answer{status: 201})
	sl := &sleeps{}
	r := run(t, inCheckout(sl), false, []string{"--relay", fr.srv.URL, "--token", "k"}, "upload", "--repo", "o/r", cut)
	if r.code != 1 || !strings.Contains(message(r.err), "cut.info.gz") || errors.Is(r.err, context.Canceled) {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if len(sl.got()) != 0 {
		t.Errorf("retried a report that cannot be read: waits %v", sl.got())
	}
}

func TestUploadDryRunSendsNothing(t *testing.T) {
	ts := tokenService(t)
	tests := []struct {
		name       string
		global     []string
		actions    bool
		credential string
	}{
		{"with an API key", []string{"--token", "ppk_given"}, false, "credential: API key"},
		{"in GitHub Actions without a token: the OIDC token, not fetched", nil, true, "credential: GitHub Actions OIDC ID token (audience patchpanda)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRelay(t, answer{status: 201})
			d := inCheckout(&sleeps{})
			if tc.actions {
				d.getenv = actionsEnv(t, ts.URL+"/token?api-version=2.0")
			}
			r := run(t, d, false, append([]string{"--relay", fr.srv.URL}, tc.global...),
				"upload", "--dry-run", "--repo", "octo/hello", "--sha", headSHA, golden+"gcc-lcov/run1.info")
			if r.code != 0 {
				t.Fatalf("exit %d: %v", r.code, r.err)
			}
			for _, want := range []string{"run1.info (lcov)", "POST " + fr.srv.URL + "/api/coverage?", "repo=octo%2Fhello", "sha=" + headSHA, tc.credential, "file list: "} {
				if !strings.Contains(r.out, want) {
					t.Errorf("plan lacks %q:\n%s", want, r.out)
				}
			}
			if strings.Contains(r.out, "ppk_given") || strings.Contains(r.out, "oidc-id-token") {
				t.Errorf("the plan shows a credential:\n%s", r.out)
			}
			if n := len(fr.received()); n != 0 {
				t.Errorf("a dry run sent %d requests", n)
			}
		})
	}
}
