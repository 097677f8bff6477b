// Package webhookload sends signed webhook deliveries at a fixed rate or
// as fast as the target answers, and measures the answers. It drives the
// intake benchmark (`make bench`) and the crash test; it only ever targets
// the URL it is given, which callers keep on loopback.
package webhookload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/patchpanda/patchpanda/internal/webhook"
)

// Options says what to send.
type Options struct {
	URL    string // the webhook endpoint
	Secret string
	// Rate is deliveries per second; 0 sends as fast as Workers allow.
	Rate     int
	Duration time.Duration
	// Max stops after this many deliveries (0: no limit).
	Max     int
	Workers int
	// Payload builds the body of delivery n; Event names its event.
	Event   string
	Payload func(n int) []byte
	Client  *http.Client
}

// Result is what the target answered.
type Result struct {
	Sent, Accepted, Duplicate, Failed int
	Elapsed                           time.Duration
	P50, P99, Max                     time.Duration
	// AcceptedIDs are the delivery ids answered 202.
	AcceptedIDs []string
}

// PerSecond returns accepted deliveries per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Elapsed.Seconds()
}

// Run sends deliveries until the duration passes, Max is reached or ctx
// ends, and returns what was answered. Connection errors count as failed
// (a killed target is part of the crash test).
func Run(ctx context.Context, o Options) Result {
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Event == "" {
		o.Event = "installation_repositories"
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers}}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()

	work := make(chan int, o.Workers)
	go func() {
		defer close(work)
		var tick *time.Ticker
		var interval time.Duration
		if o.Rate > 0 {
			interval = time.Second / time.Duration(o.Rate)
			tick = time.NewTicker(max(interval, time.Millisecond))
			defer tick.Stop()
		}
		start := time.Now()
		for n := 0; o.Max == 0 || n < o.Max; n++ {
			if tick != nil {
				// Keep the schedule: send as many as are due by now.
				due := time.Duration(n) * interval
				if wait := due - time.Since(start); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case work <- n:
			}
		}
	}()

	var (
		mu        sync.Mutex
		latencies []time.Duration
		res       Result
		sent      atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				id := GUID()
				body := o.Payload(n)
				t0 := time.Now()
				code := post(ctx, client, o, id, body)
				d := time.Since(t0)
				sent.Add(1)
				mu.Lock()
				latencies = append(latencies, d)
				switch code {
				case http.StatusAccepted:
					res.Accepted++
					res.AcceptedIDs = append(res.AcceptedIDs, id)
				case http.StatusOK:
					res.Duplicate++
				default:
					res.Failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Sent = int(sent.Load())
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.P50 = latencies[n/2]
		res.P99 = latencies[min(n-1, n*99/100)]
		res.Max = latencies[n-1]
	}
	return res
}

// GUID returns a new delivery id shaped as GitHub's X-GitHub-Delivery
// (8-4-4-4-12 hex digits). Its digits are random, as GitHub's are where
// they matter: consecutive deliveries do not sort together, so each one
// lands on its own page of the relay's unique index, as in production.
func GUID() string { return uuid.NewString() }

func post(ctx context.Context, c *http.Client, o Options, id string, body []byte) int {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, o.URL, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/webhookload")
	req.Header.Set(webhook.EventHeader, o.Event)
	req.Header.Set(webhook.DeliveryHeader, id)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(o.Secret, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// InstallationRepositories returns a realistic installation_repositories
// payload (about 2 KB) adding repository n to installation 1.
func InstallationRepositories(n int) []byte {
	return []byte(fmt.Sprintf(`{"action":"added","installation":{"id":1,"account":{"login":"acme","id":1,"type":"Organization","site_admin":false,"html_url":"https://github.com/acme","avatar_url":"https://avatars.githubusercontent.com/u/1?v=4"},"app_id":42,"target_type":"Organization","repository_selection":"selected","permissions":{"checks":"write","contents":"read","issues":"write","metadata":"read","pull_requests":"write"},"events":["check_run","issue_comment","pull_request"],"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"},"repository_selection":"selected","repositories_added":[{"id":%d,"node_id":"R_kgDOAAAA%d","name":"repo-%d","full_name":"acme/repo-%d","private":true}],"repositories_removed":[],"requester":null,"sender":{"login":"alice","id":2,"node_id":"U_kgDOAAAB","type":"User","site_admin":false,"html_url":"https://github.com/alice","avatar_url":"https://avatars.githubusercontent.com/u/2?v=4","gravatar_id":"","url":"https://api.github.com/users/alice","followers_url":"https://api.github.com/users/alice/followers","following_url":"https://api.github.com/users/alice/following{/other_user}","gists_url":"https://api.github.com/users/alice/gists{/gist_id}","starred_url":"https://api.github.com/users/alice/starred{/owner}{/repo}","subscriptions_url":"https://api.github.com/users/alice/subscriptions","organizations_url":"https://api.github.com/users/alice/orgs","repos_url":"https://api.github.com/users/alice/repos","events_url":"https://api.github.com/users/alice/events{/privacy}","received_events_url":"https://api.github.com/users/alice/received_events"}}`, 1000+n, n, n, n))
}
