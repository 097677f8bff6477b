package githubapp_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is a manual clock shared by the client and the fake.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sleeper records the waits asked for and advances the clock instead of
// sleeping.
type sleeper struct {
	mu    sync.Mutex
	clock *clock
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// headerRecorder remembers every Authorization header sent.
type headerRecorder struct {
	mu    sync.Mutex
	base  http.RoundTripper
	auths []string
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.auths = append(h.auths, r.Header.Get("Authorization"))
	h.mu.Unlock()
	return h.base.RoundTrip(r)
}

func (h *headerRecorder) Auths() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.auths...)
}

type env struct {
	gh      *githubtest.Server
	c       *githubapp.Client
	inst    githubtest.Installation
	clock   *clock
	sleeper *sleeper
	logs    *lockedBuffer
	headers *headerRecorder
	ctx     context.Context
}

type setupOptions struct {
	serverOpts []githubtest.Option
	tweak      func(*githubapp.Config)
}

// setup starts a fake GitHub with one installation on "octo" reaching
// octo/widgets and octo/gadgets, and a client for it sharing one manual
// clock.
func setup(t *testing.T, o setupOptions) *env {
	t.Helper()
	clk := &clock{now: t0}
	e := &env{clock: clk, sleeper: &sleeper{clock: clk}, logs: &lockedBuffer{}, ctx: context.Background()}
	e.gh = githubtest.New(t, append([]githubtest.Option{githubtest.WithClock(clk.Now)}, o.serverOpts...)...)
	e.inst = e.gh.AddInstallation(githubtest.Installation{
		Account:      "octo",
		Repositories: []patchpanda.Repository{{Name: "widgets"}, {Name: "gadgets"}},
	})
	e.headers = &headerRecorder{base: e.gh.Client().Transport}
	cfg := githubapp.Config{
		AppID:         e.gh.AppID,
		PrivateKeyPEM: e.gh.PrivateKeyPEM,
		BaseURL:       e.gh.URL(),
		HTTPClient:    &http.Client{Transport: e.headers},
		Now:           clk.Now,
		Sleep:         e.sleeper.Sleep,
	}
	if o.tweak != nil {
		o.tweak(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := githubapp.New(cfg, logger)
	if err != nil {
		t.Fatalf("githubapp.New: %v", err)
	}
	e.c = c
	return e
}
