// Package limits names the budgets the relay holds requests to and reports
// when one is hit: a counter per limit (exported on /metrics as
// patchpanda_limit_hits_total{limit}) and a log line at most once a minute
// per limit and offender, so a flood of refused requests costs one line a
// minute, not one per request.
package limits

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The limits, by the name they carry in metrics and logs. The set is fixed:
// a label value never comes from a request.
const (
	WebhookBody        = "webhook_body_bytes"        // PATCHPANDA_WEBHOOK_MAX_BYTES
	WebhookMemory      = "webhook_memory"            // PATCHPANDA_WEBHOOK_MEMORY
	WebhookReadTimeout = "webhook_read_timeout"      // PATCHPANDA_WEBHOOK_READ_TIMEOUT
	WebhookSignature   = "webhook_signature"         // a delivery whose signature failed (no setting: always refused)
	AuthFailures       = "auth_failures_per_ip"      // PATCHPANDA_AUTH_FAILURES_PER_MINUTE
	LongPolls          = "long_polls_per_key"        // PATCHPANDA_LONG_POLLS_PER_KEY
	CoverageUpload     = "coverage_upload_bytes"     // PATCHPANDA_COVERAGE_MAX_UPLOAD
	CoverageFiles      = "coverage_report_files"     // PATCHPANDA_COVERAGE_MAX_FILES
	CoverageLines      = "coverage_report_lines"     // PATCHPANDA_COVERAGE_MAX_LINES
	CoverageDepth      = "coverage_xml_depth"        // PATCHPANDA_COVERAGE_MAX_XML_DEPTH
	CoverageElements   = "coverage_xml_elements"     // PATCHPANDA_COVERAGE_MAX_XML_ELEMENTS
	CoverageCommit     = "coverage_commit_lines"     // PATCHPANDA_COVERAGE_MAX_COMMIT_LINES
	CoverageRate       = "coverage_uploads_per_repo" // PATCHPANDA_COVERAGE_UPLOADS_PER_MINUTE
	CoverageConcurrent = "coverage_uploads_at_once"  // PATCHPANDA_COVERAGE_CONCURRENT_UPLOADS
	CoverageLinesPage  = "coverage_lines_page"       // ?lines=1 page size (fixed)
	RequestHeaderBytes = "request_header_bytes"      // PATCHPANDA_MAX_HEADER_BYTES (counted by the server, not here)
)

// All lists every limit name, so that the counter shows each at 0 before
// it is first hit.
var All = []string{WebhookBody, WebhookMemory, WebhookReadTimeout, WebhookSignature, AuthFailures, LongPolls, CoverageUpload, CoverageFiles, CoverageLines,
	CoverageDepth, CoverageElements, CoverageCommit, CoverageRate, CoverageConcurrent, CoverageLinesPage}

// maxOffenders bounds how many (limit, offender) pairs the Reporter
// remembers; past it, hits are still counted but new offenders are not
// logged until old entries expire.
const maxOffenders = 10000

// maxOffenderLen clips an offender (an IP, a key name, a repository) in the
// log line.
const maxOffenderLen = 100

// Reporter counts and logs limit hits. The zero value and a nil *Reporter
// do nothing, so packages can take one optionally. It is safe for
// concurrent use.
type Reporter struct {
	// Logger receives the warnings; nil logs nothing.
	Logger *slog.Logger
	// Count is called on every hit with the limit's name; nil counts
	// nothing.
	Count func(limit string)
	// Every is how often one offender of one limit is logged; one minute
	// when 0.
	Every time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	once Throttle
}

// Hit records that offender went over limit: it always counts, and logs
// "limit hit" with attrs unless the same limit and offender were logged
// within Every. It reports whether it logged.
func (r *Reporter) Hit(ctx context.Context, limit, offender string, attrs ...any) bool {
	if r == nil {
		return false
	}
	if r.Count != nil {
		r.Count(limit)
	}
	if r.Logger == nil {
		return false
	}
	if len(offender) > maxOffenderLen {
		offender = offender[:maxOffenderLen] + "…"
	}
	if !r.once.allow(limit+"\x00"+offender, r.Every, r.Now) {
		return false
	}
	r.Logger.WarnContext(ctx, "limit hit", append([]any{"limit", limit, "offender", offender}, attrs...)...)
	return true
}

// Throttle lets each key through at most once per Every: for log lines
// that a flood of requests would otherwise repeat. It remembers at most
// 10,000 keys; past that, new keys are held back until old ones expire.
// The zero value is ready to use; a nil *Throttle lets everything through.
// It is safe for concurrent use.
type Throttle struct {
	// Every is one minute when 0.
	Every time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

// Allow reports whether key may go through now, and if so notes the time.
func (t *Throttle) Allow(key string) bool {
	if t == nil {
		return true
	}
	return t.allow(key, t.Every, t.Now)
}

func (t *Throttle) allow(key string, every time.Duration, now func() time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	if every <= 0 {
		every = time.Minute
	}
	at := now()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	prev, seen := t.last[key]
	if seen && at.Sub(prev) < every {
		return false
	}
	if !seen && len(t.last) >= maxOffenders {
		for k, p := range t.last {
			if at.Sub(p) >= every {
				delete(t.last, k)
			}
		}
		if len(t.last) >= maxOffenders {
			return false
		}
	}
	t.last[key] = at
	return true
}
