package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// workerAuth accepts any token as a worker key named after the token.
type workerAuth struct{}

func (workerAuth) Authenticate(_ context.Context, token string) (*patchpanda.Principal, error) {
	if token == "bad" {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "bad key")
	}
	return &patchpanda.Principal{Kind: "key", Name: token, KeyID: int64(len(token)), Scopes: []patchpanda.Scope{patchpanda.ScopeWorker}}, nil
}

// parkedLeases is a JobService whose long polls wait until released.
type parkedLeases struct {
	httpapi.JobService
	in      chan struct{}
	release chan struct{}
}

func (p *parkedLeases) Lease(ctx context.Context, wait time.Duration, _ *patchpanda.Principal) (*patchpanda.Message, patchpanda.Lease, error) {
	p.in <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
	}
	return nil, patchpanda.Lease{}, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLongPollsAreCappedPerKey(t *testing.T) {
	jobs := &parkedLeases{in: make(chan struct{}, 4), release: make(chan struct{})}
	s := &httpapi.Server{Logger: quiet(), Auth: workerAuth{}, Limits: httpapi.Limits{LongPollsPerKey: 2},
		Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.JobRoutes(jobs)}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	lease := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/worker/lease?wait=30", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		return res
	}
	done := make(chan int, 3)
	for range 2 {
		go func() { res := lease("worker-a"); res.Body.Close(); done <- res.StatusCode }()
	}
	<-jobs.in
	<-jobs.in
	res := lease("worker-a")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "PATCHPANDA_LONG_POLLS_PER_KEY") || res.Header.Get("Retry-After") == "" {
		t.Errorf("third long poll of one key: %d %s (Retry-After %q); want 429 naming the setting, with Retry-After", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	go func() { res := lease("worker-b"); res.Body.Close(); done <- res.StatusCode }()
	<-jobs.in // another key is not held back
	close(jobs.release)
	for range 3 {
		if code := <-done; code != http.StatusNoContent {
			t.Errorf("a long poll within the cap answered %d; want 204", code)
		}
	}
}

func TestRejectedCredentialsAreLimitedPerAddress(t *testing.T) {
	now := time.Unix(1000, 0)
	s := &httpapi.Server{Logger: quiet(), Auth: workerAuth{}, Limits: httpapi.Limits{AuthFailuresPerMinute: 3, Now: func() time.Time { return now }},
		Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.JobRoutes(&parkedLeases{})}}
	h := s.Handler()
	call := func(key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/worker/lease", nil)
		req.RemoteAddr = "192.0.2.7:5555"
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for i := range 3 {
		if w := call("bad"); w.Code != http.StatusUnauthorized {
			t.Fatalf("rejected credential %d: %d; want 401", i, w.Code)
		}
	}
	w := call("good")
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "PATCHPANDA_AUTH_FAILURES_PER_MINUTE") || w.Header().Get("Retry-After") == "" {
		t.Errorf("after 3 rejected credentials: %d %s; want 429 naming the setting, with Retry-After", w.Code, w.Body)
	}
	now = now.Add(time.Minute)
	if w := call("bad"); w.Code != http.StatusUnauthorized {
		t.Errorf("a minute later: %d; want the credential looked up again (401)", w.Code)
	}
}

func TestAWebhookBodyThatTricklesIsCutOffByItsReadDeadline(t *testing.T) {
	v, err := webhook.NewVerifier([]string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	s := &httpapi.Server{Logger: quiet(), Webhooks: &httpapi.Webhooks{Verifier: v, ReadTimeout: time.Second, Logger: quiet()}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"+
		"X-Hub-Signature-256: sha256=%s\r\n\r\n{", strings.Repeat("0", 64))
	// Nothing more is sent: the answer comes when the deadline passes.
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "PATCHPANDA_WEBHOOK_READ_TIMEOUT") {
		t.Errorf("trickled body: %d %s; want 400 naming PATCHPANDA_WEBHOOK_READ_TIMEOUT", res.StatusCode, body)
	}
}

func TestMetricLabelsComeFromFixedSets(t *testing.T) {
	obs := &observer{}
	s := &httpapi.Server{Logger: quiet(), Observer: obs}
	h := s.Handler()
	for _, m := range []string{"GET", "BREW", strings.Repeat("X", 1024)} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/no/such/"+strings.Repeat("p", 500), nil))
	}
	want := []string{"unmatched GET", "unmatched OTHER", "unmatched OTHER"}
	if fmt.Sprint(obs.seen) != fmt.Sprint(want) {
		t.Errorf("labels %q; want %q", obs.seen, want)
	}
}

type observer struct{ seen []string }

func (o *observer) ObserveRequest(route, method string, code int, d time.Duration) {
	o.seen = append(o.seen, route+" "+method)
}

// parkedUploads is a CoverageService whose uploads wait until released.
type parkedUploads struct {
	httpapi.CoverageService
	in      chan struct{}
	release chan struct{}
}

func (p *parkedUploads) Upload(ctx context.Context, _ *patchpanda.Principal, _ coverage.UploadParams, body io.Reader) (coverage.Upload, bool, error) {
	p.in <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
	}
	return coverage.Upload{}, true, nil
}

func (p *parkedUploads) MaxUploadBytes() int64 { return 1 << 20 }

type uploaderAuth struct{}

func (uploaderAuth) Authenticate(_ context.Context, token string) (*patchpanda.Principal, error) {
	return &patchpanda.Principal{Kind: "key", Name: token, KeyID: 1, Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite}}, nil
}

func TestCoverageUploadsAtOnceAreCapped(t *testing.T) {
	svc := &parkedUploads{in: make(chan struct{}, 2), release: make(chan struct{})}
	s := &httpapi.Server{Logger: quiet(), Auth: uploaderAuth{}, Limits: httpapi.Limits{ConcurrentUploads: 2},
		Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.CoverageRoutes(svc)}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	upload := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/coverage?repo=acme/widgets&sha="+strings.Repeat("a", 40), strings.NewReader("TN:\n"))
		req.Header.Set("Authorization", "Bearer uploader")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		return res
	}
	done := make(chan int, 2)
	for range 2 {
		go func() { res := upload(); res.Body.Close(); done <- res.StatusCode }()
	}
	<-svc.in
	<-svc.in
	res := upload()
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "PATCHPANDA_COVERAGE_CONCURRENT_UPLOADS") || res.Header.Get("Retry-After") == "" {
		t.Errorf("third upload at once: %d %s (Retry-After %q); want 503 naming the setting, with Retry-After", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	close(svc.release)
	for range 2 {
		if code := <-done; code != http.StatusCreated {
			t.Errorf("an admitted upload answered %d, want 201", code)
		}
	}
	// The slots are free again.
	svc.release = make(chan struct{})
	close(svc.release)
	go func() { <-svc.in }()
	if res := upload(); res.StatusCode != http.StatusCreated {
		t.Errorf("upload after the others finished: %d, want 201", res.StatusCode)
	}
}
