package httpapi

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Defaults of Limits.
const (
	DefaultAuthFailuresPerMinute = 30
	DefaultLongPollsPerKey       = 4
	DefaultConcurrentUploads     = 4
	DefaultUploadTimeout         = 5 * time.Minute
	DefaultWebhookReadTimeout    = 15 * time.Second
	DefaultWebhookMemory         = 128 << 20
)

// Limits are the per-client budgets the API enforces itself (the server's
// timeouts and header limit are http.Server's, see NewHTTPServer).
type Limits struct {
	// AuthFailuresPerMinute is how many rejected credentials one client
	// address may send a minute; past it, its requests that carry a
	// credential are answered 429 without looking the credential up.
	// DefaultAuthFailuresPerMinute when 0; no limit when negative.
	AuthFailuresPerMinute int
	// LongPollsPerKey bounds the concurrent POST /api/worker/lease?wait=
	// of one credential; DefaultLongPollsPerKey when 0, none when negative.
	LongPollsPerKey int
	// ConcurrentUploads bounds the coverage uploads the relay spools and
	// parses at once (each may hold a report of up to the line budget in
	// memory); DefaultConcurrentUploads when 0, none when negative.
	ConcurrentUploads int
	// UploadTimeout is how long a coverage upload may take to send its
	// body and get its answer (the server's own read and write timeouts
	// are shorter); DefaultUploadTimeout when 0.
	UploadTimeout time.Duration
	// Reporter counts and logs hits; nil does neither.
	Reporter *limits.Reporter
	// Now is the clock of the failure windows; time.Now when nil.
	Now func() time.Time
}

func (l Limits) withDefaults() Limits {
	if l.AuthFailuresPerMinute == 0 {
		l.AuthFailuresPerMinute = DefaultAuthFailuresPerMinute
	}
	if l.LongPollsPerKey == 0 {
		l.LongPollsPerKey = DefaultLongPollsPerKey
	}
	if l.ConcurrentUploads == 0 {
		l.ConcurrentUploads = DefaultConcurrentUploads
	}
	if l.UploadTimeout <= 0 {
		l.UploadTimeout = DefaultUploadTimeout
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Timeouts are the server-wide timeouts NewHTTPServer applies; routes that
// need longer (uploads, long polls) or shorter (webhooks) move their own
// deadlines with http.ResponseController.
type Timeouts struct {
	ReadHeader     time.Duration // headers must arrive within this
	Read           time.Duration // the whole request, body included
	Write          time.Duration // from the end of the headers to the end of the answer
	Idle           time.Duration // a keep-alive connection between requests
	MaxHeaderBytes int
}

// NewHTTPServer returns the relay's http.Server for h with t's timeouts.
func NewHTTPServer(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: t.MaxHeaderBytes}
}

// extendDeadlines moves the connection's read and write deadlines to read
// and write from now (0 leaves one alone). A ResponseWriter that cannot
// (a test recorder) is left as it is.
func extendDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	now := time.Now()
	if read > 0 {
		_ = rc.SetReadDeadline(now.Add(read))
	}
	if write > 0 {
		_ = rc.SetWriteDeadline(now.Add(write))
	}
}

// clientIP is the address the request came from: the peer of the TCP
// connection. Forwarded headers are not trusted, since anyone can send
// them; behind a proxy the proxy's address is what is limited.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitedError is an ERATELIMITED or EUNAVAILABLE error that says when to
// come back; writeError sends that as Retry-After.
type limitedError struct {
	err  *patchpanda.Error
	wait time.Duration
}

func (e *limitedError) Error() string             { return e.err.Error() }
func (e *limitedError) Unwrap() error             { return e.err }
func (e *limitedError) RetryAfter() time.Duration { return e.wait }

func retryLater(wait time.Duration, code, format string, args ...any) error {
	return &limitedError{err: patchpanda.Errorf(code, format, args...), wait: wait}
}

// setRetryAfter sets Retry-After from an error that knows when to retry.
func setRetryAfter(w http.ResponseWriter, err error) {
	var ra RetryAfterError
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (ra.RetryAfter()+time.Second-1)/time.Second))))
	}
}

// maxTracked bounds the failure windows and poll counts kept in memory.
const maxTracked = 100000

// failureWindows counts rejected credentials per client address in
// fixed one-minute windows.
type failureWindows struct {
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// blocked reports whether ip has used up its failures for the current
// window, and how long until the window ends.
func (f *failureWindows) blocked(ip string) (time.Duration, bool) {
	if f == nil {
		return 0, false
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[ip]
	if !ok || now.Sub(w.start) >= time.Minute {
		return 0, false
	}
	if w.n < f.max {
		return 0, false
	}
	return w.start.Add(time.Minute).Sub(now), true
}

// fail counts one rejected credential from ip.
func (f *failureWindows) fail(ip string) {
	if f == nil {
		return
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[ip]
	if !ok || now.Sub(w.start) >= time.Minute {
		if !ok && len(f.m) >= maxTracked {
			for k, old := range f.m {
				if now.Sub(old.start) >= time.Minute {
					delete(f.m, k)
				}
			}
			if len(f.m) >= maxTracked {
				return // every window is live: count nothing new rather than grow
			}
		}
		w = &window{start: now}
		f.m[ip] = w
	}
	w.n++
}

// pollSlots counts concurrent long polls per credential.
type pollSlots struct {
	max int

	mu sync.Mutex
	m  map[credential]int
}

// credential names a principal for per-key limits.
type credential struct {
	kind, name string
	keyID      int64
}

func credentialOf(p *patchpanda.Principal) credential {
	if p == nil {
		return credential{}
	}
	return credential{kind: string(p.Kind), name: p.Name, keyID: p.KeyID}
}

func (p *pollSlots) acquire(key credential) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[key] >= p.max || (p.m[key] == 0 && len(p.m) >= maxTracked) {
		return false
	}
	p.m[key]++
	return true
}

func (p *pollSlots) release(key credential) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[key] <= 1 {
		delete(p.m, key)
		return
	}
	p.m[key]--
}
