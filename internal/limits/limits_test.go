package limits_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/limits"
)

func TestReporterLogsOncePerOffenderPerMinuteAndCountsEveryHit(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	counted := map[string]int{}
	r := &limits.Reporter{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Count: func(l string) { counted[l]++ },
		Now: func() time.Time { return now }}
	ctx := context.Background()
	for range 100 {
		r.Hit(ctx, limits.AuthFailures, "192.0.2.1")
	}
	r.Hit(ctx, limits.AuthFailures, "192.0.2.2")
	r.Hit(ctx, limits.LongPolls, "192.0.2.1")
	now = now.Add(61 * time.Second)
	if !r.Hit(ctx, limits.AuthFailures, "192.0.2.1") {
		t.Error("a minute later the same offender was not logged again")
	}
	if got := strings.Count(buf.String(), "limit hit"); got != 4 {
		t.Errorf("logged %d lines; want 4 (one per offender and limit, one more a minute later):\n%s", got, buf.String())
	}
	if counted[limits.AuthFailures] != 102 || counted[limits.LongPolls] != 1 {
		t.Errorf("counted %v; want every hit counted", counted)
	}
}

func TestNilReporterDoesNothing(t *testing.T) {
	var r *limits.Reporter
	if r.Hit(context.Background(), limits.WebhookBody, "x") {
		t.Error("a nil reporter logged")
	}
}

func TestReporterClipsLongOffenders(t *testing.T) {
	var buf bytes.Buffer
	r := &limits.Reporter{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	r.Hit(context.Background(), limits.WebhookBody, strings.Repeat("A", 5000))
	if buf.Len() > 500 {
		t.Errorf("log line is %d bytes; want the offender clipped", buf.Len())
	}
}
