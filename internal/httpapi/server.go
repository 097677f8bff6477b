// Package httpapi is the relay's HTTP surface: routes, middleware, the one
// error-to-status table, and the typed Client that ppctl uses. It depends on
// the services it serves only through the small interfaces declared here.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Authenticator maps a bearer credential to a principal. It returns an
// EUNAUTHORIZED error for a credential it does not accept.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error)
}

// KeyService manages API keys.
type KeyService interface {
	Create(ctx context.Context, name string, scopes []patchpanda.Scope, ttl time.Duration, by string) (patchpanda.APIKey, string, error)
	List(ctx context.Context) ([]patchpanda.APIKey, error)
	Revoke(ctx context.Context, id int64, by string) (patchpanda.APIKey, error)
}

// AuditLog lists audit events.
type AuditLog interface {
	AuditEvents(ctx context.Context, f patchpanda.AuditFilter) ([]patchpanda.AuditEvent, error)
}

// AuditVerifier checks the audit chain (audit.Verifier). expect is a head
// the caller saw elsewhere, or nil.
type AuditVerifier interface {
	Verify(ctx context.Context, expect *patchpanda.AuditHead) (patchpanda.AuditReport, error)
}

// Check is one readiness check: a dependency that must answer.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Observer records answered requests (Prometheus, in the relay). route is
// a route pattern or "unmatched" and method one of MethodLabel's: both come
// from fixed sets.
type Observer interface {
	ObserveRequest(route, method string, code int, d time.Duration)
}

// Server holds what the routes need. Zero-valued optional services leave
// their routes answering 404.
type Server struct {
	Logger   *slog.Logger
	Auth     Authenticator
	Keys     KeyService
	Audit    AuditLog
	Ready    []Check
	Metrics  http.Handler // GET /metrics
	Observer Observer
	// Webhooks serves POST /webhooks/github.
	Webhooks http.Handler
	// Routes adds more routes; each registers on mux with the helpers given.
	Routes []func(mux *http.ServeMux, s *Server)

	// AuditVerify serves GET /api/audit/verify.
	AuditVerify AuditVerifier
	// Limits are the per-client budgets (defaults when zero).
	Limits Limits

	failures    *failureWindows
	polls       *pollSlots
	uploads     chan struct{}   // a slot per coverage upload in progress; nil: no cap
	unavailable limits.Throttle // logs of EUNAVAILABLE answers
}

// Handler returns the relay's whole HTTP handler.
func (s *Server) Handler() http.Handler {
	s.Limits = s.Limits.withDefaults()
	if s.Limits.AuthFailuresPerMinute > 0 {
		s.failures = &failureWindows{max: s.Limits.AuthFailuresPerMinute, now: s.Limits.Now, m: map[string]*window{}}
	}
	if s.Limits.LongPollsPerKey > 0 {
		s.polls = &pollSlots{max: s.Limits.LongPollsPerKey, m: map[credential]int{}}
	}
	if s.Limits.ConcurrentUploads > 0 {
		s.uploads = make(chan struct{}, s.Limits.ConcurrentUploads)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	if s.Webhooks != nil {
		mux.Handle("POST /webhooks/github", s.Webhooks)
	}
	if s.Keys != nil {
		mux.Handle("POST /api/admin/keys", s.Require(patchpanda.ScopeAdmin, s.createKey))
		mux.Handle("GET /api/admin/keys", s.Require(patchpanda.ScopeAdmin, s.listKeys))
		mux.Handle("POST /api/admin/keys/{id}/revoke", s.Require(patchpanda.ScopeAdmin, s.revokeKey))
		mux.Handle("DELETE /api/admin/keys/{id}", s.Require(patchpanda.ScopeAdmin, s.revokeKey))
	}
	if s.Audit != nil {
		mux.Handle("GET /api/audit", s.Require(patchpanda.ScopeAdmin, s.listAudit))
	}
	if s.AuditVerify != nil {
		mux.Handle("GET /api/audit/verify", s.Require(patchpanda.ScopeAdmin, s.verifyAudit))
	}
	for _, add := range s.Routes {
		add(mux, s)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, patchpanda.Errorf(patchpanda.ENOTFOUND, "no route for %s %s", clip(r.Method, 20), clip(r.URL.Path, maxLogField)))
	})
	return s.middleware(mux)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]string{}
	ok := true
	for _, c := range s.Ready {
		if err := c.Check(ctx); err != nil {
			status[c.Name] = patchpanda.ErrorMessage(err)
			ok = false
		} else {
			status[c.Name] = "ok"
		}
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": ok, "checks": status})
}

// Error answers with err as the API's JSON error shape.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.Logger, &s.unavailable, err)
}

// JSON answers with v as JSON and the status.
func (s *Server) JSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// Decode reads a JSON request body into v (strictly: unknown fields are an
// error), returning an error that names what was wrong.
func (s *Server) Decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(w, r, v)
}

// HandlerFunc is an API handler that returns an error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Require wraps h so it runs only for a principal carrying scope; a missing
// or rejected credential is 401 and a missing scope 403. A client address
// that sent more rejected credentials than Limits.AuthFailuresPerMinute
// gets 429 for any credential until its minute is over, so junk tokens
// cannot each cost a call to GitHub.
func (s *Server) Require(scope patchpanda.Scope, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if wait, blocked := s.failures.blocked(ip); blocked && r.Header.Get("Authorization") != "" {
			s.Limits.Reporter.Hit(r.Context(), limits.AuthFailures, ip)
			s.Error(w, r, retryLater(wait, patchpanda.ERATELIMITED,
				"too many rejected credentials from %s; try again in %s (PATCHPANDA_AUTH_FAILURES_PER_MINUTE allows %d a minute)",
				ip, wait.Round(time.Second), s.Limits.AuthFailuresPerMinute))
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED && r.Header.Get("Authorization") != "" {
				s.failures.fail(ip)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="patchpanda"`)
			s.Error(w, r, err)
			return
		}
		if !p.Can(scope) {
			s.Error(w, r, patchpanda.Errorf(patchpanda.EFORBIDDEN, "%s lacks the %s scope", p.Name, scope))
			return
		}
		setPrincipal(r.Context(), p)
		if err := h(w, r.WithContext(withPrincipal(r.Context(), p))); err != nil {
			s.Error(w, r, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request) (*patchpanda.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "authentication required: send Authorization: Bearer <API key>")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) || token == "" {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "Authorization header must be \"Bearer <token>\" (or \"token <token>\")")
	}
	if s.Auth == nil {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "this relay accepts no credentials")
	}
	return s.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
	logSlotKey
)

// RequestID returns the request's id, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// PrincipalFrom returns who the request acts for, or nil.
func PrincipalFrom(ctx context.Context) *patchpanda.Principal {
	p, _ := ctx.Value(principalKey).(*patchpanda.Principal)
	return p
}

func withPrincipal(ctx context.Context, p *patchpanda.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// logSlot lets an inner handler tell the outer logging middleware who the
// request acted for.
type logSlot struct{ principal string }

func setPrincipal(ctx context.Context, p *patchpanda.Principal) {
	if slot, ok := ctx.Value(logSlotKey).(*logSlot); ok {
		slot.principal = clip(p.String(), maxLogField)
	}
}

// MethodLabel returns method when it is one of the methods the HTTP RFCs
// define, and "OTHER" for anything else, so that a metric label or log
// field never holds what a client made up.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// maxLogField bounds a field of the access log that a client influences.
const maxLogField = 100

// clip shortens s to n bytes for a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware adds a request id, recovers panics as 500s, records metrics by
// route pattern and logs one line per request.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		slot := &logSlot{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), logSlotKey, slot)
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(ctx, "panic serving request", "panic", v, "request_id", id)
				if rec.status == 0 {
					writeError(rec, r, s.Logger, &s.unavailable, patchpanda.Errorf(patchpanda.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			d := time.Since(start)
			// Labels and log fields come from fixed sets (the route
			// pattern, the known methods) so a client cannot grow /metrics
			// or the log with values it makes up.
			method := MethodLabel(r.Method)
			if s.Observer != nil {
				s.Observer.ObserveRequest(route, method, rec.status, d)
			}
			attrs := []any{"method", method, "route", route, "status", rec.status,
				"duration_ms", float64(d.Microseconds()) / 1000, "request_id", id, "remote", clientIP(r)}
			if slot.principal != "" {
				attrs = append(attrs, "principal", slot.principal)
			}
			level := slog.LevelInfo
			if route == "GET /healthz" || route == "GET /metrics" || route == "GET /readyz" {
				level = slog.LevelDebug
			}
			s.Logger.Log(ctx, level, "http request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}
