// Command bench measures webhook intake on this machine: accepted deliveries
// per second and time to answer, for a relay on SQLite, a relay on
// PostgreSQL (with -postgres), and a bare handler that only verifies the
// signature and answers 202 (the ceiling), for each delivery size the
// load generator has (installation_repositories ~2 KB, issue_comment
// ~16 KB, pull_request ~28 KB), and prints each relay's ratio to the bare
// handler for the same size in the same run. The senders run in a process
// of their own (this binary with -send), so the relay does not share its
// scheduler with them. Everything runs on loopback. Run it with
// `make bench`.
//
// Beside the rates it prints the CPU time this process (the relays and the
// bare handler, not the senders) spent per accepted delivery, from the
// start of a run until the relay has processed everything it accepted:
// on a shared machine this moves less than the rates do.
package main

import (
	"context"
	"database/sql"
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
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/webhook"
	"github.com/patchpanda/patchpanda/internal/webhookload"
)

const secret = "bench-secret"

func main() {
	pg := flag.String("postgres", os.Getenv("PATCHPANDA_TEST_POSTGRES_URL"), "admin URL of a PostgreSQL server (a database is created for the run)")
	dur := flag.Duration("duration", 5*time.Second, "length of each measurement")
	rate := flag.Int("rate", 1000, "fixed rate in deliveries per second")
	workers := flag.Int("workers", 64, "concurrent senders at full speed")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	send := flag.String("send", "", "internal: send deliveries to this URL and print the result as JSON")
	fixture := flag.String("fixture", "", "internal: with -send, the fixture to send")
	flag.Parse()
	if *send != "" {
		if err := sendAndReport(*send, *fixture, *dur, *rate, *workers); err != nil {
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
	if err := run(*pg, *dur, *rate, *workers); err != nil {
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

func run(pg string, dur time.Duration, rate, workers int) error {
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
	sq, err := startRelay(ctx, "relay, SQLite", "sqlite:"+filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	targets = append(targets, sq)
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
	fmt.Printf("senders: a separate process, %d at full speed; each run %s\n\n", workers, dur)
	fmt.Println("| payload | target | accepted/s | ratio to bare | p50 | p99 | failed | CPU per delivery |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, fx := range webhookload.Fixtures() {
		var bareRate float64
		for i, t := range targets {
			cpu0 := cpuTime()
			res, err := sendFrom(t.url, fx.Name, dur, workers, i)
			if err != nil {
				return err
			}
			if err := drain(ctx, t); err != nil {
				return err
			}
			cpu := "n/a"
			if spent := cpuTime() - cpu0; spent > 0 && res.Accepted > 0 {
				cpu = fmt.Sprintf("%.0f µs", float64(spent.Microseconds())/float64(res.Accepted))
			}
			ratio := "1"
			if i == 0 {
				bareRate = res.PerSecond()
			} else if bareRate > 0 {
				ratio = fmt.Sprintf("%.2f", res.PerSecond()/bareRate)
			}
			fmt.Printf("| %s (%.1f KB) | %s | %.0f | %s | %s | %s | %d | %s |\n", fx.Name, float64(fx.Size())/1000, t.name, res.PerSecond(),
				ratio, ms(res.P50), ms(res.P99), res.Failed, cpu)
		}
	}
	return nil
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
func sendFrom(url, fixture string, dur time.Duration, workers, i int) (webhookload.Result, error) {
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
func sendAndReport(url, fixture string, dur time.Duration, rate, workers int) error {
	fx, ok := webhookload.FixtureNamed(fixture)
	if !ok {
		return fmt.Errorf("-fixture %q: no such fixture", fixture)
	}
	res := webhookload.Run(context.Background(), webhookload.Options{
		URL: url, Secret: secret, Duration: dur, Workers: workers, Event: fx.Event,
		Payload: fx.Payload, IDPrefix: fmt.Sprintf("%d-%s-", time.Now().UnixNano(), fx.Name),
	})
	res.AcceptedIDs = nil
	return json.NewEncoder(os.Stdout).Encode(res)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func startBare() (target, error) {
	v, err := webhook.NewVerifier([]string{secret})
	if err != nil {
		return target{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return target{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Read(r, 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
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
