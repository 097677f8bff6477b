// Command bench measures webhook intake on this machine: accepted deliveries
// per second and time to answer, for a relay on SQLite, a relay on
// PostgreSQL (with -postgres), and a bare handler that only verifies the
// signature, reads the envelope and answers 202 (the ceiling; see
// startBare), for each delivery size the
// load generator has (installation_repositories ~2 KB, issue_comment
// ~16 KB, pull_request ~28 KB), and prints each relay's ratio to the bare
// handler for the same size in the same run. The senders run in a process
// of their own (this binary with -send), so the relay does not share its
// scheduler with them. Everything runs on loopback. Run it with
// `make bench`.
//
// A shared machine's speed drifts by a fifth within minutes, so one
// measurement per target says little: each target is measured in several
// short rounds, the targets taking turns (in reverse order every other
// round), and a ratio is the median of the rounds' ratios, printed with
// the lowest and highest.
//
// Beside the rates it prints the CPU time this process (the relays and the
// bare handler, not the senders) spent per accepted delivery, from the
// start of a run until the relay has processed everything it accepted:
// on a shared machine this moves less than the rates do.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/webhookload"
)

const secret = "bench-secret"

func main() {
	pg := flag.String("postgres", os.Getenv("PATCHPANDA_TEST_POSTGRES_URL"), "admin URL of a PostgreSQL server (a database is created for the run)")
	dur := flag.Duration("duration", 2*time.Second, "length of each measurement")
	rounds := flag.Int("rounds", 5, "measurements per target and size; each ratio is the median of the rounds' ratios")
	workers := flag.Int("workers", 64, "concurrent senders at full speed")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	payloads := flag.String("payloads", "", "comma-separated fixtures to send (installation_repositories, issue_comment, pull_request); empty: all")
	sqlite := flag.Bool("sqlite", true, "measure the relay on SQLite (false: the bare handler and PostgreSQL only)")
	send := flag.String("send", "", "internal: send deliveries to this URL and print the result as JSON")
	fixture := flag.String("fixture", "", "internal: with -send, the fixture to send")
	flag.Parse()
	if *send != "" {
		if err := sendAndReport(*send, *fixture, *dur, *workers); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	fixtures, err := pick(*payloads)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(fixtures, *pg, *sqlite, *dur, *rounds, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type target struct {
	name string
	url  string
	stop func()
	// pending counts the deliveries still to process (nil for the bare
	// handler, which processes nothing).
	pending func(context.Context) (int, error)
}

// pick returns the fixtures named in a comma-separated list, all of them
// for "".
func pick(names string) ([]webhookload.Fixture, error) {
	if names == "" {
		return webhookload.Fixtures(), nil
	}
	var out []webhookload.Fixture
	for _, name := range strings.Split(names, ",") {
		fx, ok := webhookload.FixtureNamed(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("-payloads: no fixture %q", name)
		}
		out = append(out, fx)
	}
	return out, nil
}

func run(fixtures []webhookload.Fixture, pg string, sqlite bool, dur time.Duration, rounds, workers int) error {
	ctx := context.Background()
	var targets []target
	bare, err := startBare()
	if err != nil {
		return err
	}
	targets = append(targets, bare)
	dir, err := os.MkdirTemp("", "ppbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if sqlite {
		sq, err := startRelay(ctx, "relay, SQLite", "sqlite:"+filepath.Join(dir, "bench.db"))
		if err != nil {
			return err
		}
		targets = append(targets, sq)
	}
	if pg != "" {
		u, drop, err := createDB(ctx, pg)
		if err != nil {
			return err
		}
		defer drop()
		p, err := startRelay(ctx, "relay, PostgreSQL", u)
		if err != nil {
			return err
		}
		targets = append(targets, p)
	}
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()

	fmt.Printf("machine: %d cores (%s), %s/%s, %s\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Printf("senders: a separate process, %d at full speed; %d rounds of %s per target and size, the targets in turn\n\n", workers, rounds, dur)
	fmt.Println("| payload | target | accepted/s | ratio to bare | ratio range | p50 | p99 | failed | CPU per delivery |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, fx := range fixtures {
		runs := make([][]measured, len(targets))
		for r := range rounds {
			for k := range targets {
				// Every other round runs the targets in reverse, so that a
				// machine speeding up or slowing down during the rounds
				// favours none of them.
				i := k
				if r%2 == 1 {
					i = len(targets) - 1 - k
				}
				m, err := measure(ctx, targets[i], fx.Name, dur, workers)
				if err != nil {
					return err
				}
				runs[i] = append(runs[i], m)
			}
		}
		for i, t := range targets {
			ratio, spread := "1", ""
			if i > 0 {
				rs := make([]float64, rounds)
				for r := range rounds {
					rs[r] = runs[i][r].res.PerSecond() / max(runs[0][r].res.PerSecond(), 1)
				}
				slices.Sort(rs)
				ratio, spread = fmt.Sprintf("%.3f", median(rs)), fmt.Sprintf("%.3f–%.3f", rs[0], rs[len(rs)-1])
			}
			fmt.Printf("| %s (%.1f KB) | %s | %.0f | %s | %s | %s | %s | %d | %s |\n", fx.Name, float64(fx.Size())/1000, t.name,
				medianOf(runs[i], func(m measured) float64 { return m.res.PerSecond() }), ratio, spread,
				ms(time.Duration(medianOf(runs[i], func(m measured) float64 { return float64(m.res.P50) }))),
				ms(time.Duration(medianOf(runs[i], func(m measured) float64 { return float64(m.res.P99) }))),
				failed(runs[i]), cpuPerDelivery(runs[i]))
		}
	}
	return nil
}

// measured is one round of one target.
type measured struct {
	res webhookload.Result
	cpu time.Duration // this process's CPU time, until the target had processed what it accepted
}

// measure sends fixture deliveries to t for dur from a separate process
// and waits until t has processed what it accepted.
func measure(ctx context.Context, t target, fixture string, dur time.Duration, workers int) (measured, error) {
	cpu0 := cpuTime()
	res, err := sendFrom(t.url, fixture, dur, workers)
	if err != nil {
		return measured{}, err
	}
	if err := drain(ctx, t); err != nil {
		return measured{}, err
	}
	return measured{res: res, cpu: cpuTime() - cpu0}, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func medianOf(ms []measured, f func(measured) float64) float64 {
	vs := make([]float64, len(ms))
	for i, m := range ms {
		vs[i] = f(m)
	}
	slices.Sort(vs)
	return median(vs)
}

func failed(ms []measured) int {
	n := 0
	for _, m := range ms {
		n += m.res.Failed
	}
	return n
}

// cpuPerDelivery is the CPU time of all rounds over the deliveries they
// accepted.
func cpuPerDelivery(ms []measured) string {
	var cpu time.Duration
	accepted := 0
	for _, m := range ms {
		cpu += m.cpu
		accepted += m.res.Accepted
	}
	if cpu <= 0 || accepted == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(accepted))
}

// drain waits until t has processed what it accepted, so that the CPU
// time of a run includes the processing that trails the answers.
func drain(ctx context.Context, t target) error {
	if t.pending == nil {
		return nil
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := t.pending(ctx)
		if err != nil {
			return fmt.Errorf("%s: pending deliveries: %w", t.name, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d deliveries still pending after 2 minutes", t.name, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendFrom runs this binary with -send against url and reads its result.
func sendFrom(url, fixture string, dur time.Duration, workers int) (webhookload.Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return webhookload.Result{}, err
	}
	cmd := exec.Command(exe, "-send", url, "-fixture", fixture, "-duration", dur.String(), "-workers", strconv.Itoa(workers))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return webhookload.Result{}, fmt.Errorf("sender for %s: %w", fixture, err)
	}
	var res webhookload.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("sender for %s: %w", fixture, err)
	}
	return res, nil
}

// sendAndReport is the sender process: it sends fixture deliveries to url
// at full speed and prints the result as JSON (without the accepted ids).
func sendAndReport(url, fixture string, dur time.Duration, workers int) error {
	fx, ok := webhookload.FixtureNamed(fixture)
	if !ok {
		return fmt.Errorf("-fixture %q: no such fixture", fixture)
	}
	res := webhookload.Run(context.Background(), webhookload.Options{
		URL: url, Secret: secret, Duration: dur, Workers: workers, Event: fx.Event,
		Payload: fx.Payload,
	})
	res.AcceptedIDs = nil
	return json.NewEncoder(os.Stdout).Encode(res)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// startBare starts the floor the relays are measured against: what any
// receiver of GitHub webhooks does before it answers. It reads the body,
// checks X-Hub-Signature-256, reads the envelope every event shares
// (action, installation, repository, sender) as JSON, and answers 202.
// It is written with the standard library alone, so that no change to the
// relay's code moves the floor.
func startBare() (target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return target{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 || r.ContentLength > 25<<20 {
			http.Error(w, "length required", http.StatusLengthRequired)
			return
		}
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, err := hex.DecodeString(strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var envelope struct {
			Action       string `json:"action"`
			Installation *struct {
				ID int64 `json:"id"`
			} `json:"installation"`
			Repository *struct {
				ID    int64  `json:"id"`
				Name  string `json:"name"`
				Owner *struct {
					Login string `json:"login"`
				} `json:"owner"`
			} `json:"repository"`
			Sender *struct {
				Login string `json:"login"`
			} `json:"sender"`
		}
		if err := json.Unmarshal(body, &envelope); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"accepted"}`)
	})}
	go srv.Serve(ln)
	return target{name: "bare handler (verify + 202)", url: "http://" + ln.Addr().String() + "/webhooks/github",
		stop: func() { srv.Close() }}, nil
}

func startRelay(ctx context.Context, name, dbURL string) (target, error) {
	cfg := relay.Config{Addr: "127.0.0.1:0", DatabaseURL: dbURL, QueueBackend: "db", WebhookSecrets: []string{secret},
		GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 10 * time.Second}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := relay.Open(ctx, cfg, logger)
	if err != nil {
		return target{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	pending := func(ctx context.Context) (int, error) {
		n, _, _, err := r.DB.Backlog(ctx)
		return n, err
	}
	return target{name: name, url: r.URL() + "/webhooks/github", stop: func() { cancel(); <-done; r.Close() }, pending: pending}, nil
}

func createDB(ctx context.Context, admin string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("pp_bench_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			_, v, _ := strings.Cut(line, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
