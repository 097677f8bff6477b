// Command soak runs a mixed hostile load against a relay for a while
// (60 s by default) while legitimate webhook deliveries and coverage
// uploads keep flowing, and reports the legitimate traffic's latency, what
// the hostile requests were answered, and the relay's peak RSS. The relay
// is a child process (built from ./cmd/relay) on SQLite in a temporary
// directory, so its memory is its own; everything stays on loopback.
// Legitimate traffic comes from 127.0.0.2 and hostile traffic from
// 127.0.0.3 to .9 (one address per kind of attack). `make bench`
// runs it; results are in docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchpanda/patchpanda/internal/webhook"
	"github.com/patchpanda/patchpanda/internal/webhookload"
)

const secret = "soak-secret"

func main() {
	dur := flag.Duration("duration", 60*time.Second, "how long the load runs")
	calm := flag.Bool("calm", false, "send only the legitimate traffic (a baseline to compare with)")
	flag.Parse()
	if err := run(*dur, !*calm); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(dur time.Duration, attack bool) error {
	dir, err := os.MkdirTemp("", "patchpanda-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "relay")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/relay").CombinedOutput(); err != nil {
		return fmt.Errorf("build relay: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := os.Mkdir(filepath.Join(dir, "blobs"), 0o700); err != nil {
		return err
	}
	env := append(os.Environ(), "PATCHPANDA_ADDR="+addr, "PATCHPANDA_DATABASE_URL=sqlite:"+filepath.Join(dir, "relay.db"),
		"PATCHPANDA_WEBHOOK_SECRET="+secret, "PATCHPANDA_LOG_LEVEL=warn", "PATCHPANDA_COVERAGE_BLOB_URL=file://"+filepath.Join(dir, "blobs"))
	keyCmd := exec.Command(bin, "admin-key", "create", "--name", "soak")
	keyCmd.Env = env
	keyOut, err := keyCmd.Output()
	if err != nil {
		return fmt.Errorf("relay admin-key create: %v", err)
	}
	key := strings.TrimSpace(string(keyOut))
	relay := exec.Command(bin, "serve")
	relay.Env = env
	var logs bytes.Buffer
	relay.Stderr, relay.Stdout = &logs, &logs
	if err := relay.Start(); err != nil {
		return err
	}
	defer relay.Process.Kill()
	base := "http://" + addr
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if i > 300 {
			return fmt.Errorf("relay did not become ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	var peak atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if kb := rssHWM(relay.Process.Pid); kb > peak.Load() {
				peak.Store(kb)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	legit := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext:         (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
		MaxIdleConnsPerHost: 16}}
	// Each kind of attack comes from an address of its own (127.0.0.3 on),
	// as separate attackers would: a per-address limit that one of them
	// trips must not hide what the others cost.
	from := func(n int) *http.Client {
		ip := net.IPv4(127, 0, 0, byte(n))
		return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64,
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).DialContext}}
	}
	answers := &tally{m: map[string]int{}}

	var wg sync.WaitGroup
	var deliveries webhookload.Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		deliveries = webhookload.Run(ctx, webhookload.Options{URL: base + "/webhooks/github", Secret: secret, Rate: 50,
			Duration: dur, Workers: 8, Payload: webhookload.InstallationRepositories, Client: legit})
	}()
	var uploadLat []time.Duration
	var uploadsOK, uploadsFailed int
	wg.Add(1)
	go func() { // a 5,000-line LCOV report twice a second, to ten repositories in turn
		defer wg.Done()
		report := lcov(5000)
		for n := 0; ctx.Err() == nil; n++ {
			t0 := time.Now()
			code := upload(legit, base, key, fmt.Sprintf("acme/r%d", n%10), sha(n), "", bytes.NewReader(report), false)
			uploadLat = append(uploadLat, time.Since(t0))
			if code == http.StatusCreated {
				uploadsOK++
			} else {
				uploadsFailed++
			}
			sleep(ctx, 500*time.Millisecond)
		}
	}()

	hostileLoop := func(name string, workers int, f func(n int) string) {
		if !attack {
			return
		}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := w; ctx.Err() == nil; n += workers {
					answers.add(name + " " + f(n))
				}
			}()
		}
	}
	goBombers, xmlBombers, methods, forgers, junk, jwts := from(3), from(4), from(5), from(6), from(7), from(8)
	goBomb := []byte("mode: set\n")
	for i := range 20 {
		goBomb = fmt.Appendf(goBomb, "g%d.go:1.1,1000000.2 1 1\n", i)
	}
	xmlBomb := nested(3_000_000)
	hostileLoop("go-profile-bomb", 2, func(n int) string {
		return strconv.Itoa(upload(goBombers, base, key, fmt.Sprintf("evil/g%d", n), sha(n), "", bytes.NewReader(goBomb), false))
	})
	hostileLoop("xml-depth-bomb", 2, func(n int) string {
		return strconv.Itoa(upload(xmlBombers, base, key, fmt.Sprintf("evil/x%d", n), sha(n), "cobertura", bytes.NewReader(xmlBomb), true))
	})
	hostileLoop("random-method", 4, func(n int) string {
		m := make([]byte, 1024)
		for i := range m {
			m[i] = byte('A' + rand.IntN(26))
		}
		req, _ := http.NewRequest(string(m), base+"/x"+strconv.Itoa(n), nil)
		return do(methods, req)
	})
	hostileLoop("forged-25MB-webhook", 8, func(n int) string {
		req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/github", &zeros{left: 25 << 20})
		req.ContentLength = 25 << 20
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.EventHeader, "issue_comment")
		req.Header.Set(webhook.DeliveryHeader, "forged-"+strconv.Itoa(n))
		req.Header.Set(webhook.SignatureHeader, "sha256="+strings.Repeat("0", 64))
		return do(forgers, req)
	})
	hostileLoop("junk-token", 2, func(n int) string {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/jobs", nil)
		req.Header.Set("Authorization", "token junk-"+strconv.Itoa(n))
		return do(junk, req)
	})
	hostileLoop("forged-jwt", 2, func(n int) string {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/coverage", nil)
		req.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0."+strconv.Itoa(n))
		return do(jwts, req)
	})
	hostileLoop("slow-headers", 16, func(n int) string {
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}}).Dial("tcp", addr)
		if err != nil {
			return "dial error"
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		for ctx.Err() == nil {
			if _, err := fmt.Fprintf(c, "X-Slow-%d: y\r\n", rand.IntN(1e6)); err != nil {
				return "closed by relay"
			}
			sleep(ctx, time.Second)
		}
		return "still open at the end"
	})
	wg.Wait()

	metrics := scrape(base + "/metrics")
	if kb := rssHWM(relay.Process.Pid); kb > peak.Load() {
		peak.Store(kb)
	}
	slices.Sort(uploadLat)
	if attack {
		fmt.Printf("soak: %s of mixed hostile load against one relay (SQLite), legitimate traffic alongside\n\n", dur)
	} else {
		fmt.Printf("soak -calm: %s of legitimate traffic only against one relay (SQLite)\n\n", dur)
	}
	fmt.Println("| legitimate traffic | answered OK | failed | p50 | p99 | max |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: |")
	fmt.Printf("| webhook deliveries, 50/s | %d | %d | %s | %s | %s |\n", deliveries.Accepted+deliveries.Duplicate, deliveries.Failed,
		ms(deliveries.P50), ms(deliveries.P99), ms(deliveries.Max))
	fmt.Printf("| coverage uploads (5,000 lines), 2/s | %d | %d | %s | %s | %s |\n\n", uploadsOK, uploadsFailed,
		ms(pct(uploadLat, 50)), ms(pct(uploadLat, 99)), ms(pct(uploadLat, 100)))
	fmt.Println("| hostile request | answer | count |")
	fmt.Println("| --- | --- | ---: |")
	for _, k := range answers.keys() {
		name, answer, _ := strings.Cut(k, " ")
		fmt.Printf("| %s | %s | %d |\n", name, answer, answers.m[k])
	}
	fmt.Printf("\nrelay peak RSS (VmHWM): %.0f MB; /metrics after the run: %d bytes\n", float64(peak.Load())/1024, len(metrics))
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "patchpanda_limit_hits_total{") && !strings.HasSuffix(l, " 0") {
			fmt.Println("  " + l)
		}
	}
	msgs := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if _, m, ok := strings.Cut(l, " msg="); ok {
			if strings.HasPrefix(m, `"`) {
				m = m[1 : strings.Index(m[1:], `"`)+1]
			} else {
				m, _, _ = strings.Cut(m, " ")
			}
			msgs[m]++
		}
	}
	fmt.Printf("relay log lines (warn and above): %d", strings.Count(logs.String(), "\n"))
	for m, n := range msgs {
		fmt.Printf("; %q × %d", m, n)
	}
	fmt.Println()
	return nil
}

type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(k string) {
	t.mu.Lock()
	t.m[k]++
	t.mu.Unlock()
}

func (t *tally) keys() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ks []string
	for k := range t.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// zeros is a body of n bytes that costs the sender no memory.
type zeros struct{ left int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), z.left)
	clear(p[:n])
	z.left -= n
	return n, nil
}

func do(c *http.Client, req *http.Request) string {
	res, err := c.Do(req)
	if err != nil {
		return "connection error"
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	return strconv.Itoa(res.StatusCode)
}

func upload(c *http.Client, base, key, repo, sha, format string, body io.Reader, gz bool) int {
	u := base + "/api/coverage?repo=" + repo + "&sha=" + sha
	if format != "" {
		u += "&format=" + format
	}
	req, _ := http.NewRequest(http.MethodPost, u, body)
	req.Header.Set("Authorization", "Bearer "+key)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	code, _ := strconv.Atoi(do(c, req))
	return code
}

func sha(n int) string { return fmt.Sprintf("%040x", n+1) }

func lcov(lines int) []byte {
	var b bytes.Buffer
	b.WriteString("TN:\nSF:pkg/a.go\n")
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "DA:%d,%d\n", i, i%3)
	}
	b.WriteString("end_of_record\n")
	return b.Bytes()
}

func nested(n int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, `<?xml version="1.0"?><coverage line-rate="1" version="1">`)
	bw := bufio.NewWriter(zw)
	for range n {
		bw.WriteString("<a>")
	}
	bw.Flush()
	zw.Close()
	return b.Bytes()
}

// rssHWM reads a process's peak resident set (VmHWM) in KB from /proc; 0
// where there is no /proc.
func rssHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func scrape(u string) string {
	res, err := http.Get(u)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
