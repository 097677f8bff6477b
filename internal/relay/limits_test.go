package relay_test

// One test per row of issue 9's table: each sends what an attacker sent
// and checks the new answer (status and message) and that the relay's heap
// stayed bounded. The heap is read in-process with runtime/metrics and the
// bounds are generous: the point is megabytes where there were gigabytes.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

// heapPeak samples the live heap until stop is called and returns how far
// its peak rose above where it was at the start, in bytes.
func heapPeak(t *testing.T) (stop func() uint64) {
	t.Helper()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	peak.Store(base)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		if v := read(); v > peak.Load() {
			peak.Store(v)
		}
		if peak.Load() < base {
			return 0
		}
		t.Logf("peak live heap %.1f MB above the start", float64(peak.Load()-base)/mb)
		return peak.Load() - base
	}
}

const mb = 1 << 20

func expectError(t *testing.T, res *http.Response, status int, msgParts ...string) string {
	t.Helper()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	res.Body.Close()
	short := string(body[:min(len(body), 300)])
	if res.StatusCode != status {
		t.Fatalf("status %d (%s); want %d", res.StatusCode, short, status)
	}
	for _, p := range msgParts {
		if !strings.Contains(string(body), p) {
			t.Errorf("answer %s does not mention %q", short, p)
		}
	}
	return string(body)
}

func coverageKey(t *testing.T, r *relay.Relay) string {
	t.Helper()
	_, key, err := r.Keys.Create(context.Background(), "ci", []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeCoverageRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func postCoverage(t *testing.T, r *relay.Relay, key, query string, body io.Reader, gz bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL()+"/api/coverage?repo=acme/widgets&sha="+strings.Repeat("a", 40)+query, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Row 1: a 781-byte Go coverprofile of 20 blocks a million lines long.
func TestLimitGoProfileExpandingToMillionsOfLines(t *testing.T) {
	r, _ := start(t, "sqlite:"+t.TempDir()+"/r.db")
	key := coverageKey(t, r)
	var b strings.Builder
	b.WriteString("mode: set\n")
	for i := range 20 {
		fmt.Fprintf(&b, "g%d.go:1.1,1000000.2 1 1\n", i)
	}
	stop := heapPeak(t)
	res := postCoverage(t, r, key, "", strings.NewReader(b.String()), false)
	expectError(t, res, http.StatusRequestEntityTooLarge, "more than 2000000 line records", "PATCHPANDA_COVERAGE_MAX_LINES")
	if grew := stop(); grew > 256*mb {
		t.Errorf("heap grew %d MB answering a %d-byte profile; want under 256 MB (it was 1.1 GB)", grew/mb, b.Len())
	}
}

// Row 2: a small gzipped Cobertura report of 3 million nested elements.
func TestLimitDeeplyNestedCoverageXML(t *testing.T) {
	r, _ := start(t, "sqlite:"+t.TempDir()+"/r.db")
	key := coverageKey(t, r)
	var gzBody bytes.Buffer
	zw := gzip.NewWriter(&gzBody)
	io.WriteString(zw, `<?xml version="1.0"?>`+"\n"+`<coverage line-rate="1" version="1"><packages><package name="p"><classes>`)
	for range 3_000_000 {
		io.WriteString(zw, "<a>")
	}
	zw.Close()
	stop := heapPeak(t)
	res := postCoverage(t, r, key, "&format=cobertura", bytes.NewReader(gzBody.Bytes()), true)
	expectError(t, res, http.StatusRequestEntityTooLarge, "deep", "PATCHPANDA_COVERAGE_MAX_XML_DEPTH")
	if grew := stop(); grew > 256*mb {
		t.Errorf("heap grew %d MB on a %d KB upload; want under 256 MB (it was 1.6 GB)", grew/mb, gzBody.Len()>>10)
	}
}

// Row 3: 10,000 requests with random 1 KB methods, unauthenticated.
func TestLimitRandomMethodsDoNotGrowMetrics(t *testing.T) {
	r, _ := start(t, "sqlite:"+t.TempDir()+"/r.db")
	scrape := func() string {
		res, err := http.Get(r.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	before := len(scrape())
	stop := heapPeak(t)
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	method := make([]byte, 1024)
	var last string
	for i := range 10_000 {
		for j := range method {
			method[j] = letters[rand.IntN(len(letters))]
		}
		req, _ := http.NewRequest(string(method), r.URL()+"/x"+strconv.Itoa(i), nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		last = expectError(t, res, http.StatusNotFound)
	}
	if len(last) > 400 {
		t.Errorf("a 404 for a 1 KB method is %d bytes: %s; want the method clipped", len(last), last)
	}
	after := scrape()
	if len(after) > before+16<<10 {
		t.Errorf("/metrics grew from %d to %d bytes after 10,000 made-up methods; want a fixed set of labels", before, len(after))
	}
	if !strings.Contains(after, `method="OTHER"`) {
		t.Error(`/metrics has no method="OTHER" series for the made-up methods`)
	}
	if grew := stop(); grew > 128*mb {
		t.Errorf("heap grew %d MB; want under 128 MB", grew/mb)
	}
}

// Row 4: 40 parallel 25 MB webhook bodies with a bad signature. Each
// connection sends its headers first; those the memory budget does not
// admit are answered 503 at once, before their bodies; the admitted ones
// then send theirs and are refused 401. No sleeps: the test waits for the
// answers themselves.
func TestLimitParallelLargeBadlySignedWebhooks(t *testing.T) {
	r, logs := start(t, "sqlite:"+t.TempDir()+"/r.db", withSecrets("s3cret"), func(c *relay.Config) { c.WebhookMemory = 64 * mb })
	const n, size = 40, 25 * mb
	addr := r.Addr()
	type answer struct {
		i   int
		res *http.Response
		err error
	}
	conns := make([]net.Conn, n)
	answers := make(chan answer, n)
	stop := heapPeak(t)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		fmt.Fprintf(c, "POST /webhooks/github HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
			"X-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: d-%d\r\nX-Hub-Signature-256: sha256=%s\r\n\r\n", size, i, strings.Repeat("0", 64))
		go func() {
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body = io.NopCloser(bytes.NewReader(body))
			}
			answers <- answer{i, res, err}
		}()
	}
	answered := map[int]bool{}
	admitted := n - 2 // 64 MB holds two 25 MB bodies
	for range admitted {
		a := <-answers
		if a.err != nil {
			t.Fatalf("connection %d: %v", a.i, a.err)
		}
		answered[a.i] = true
		expectError(t, a.res, http.StatusServiceUnavailable, "PATCHPANDA_WEBHOOK_MEMORY")
		if a.res.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
	}
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	var wg sync.WaitGroup
	for i, c := range conns {
		if answered[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for range n - admitted {
		a := <-answers
		if a.err != nil {
			t.Fatalf("connection %d: %v", a.i, a.err)
		}
		expectError(t, a.res, http.StatusUnauthorized, "does not match")
	}
	if grew := stop(); grew > 256*mb {
		t.Errorf("heap grew %d MB under 40 × 25 MB forged bodies; want under 256 MB (it was 1.7 GB)", grew/mb)
	}
	if got := strings.Count(logs.String(), "limit=webhook_memory"); got != 1 {
		t.Errorf("logged the webhook memory limit %d times; want once a minute per offender", got)
	}
}

// Row 5: four large uploads to one commit, then the lines of one.
func TestLimitLargeUploadsToOneCommit(t *testing.T) {
	r, _ := start(t, "sqlite:"+t.TempDir()+"/r.db", func(c *relay.Config) {
		c.CoverageMaxLines = 300_000
		c.CoverageMaxCommitLines = 1_000_000
	})
	key := coverageKey(t, r)
	lcov := func(file string, lines int) io.Reader {
		var b bytes.Buffer
		fmt.Fprintf(&b, "TN:\nSF:%s\n", file)
		for i := 1; i <= lines; i++ {
			fmt.Fprintf(&b, "DA:%d,%d\n", i, i%2)
		}
		b.WriteString("end_of_record\n")
		return &b
	}
	stop := heapPeak(t)
	res := postCoverage(t, r, key, "&flag=big", lcov("big.go", 300_001), false)
	expectError(t, res, http.StatusRequestEntityTooLarge, "300000 line records", "PATCHPANDA_COVERAGE_MAX_LINES")
	var first string
	for i := range 3 {
		res := postCoverage(t, r, key, "&flag=f"+strconv.Itoa(i), lcov(fmt.Sprintf("f%d.go", i), 300_000), false)
		body := expectError(t, res, http.StatusCreated)
		if i == 0 {
			first = body[strings.Index(body, `"id":`)+5 : strings.Index(body, `,`)]
		}
	}
	res = postCoverage(t, r, key, "&flag=f3", lcov("f3.go", 300_000), false)
	expectError(t, res, http.StatusRequestEntityTooLarge, "more than 1000000 line records together", "PATCHPANDA_COVERAGE_MAX_COMMIT_LINES")

	req, _ := http.NewRequest(http.MethodGet, r.URL()+"/api/coverage/"+first+"?lines=1", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := expectError(t, res, http.StatusOK, `"next":`)
	if n := strings.Count(page, `"line":`); n != 100_000 {
		t.Errorf("the first page of a 300,000-line report holds %d lines; want 100,000", n)
	}
	if grew := stop(); grew > 512*mb {
		t.Errorf("heap grew %d MB; want under 512 MB (it was 3.4 GB)", grew/mb)
	}
}

// Row 6: junk GitHub tokens and forged Actions ID tokens.
func TestLimitJunkTokensAndForgedJWTs(t *testing.T) {
	t.Run("junk token headers stop reaching GitHub", func(t *testing.T) {
		w := newWorld(t, "db", "sqlite:"+t.TempDir()+"/r.db")
		w.gh.ResetCalls()
		var last *http.Response
		for i := range 120 {
			req, _ := http.NewRequest(http.MethodGet, w.relay.URL()+"/api/jobs", nil)
			req.Header.Set("Authorization", "token junk-"+strconv.Itoa(i))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if i < 30 {
				expectError(t, res, http.StatusUnauthorized, "GitHub did not accept the token")
				continue
			}
			last = res
			expectError(t, res, http.StatusTooManyRequests, "too many rejected credentials", "PATCHPANDA_AUTH_FAILURES_PER_MINUTE")
		}
		if last.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if got := len(w.gh.CallsTo(githubtest.RouteGetUser)); got != 30 {
			t.Errorf("120 junk tokens made %d calls to GET /user; want 30 (the per-address limit)", got)
		}
	})
	t.Run("forged Actions tokens do not each fetch the key set", func(t *testing.T) {
		iss := actionsoidctest.New(t)
		r, _ := start(t, "sqlite:"+t.TempDir()+"/r.db", func(c *relay.Config) { c.ActionsOIDCIssuer = iss.URL() })
		for i := range 30 {
			res := postCoverage(t, r, iss.ForeignToken(t, "acme/widgets", "patchpanda"), "", strings.NewReader("TN:\n"), false)
			if i == 0 {
				expectError(t, res, http.StatusUnauthorized, "signature")
				continue
			}
			expectError(t, res, http.StatusUnauthorized)
		}
		if n := iss.JWKSFetches.Load(); n > 1 {
			t.Errorf("30 forged tokens made %d key set fetches; want at most 1", n)
		}
	})
}
