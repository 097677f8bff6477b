package githubapp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDefaultSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a cancelled context = %v", err)
	}
	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("short sleep = %v", err)
	}
}

func TestRateLimitWait(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	resp := func(status int, headers ...string) *http.Response {
		h := http.Header{}
		for i := 0; i < len(headers); i += 2 {
			h.Set(headers[i], headers[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	tests := []struct {
		name    string
		resp    *http.Response
		body    string
		n       int
		wait    time.Duration
		limited bool
	}{
		{"Retry-After in seconds", resp(403, "Retry-After", "17"), "", 0, 17 * time.Second, true},
		{"Retry-After as a date", resp(429, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), "", 0, 90 * time.Second, true},
		{"primary limit waits past the reset", resp(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Minute).Unix(), 10)), "", 0, 61 * time.Second, true},
		{"primary limit already reset waits a second", resp(429, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)), "", 0, time.Second, true},
		{"secondary limit message doubles per retry", resp(403, "X-RateLimit-Remaining", "4000"), `{"message":"You have exceeded a secondary rate limit"}`, 2, 4 * time.Minute, true},
		{"bare 429 is a limit", resp(429), "", 0, time.Minute, true},
		{"permission 403 is no limit", resp(403, "X-RateLimit-Remaining", "4000"), `{"message":"Resource not accessible by integration"}`, 0, 0, false},
		{"500 is no limit", resp(500, "Retry-After", "3"), "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, limited := rateLimitWait(tt.resp, []byte(tt.body), now, tt.n)
			if wait != tt.wait || limited != tt.limited {
				t.Errorf("rateLimitWait = %v, %v; want %v, %v", wait, limited, tt.wait, tt.limited)
			}
		})
	}
}

// FuzzNew checks that no operator-supplied key or URL makes New panic, and
// that a refused key is never echoed in the error.
func FuzzNew(f *testing.F) {
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"), "https://ghe.example/api/v3")
	f.Add([]byte("not a key"), "::")
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "http://[::1]:8080")
	f.Fuzz(func(t *testing.T, key []byte, base string) {
		c, err := New(Config{AppID: 1, PrivateKeyPEM: key, BaseURL: base}, nil)
		if err == nil {
			if !c.Enabled() {
				t.Error("client with a key is not enabled")
			}
			return
		}
		if len(key) >= 16 && strings.Contains(err.Error(), string(key)) {
			t.Errorf("error %q echoes the key", err)
		}
	})
}
