// Command coveragebench measures the coverage parsers on large generated
// reports: throughput and peak memory per format, next to `lcov --summary`
// (LCOV) and `go tool cover -func` (Go profiles) on the same files when
// those tools are installed. It prints a markdown table.
//
//	go run ./tools/coveragebench -size 200MB
//	go run ./tools/coveragebench -size 1GB -formats lcov -compare=false
//
// Every measurement runs in a child process (this program re-run with
// -child), so peak memory is the child's maximum resident set size.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "coveragebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coveragebench", flag.ContinueOnError)
	size := fs.String("size", "200MB", "approximate size of each generated report (KB, MB, GB)")
	formats := fs.String("formats", "lcov,go,cobertura,jacoco,clover,istanbul", "formats to measure")
	xmlSize := fs.String("xml-size", "", "size for the XML and JSON formats (default: -size)")
	compare := fs.Bool("compare", true, "also run lcov --summary and go tool cover -func")
	lcovRuns := fs.Int("lcov-runs", 1, "runs of lcov --summary (slow)")
	runs := fs.Int("runs", 3, "run each measurement this many times and keep the fastest (the machine is shared)")
	dir := fs.String("dir", "", "where to write the reports (default: a temporary directory, removed after)")
	realc := fs.String("realc", "internal/coverage/testdata/realc/jq.info", "a real per-test LCOV tracefile to compare with lcov --summary (made by internal/coverage/testdata/realc/make-tracefile.sh); skipped when absent")
	ppctl := fs.String("ppctl", "", "a built ppctl: also time `ppctl coverage summary` on the real tracefile, and the CLI start-up")
	startupRuns := fs.Int("startup-runs", 30, "runs of each CLI start-up measurement")
	child := fs.String("child", "", "internal: parse this file and print its totals as JSON")
	stream := fs.Bool("stream", false, "internal, with -child: hide that the file can be read twice")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		return parseChild(*child, *stream, stdout)
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	xn := n
	if *xmlSize != "" {
		if xn, err = parseSize(*xmlSize); err != nil {
			return err
		}
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "coveragebench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Machine: %d CPUs, %s, %s, load average %s\n\n", runtime.NumCPU(), cpuModel(), runtime.Version(), loadAvg())
	var ratios []string
	ratio := func(what string, ours, theirs measurement) {
		ratios = append(ratios, fmt.Sprintf("- %s: **%.1f×** in wall time (%.2fs ÷ %.2fs), %.1f× in CPU time (%.2fs ÷ %.2fs)",
			what, theirs.wall.Seconds()/ours.wall.Seconds(), theirs.wall.Seconds(), ours.wall.Seconds(),
			theirs.cpu.Seconds()/ours.cpu.Seconds(), theirs.cpu.Seconds(), ours.cpu.Seconds()))
	}
	fmt.Fprintln(stdout, "| format | input | tool | wall time | CPU time | MB/s (wall) | peak RSS | totals |")
	fmt.Fprintln(stdout, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, f := range strings.Split(*formats, ",") {
		f = strings.TrimSpace(f)
		target := n
		if f != "lcov" && f != "go" {
			target = xn
		}
		fmt.Fprintf(stderr, "generating %s report of about %s...\n", f, human(target))
		path, gomod, err := generate(work, f, target)
		if err != nil {
			return fmt.Errorf("generate %s: %w", f, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		row := func(tool string, m measurement, err error) {
			if err != nil {
				fmt.Fprintf(stdout, "| %s | %s | %s | skipped: %v | | | | |\n", f, human(st.Size()), tool, err)
				return
			}
			fmt.Fprintf(stdout, "| %s | %s | %s | %.2fs | %.2fs | %.1f | %s | %s |\n", f, human(st.Size()), tool,
				m.wall.Seconds(), m.cpu.Seconds(), float64(st.Size())/1e6/m.wall.Seconds(), human(m.maxRSS), m.out)
		}
		fmt.Fprintf(stderr, "parsing %s with coverage.Parse...\n", f)
		ours, err := best(*runs, func() (measurement, error) { return measure(ctx, "", self, "-child", path) })
		row("coverage.Parse", ours, err)
		if f == "lcov" {
			fmt.Fprintf(stderr, "parsing %s with coverage.Parse as a stream...\n", f)
			m, err := best(*runs, func() (measurement, error) { return measure(ctx, "", self, "-child", path, "-stream") })
			row("coverage.Parse (stream, one pass)", m, err)
		}
		if !*compare {
			continue
		}
		switch f {
		case "lcov":
			if _, err := exec.LookPath("lcov"); err != nil {
				row("lcov --summary", measurement{}, errors.New("lcov is not installed (apt-get install -y lcov)"))
				continue
			}
			fmt.Fprintln(stderr, "running lcov --summary...")
			m, err := best(*lcovRuns, func() (measurement, error) {
				return measure(ctx, "", "lcov", "--summary", path, "--rc", "lcov_branch_coverage=1")
			})
			row("lcov --summary", m, err)
			if err == nil && ours.wall > 0 {
				ratio(fmt.Sprintf("generated LCOV (%s, one record per file): coverage.Parse vs lcov --summary", human(st.Size())), ours, m)
			}
		case "go":
			fmt.Fprintln(stderr, "running go tool cover -func...")
			m, err := best(*runs, func() (measurement, error) { return measure(ctx, gomod, "go", "tool", "cover", "-func="+path) })
			row("go tool cover -func", m, err)
			if err == nil && ours.wall > 0 {
				ratio(fmt.Sprintf("generated Go profile (%s): coverage.Parse vs go tool cover -func", human(st.Size())), ours, m)
			}
		}
	}
	if *realc != "" {
		if err := realTracefile(ctx, *realc, self, *ppctl, *runs, *lcovRuns, *compare, stdout, stderr, ratio); err != nil {
			return err
		}
	}
	if len(ratios) > 0 {
		fmt.Fprintf(stdout, "\nRatios (the reference tool's time ÷ ours, measured in this run):\n\n%s\n", strings.Join(ratios, "\n"))
	}
	if *ppctl != "" {
		return startup(ctx, *ppctl, work, *startupRuns, stdout)
	}
	return nil
}

// realTracefile measures a real per-test tracefile, when there is one.
func realTracefile(ctx context.Context, path, self, ppctl string, runs, lcovRuns int, compare bool, stdout, stderr io.Writer, ratio func(string, measurement, measurement)) error {
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stdout, "\nReal per-test LCOV tracefile: skipped: %s is absent (make it with sh internal/coverage/testdata/realc/make-tracefile.sh %s)\n", path, path)
		return nil
	}
	fmt.Fprintf(stdout, "\nReal per-test LCOV tracefile %s (%s):\n\n", filepath.Base(path), human(st.Size()))
	fmt.Fprintln(stdout, "| tool | wall time | CPU time | MB/s (wall) | peak RSS | totals |")
	fmt.Fprintln(stdout, "| --- | --- | --- | --- | --- | --- |")
	row := func(tool string, m measurement, err error) {
		if err != nil {
			fmt.Fprintf(stdout, "| %s | skipped: %v | | | | |\n", tool, err)
			return
		}
		fmt.Fprintf(stdout, "| %s | %.3fs | %.3fs | %.1f | %s | %s |\n", tool, m.wall.Seconds(), m.cpu.Seconds(),
			float64(st.Size())/1e6/m.wall.Seconds(), human(m.maxRSS), m.out)
	}
	fmt.Fprintln(stderr, "parsing the real tracefile with coverage.Parse...")
	ours, err := best(runs, func() (measurement, error) { return measure(ctx, "", self, "-child", path) })
	row("coverage.Parse", ours, err)
	if err != nil {
		return nil
	}
	var cli measurement
	if ppctl != "" {
		cli, err = best(runs, func() (measurement, error) { return measure(ctx, "", ppctl, "coverage", "summary", "--json", path) })
		row("ppctl coverage summary", cli, err)
		if err != nil {
			cli = measurement{}
		}
	}
	if !compare {
		return nil
	}
	if _, err := exec.LookPath("lcov"); err != nil {
		row("lcov --summary", measurement{}, errors.New("lcov is not installed (apt-get install -y lcov)"))
		return nil
	}
	fmt.Fprintln(stderr, "running lcov --summary on the real tracefile...")
	ref, err := best(lcovRuns, func() (measurement, error) {
		return measure(ctx, "", "lcov", "--summary", path, "--rc", "lcov_branch_coverage=1")
	})
	row("lcov --summary", ref, err)
	if err != nil {
		return nil
	}
	ratio(fmt.Sprintf("real per-test LCOV (%s): coverage.Parse vs lcov --summary", human(st.Size())), ours, ref)
	if cli.wall > 0 {
		ratio(fmt.Sprintf("real per-test LCOV (%s): ppctl coverage summary (a process) vs lcov --summary", human(st.Size())), cli, ref)
	}
	return nil
}

// startup times the CLI's start-up: `ppctl version`, and `ppctl coverage
// summary` on a 1 KB LCOV file.
func startup(ctx context.Context, ppctl, dir string, runs int, stdout io.Writer) error {
	var small strings.Builder
	small.WriteString("TN:\nSF:src/small.c\nFN:1,main\nFNDA:1,main\n")
	for l := 1; small.Len() < 1000; l++ {
		fmt.Fprintf(&small, "DA:%d,%d\n", l, l%3)
	}
	small.WriteString("end_of_record\n")
	path := filepath.Join(dir, "small.info")
	if err := os.WriteFile(path, []byte(small.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nCLI start-up (%d runs each; wall time per run):\n\n", runs)
	fmt.Fprintln(stdout, "| command | min | median | peak RSS |")
	fmt.Fprintln(stdout, "| --- | --- | --- | --- |")
	for _, args := range [][]string{{"version"}, {"coverage", "summary", path}} {
		var walls []time.Duration
		var rss int64
		for range max(runs, 1) {
			m, err := measure(ctx, "", ppctl, args...)
			if err != nil {
				return err
			}
			walls = append(walls, m.wall)
			rss = max(rss, m.maxRSS)
		}
		slices.Sort(walls)
		name := "ppctl " + strings.Join(args, " ")
		if len(args) > 1 {
			name = fmt.Sprintf("ppctl coverage summary (%d-byte LCOV)", small.Len())
		}
		fmt.Fprintf(stdout, "| %s | %.1f ms | %.1f ms | %s |\n", name,
			float64(walls[0].Microseconds())/1000, float64(walls[len(walls)/2].Microseconds())/1000, human(rss))
	}
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func parseChild(path string, stream bool, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if stream {
		// As an upload's body: no second pass, so LCOV totals keep a
		// digest of every file.
		r = struct{ io.Reader }{f}
	}
	// No budget: this measures the parser on reports larger than
	// DefaultLimits allow (the 1 GiB LCOV has 183,000 files).
	t, err := coverage.ParseWith(r, "", coverage.Limits{}, nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(t)
}

type measurement struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64
	out    string
}

// measure runs a command and returns its wall time, peak resident memory
// and a one-line summary of its output.
func measure(ctx context.Context, dir, name string, args ...string) (measurement, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w: %s", name, err, lastLines(out.String(), 3))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	m := measurement{wall: wall, out: summarize(out.String())}
	if ru != nil {
		m.maxRSS = ru.Maxrss * 1024
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return m, nil
}

// best runs measure n times and keeps the fastest run (and the largest
// peak memory, to stay honest about memory).
func best(n int, f func() (measurement, error)) (measurement, error) {
	var b measurement
	for i := 0; i < max(n, 1); i++ {
		m, err := f()
		if err != nil {
			return m, err
		}
		rss := max(b.maxRSS, m.maxRSS)
		if i == 0 || m.wall < b.wall {
			b = m
		}
		b.maxRSS = rss
	}
	return b, nil
}

func summarize(s string) string {
	s = strings.TrimSpace(s)
	var c bytes.Buffer
	if strings.HasPrefix(s, "{") && json.Compact(&c, []byte(s)) == nil {
		// ppctl prints its JSON indented.
		return strings.ReplaceAll(c.String(), "|", "/")
	}
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "{") || strings.HasPrefix(l, "lines") || strings.HasPrefix(l, "branches") || strings.HasPrefix(l, "total:") {
			keep = append(keep, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.ReplaceAll(strings.Join(keep, "; "), "|", "/")
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " / ")
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			u, mult = strings.TrimSuffix(u, x.suf), x.m
			break
		}
	}
	n, err := strconv.ParseFloat(u, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 200MB or 1GB)", s)
	}
	return int64(n * float64(mult)), nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// countingWriter tracks how much was written.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) printf(format string, args ...any) {
	n, _ := fmt.Fprintf(c.w, format, args...)
	c.n += int64(n)
}

// generate writes a report of about size bytes and returns its path and,
// for Go, the module directory that `go tool cover` must run in.
func generate(dir, format string, size int64) (string, string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	name := map[string]string{"lcov": "big.info", "go": "big.out", "cobertura": "cobertura.xml", "jacoco": "jacoco.xml", "clover": "clover.xml", "istanbul": "coverage-final.json"}[format]
	if name == "" {
		return "", "", fmt.Errorf("unknown format %q", format)
	}
	if format == "go" {
		return generateGo(dir, size, rng)
	}
	path := filepath.Join(dir, name)
	fh, err := os.Create(path)
	if err != nil {
		return "", "", err
	}
	w := &countingWriter{w: bufio.NewWriterSize(fh, 1<<20)}
	hits := func() int {
		if rng.IntN(3) == 0 {
			return 0
		}
		return rng.IntN(1000) + 1
	}
	switch format {
	case "lcov":
		// Per file: 500 source lines, 300 of them executable, 20
		// functions, a two-way branch on one executable line in ten.
		for i := 0; w.n < size; i++ {
			w.printf("TN:\nSF:/home/runner/work/project/project/src/module%d/file%d.c\n", i/50, i)
			for f := 0; f < 20; f++ {
				w.printf("FN:%d,function_%d_%d\n", 1+f*25, i, f)
			}
			for f := 0; f < 20; f++ {
				w.printf("FNDA:%d,function_%d_%d\n", hits(), i, f)
			}
			for l := 1; l <= 500; l++ {
				if l%5 == 1 || l%5 == 3 {
					continue
				}
				w.printf("DA:%d,%d\n", l, hits())
				if l%10 == 0 {
					w.printf("BRDA:%d,0,0,%d\nBRDA:%d,0,1,%d\n", l, hits(), l, hits())
				}
			}
			w.printf("FNF:20\nFNH:20\nLF:300\nLH:0\nBRF:100\nBRH:0\nend_of_record\n")
		}
	case "cobertura":
		w.printf("<?xml version=\"1.0\" ?>\n<coverage line-rate=\"0\" branch-rate=\"0\" version=\"bench\">\n<sources><source>/src</source></sources>\n<packages><package name=\"p\"><classes>\n")
		for i := 0; w.n < size; i++ {
			w.printf("<class name=\"c%d\" filename=\"pkg/f%d.py\" line-rate=\"0\"><methods/><lines>\n", i, i)
			for l := 1; l <= 300; l++ {
				if l%10 == 0 {
					w.printf("<line number=\"%d\" hits=\"%d\" branch=\"true\" condition-coverage=\"50%% (1/2)\"/>\n", l, hits())
					continue
				}
				w.printf("<line number=\"%d\" hits=\"%d\"/>\n", l, hits())
			}
			w.printf("</lines></class>\n")
		}
		w.printf("</classes></package></packages></coverage>\n")
	case "jacoco":
		w.printf("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"bench\">\n")
		for i := 0; w.n < size; i++ {
			w.printf("<package name=\"com/example/p%d\"><sourcefile name=\"F%d.java\">\n", i, i)
			for l := 1; l <= 300; l++ {
				w.printf("<line nr=\"%d\" mi=\"%d\" ci=\"%d\" mb=\"0\" cb=\"%d\"/>\n", l, rng.IntN(3), rng.IntN(5), rng.IntN(2))
			}
			w.printf("</sourcefile></package>\n")
		}
		w.printf("</report>\n")
	case "clover":
		w.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<coverage generated=\"1\" clover=\"3.2.0\"><project timestamp=\"1\" name=\"All files\">\n")
		for i := 0; w.n < size; i++ {
			w.printf("<file name=\"f%d.js\" path=\"/src/f%d.js\"><metrics statements=\"300\"/>\n", i, i)
			for l := 1; l <= 300; l++ {
				w.printf("<line num=\"%d\" count=\"%d\" type=\"stmt\"/>\n", l, hits())
			}
			w.printf("</file>\n")
		}
		w.printf("</project></coverage>\n")
	case "istanbul":
		w.printf("{")
		for i := 0; w.n < size; i++ {
			if i > 0 {
				w.printf(",")
			}
			w.printf("\"/src/f%d.js\":{\"path\":\"/src/f%d.js\",\"statementMap\":{", i, i)
			for s := 0; s < 300; s++ {
				sep := ","
				if s == 0 {
					sep = ""
				}
				w.printf("%s\"%d\":{\"start\":{\"line\":%d,\"column\":2},\"end\":{\"line\":%d,\"column\":20}}", sep, s, s+1, s+1)
			}
			w.printf("},\"fnMap\":{},\"branchMap\":{},\"s\":{")
			for s := 0; s < 300; s++ {
				sep := ","
				if s == 0 {
					sep = ""
				}
				w.printf("%s\"%d\":%d", sep, s, hits())
			}
			w.printf("},\"f\":{},\"b\":{}}\n")
		}
		w.printf("}\n")
	}
	if err := w.w.Flush(); err != nil {
		return "", "", err
	}
	return path, "", fh.Close()
}

// generateGo writes a module of real Go source (so that `go tool cover
// -func` can find every function) and a coverprofile over it in which
// every block is repeated once per "test binary", as -coverpkg makes it.
func generateGo(dir string, size int64, rng *rand.Rand) (string, string, error) {
	mod := filepath.Join(dir, "gomod")
	const pkgs, filesPer, funcs, blocks = 100, 5, 40, 8
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/big\n\ngo 1.22\n"), 0o644); err != nil {
		return "", "", err
	}
	type block struct {
		file       string
		start, end int
	}
	var all []block
	for p := 0; p < pkgs; p++ {
		pd := filepath.Join(mod, fmt.Sprintf("p%d", p))
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return "", "", err
		}
		for f := 0; f < filesPer; f++ {
			var src strings.Builder
			fmt.Fprintf(&src, "package p%d\n\n", p)
			line := 3
			for fn := 0; fn < funcs; fn++ {
				fmt.Fprintf(&src, "func F%d_%d(x int) int {\n", f, fn)
				start := line
				line++
				for b := 0; b < blocks; b++ {
					fmt.Fprintf(&src, "\tif x > %d {\n\t\tx++\n\t}\n", b)
					all = append(all, block{fmt.Sprintf("example.com/big/p%d/f%d.go", p, f), line, line + 2})
					line += 3
				}
				src.WriteString("\treturn x\n}\n\n")
				line += 3
				_ = start
			}
			if err := os.WriteFile(filepath.Join(pd, fmt.Sprintf("f%d.go", f)), []byte(src.String()), 0o644); err != nil {
				return "", "", err
			}
		}
	}
	path := filepath.Join(dir, "big.out")
	fh, err := os.Create(path)
	if err != nil {
		return "", "", err
	}
	w := &countingWriter{w: bufio.NewWriterSize(fh, 1<<20)}
	w.printf("mode: count\n")
	for w.n < size {
		for _, b := range all {
			c := 0
			if rng.IntN(3) > 0 {
				c = rng.IntN(50)
			}
			w.printf("%s:%d.13,%d.3 1 %d\n", b.file, b.start, b.end, c)
		}
	}
	if err := w.w.Flush(); err != nil {
		return "", "", err
	}
	return path, mod, fh.Close()
}
