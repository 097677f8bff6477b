package coverage

import (
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// golden is where internal/coverage keeps reports made by real tools,
// together with the tools' own summaries of them.
const golden = "../../coverage/testdata/golden/"

// toolCounts are the numbers a coverage tool printed for its report.
type toolCounts struct {
	linesHit, linesFound       int64
	branchesHit, branchesFound int64
	// percent is the tool's printed percent when it prints no counts
	// (go tool cover), with one decimal.
	percent float64
}

func readTool(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(golden + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pair finds re (two groups: first, second number) in s.
func pair(t *testing.T, s, re string) (int64, int64) {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in tool output:\n%s", re, s)
	}
	return atoi(t, m[1]), atoi(t, m[2])
}

func fromLCOV(t *testing.T, name string) toolCounts {
	s := readTool(t, name)
	var c toolCounts
	c.linesHit, c.linesFound = pair(t, s, `lines\.+: \S+ \((\d+) of (\d+) lines\)`)
	c.branchesHit, c.branchesFound = pair(t, s, `branches\.+: \S+ \((\d+) of (\d+) branches\)`)
	return c
}

func fromGcovr(t *testing.T, name string) toolCounts {
	s := readTool(t, name)
	var c toolCounts
	c.linesHit, c.linesFound = pair(t, s, `lines: \S+ \((\d+) out of (\d+)\)`)
	c.branchesHit, c.branchesFound = pair(t, s, `branches: \S+ \((\d+) out of (\d+)\)`)
	return c
}

func fromJaCoCo(t *testing.T, name string) toolCounts {
	s := readTool(t, name)
	var c toolCounts
	missed, covered := pair(t, s, `LINE missed=(\d+) covered=(\d+)`)
	c.linesHit, c.linesFound = covered, missed+covered
	missed, covered = pair(t, s, `BRANCH missed=(\d+) covered=(\d+)`)
	c.branchesHit, c.branchesFound = covered, missed+covered
	return c
}

func fromIstanbul(t *testing.T, name string) toolCounts {
	s := readTool(t, name)
	var c toolCounts
	c.linesHit, c.linesFound = pair(t, s, `Lines\s*: \S+ \( (\d+)/(\d+) \)`)
	c.branchesHit, c.branchesFound = pair(t, s, `Branches\s*: \S+ \( (\d+)/(\d+) \)`)
	return c
}

func fromGoCover(t *testing.T, name string) toolCounts {
	m := regexp.MustCompile(`total:\s+\(statements\)\s+([0-9.]+)%`).FindStringSubmatch(readTool(t, name))
	if m == nil {
		t.Fatalf("no total in %s", name)
	}
	p, _ := strconv.ParseFloat(m[1], 64)
	return toolCounts{percent: p}
}

// summaryJSON is `ppctl coverage summary --json` decoded loosely, so that
// the test sees exactly which keys were printed.
func summaryJSON(t *testing.T, out string) map[string]float64 {
	t.Helper()
	var m map[string]float64
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	return m
}

func keys(m map[string]float64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestSummaryMatchesTheToolsOwnNumbers(t *testing.T) {
	tests := []struct {
		name, file string
		tool       func(t *testing.T) toolCounts
		// statements: the format's percent is of statements.
		statements bool
	}{
		{"gcc and lcov --summary", "gcc-lcov/run1.info", func(t *testing.T) toolCounts { return fromLCOV(t, "gcc-lcov/run1.summary.txt") }, false},
		{"lcov tracefile with records repeated per test", "gcc-lcov/concat.info", func(t *testing.T) toolCounts { return fromLCOV(t, "gcc-lcov/concat.summary.txt") }, false},
		{"gcovr cobertura", "gcovr/gcovr-cobertura.xml", func(t *testing.T) toolCounts { return fromGcovr(t, "gcovr/gcovr-summary.txt") }, false},
		{"jacoco xml", "jacoco/jacoco.xml", func(t *testing.T) toolCounts { return fromJaCoCo(t, "jacoco/jacoco-summary.txt") }, false},
		{"nyc istanbul json", "nyc/coverage-final.json", func(t *testing.T) toolCounts { return fromIstanbul(t, "nyc/nyc-summary.txt") }, true},
		{"coverage.py lcov", "coveragepy/coveragepy.lcov", func(t *testing.T) toolCounts { return fromLCOV(t, "coveragepy/coveragepy.lcov.summary.txt") }, false},
		{"go coverprofile", "go/set.out", func(t *testing.T) toolCounts { return fromGoCover(t, "go/set.func.txt") }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.tool(t)
			r := run(t, noMachine(), false, nil, "summary", "--json", golden+tc.file)
			if r.code != 0 {
				t.Fatalf("exit %d: %v %s", r.code, r.err, r.errOut)
			}
			got := summaryJSON(t, r.out)
			if want.percent != 0 {
				if p := math.Round(got["percent"]*10) / 10; p != want.percent {
					t.Errorf("percent = %v (rounded %v), the tool printed %v", got["percent"], p, want.percent)
				}
			} else {
				gotCounts := toolCounts{
					linesHit: int64(got["lines_hit"]), linesFound: int64(got["lines_found"]),
					branchesHit: int64(got["branches_hit"]), branchesFound: int64(got["branches_found"]),
				}
				if diff := cmp.Diff(want, gotCounts, cmp.AllowUnexported(toolCounts{})); diff != "" {
					t.Errorf("totals differ from the tool's (-tool +ours):\n%s", diff)
				}
			}
			if _, ok := got["statements_found"]; ok != tc.statements {
				t.Errorf("statements_found printed = %v, want %v (keys %v)", ok, tc.statements, keys(got))
			}
		})
	}
}

func TestSummaryJSONHasExactlyTheSpecKeys(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"a cobertura report prints the spec object", []string{"gcovr/gcovr-cobertura.xml"},
			[]string{"branches_found", "branches_hit", "files", "lines_found", "lines_hit", "percent"}},
		{"a go profile adds statements", []string{"go/set.out"},
			[]string{"branches_found", "branches_hit", "files", "lines_found", "lines_hit", "percent", "statements_found", "statements_hit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			for _, f := range tc.files {
				args = append(args, golden+f)
			}
			r := run(t, noMachine(), false, nil, append([]string{"summary", "--json"}, args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %v", r.code, r.err)
			}
			if diff := cmp.Diff(tc.want, keys(summaryJSON(t, r.out))); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummaryAddsUpSeveralFiles(t *testing.T) {
	a, b := golden+"gcc-lcov/run1.info", golden+"jacoco/jacoco.xml"
	one := func(p string) map[string]float64 {
		r := run(t, noMachine(), false, nil, "summary", "--json", p)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %v", p, r.code, r.err)
		}
		return summaryJSON(t, r.out)
	}
	ta, tb := one(a), one(b)
	r := run(t, noMachine(), false, nil, "summary", "--json", a, b)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	got := summaryJSON(t, r.out)
	for _, k := range []string{"files", "lines_found", "lines_hit", "branches_found", "branches_hit"} {
		if got[k] != ta[k]+tb[k] {
			t.Errorf("%s = %v, want %v + %v", k, got[k], ta[k], tb[k])
		}
	}
	if want := math.Round(got["lines_hit"]/got["lines_found"]*100*1e9) / 1e9; got["percent"] != want {
		t.Errorf("percent = %v, want %v", got["percent"], want)
	}

	r = run(t, noMachine(), false, nil, "summary", "--jq", ".lines_hit", a, b)
	if r.code != 0 || strings.TrimSpace(r.out) != strconv.FormatInt(int64(ta["lines_hit"]+tb["lines_hit"]), 10) {
		t.Errorf("--jq .lines_hit = %d %q", r.code, r.out)
	}
}

func TestSummaryPrintsTSVWhenPipedAndATableOnATerminal(t *testing.T) {
	a, b := golden+"gcc-lcov/run1.info", golden+"go/set.out"

	r := run(t, noMachine(), false, nil, "summary", a, b)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	want := a + "\tlcov\t1\t17/26\t11/24\t-\t65.4% of lines\n" +
		b + "\tgo\t2\t"
	if !strings.HasPrefix(r.out, want) {
		t.Errorf("piped output:\n%s\nwant it to start with:\n%s", r.out, want)
	}
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "total\t\t3\t") {
		t.Errorf("piped output has no total row last:\n%s", r.out)
	}
	if strings.Contains(r.out, "FILE") {
		t.Errorf("piped output has a header:\n%s", r.out)
	}

	r = run(t, noMachine(), true, nil, "summary", a)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if !strings.HasPrefix(r.out, "FILE") || strings.Contains(r.out, "\t") || !strings.Contains(r.out, "65.4% of lines") {
		t.Errorf("terminal output is not a table:\n%s", r.out)
	}
	if strings.Contains(r.out, "total") {
		t.Errorf("a single file got a total row:\n%s", r.out)
	}
}

func TestSummaryReadsGzippedReportsAsTheyAre(t *testing.T) {
	src := golden + "gcc-lcov/concat.info"
	plainOut := run(t, noMachine(), false, nil, "summary", "--json", src)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "concat.info.gz")
	var buf strings.Builder
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(gz, []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, noMachine(), false, nil, "summary", "--json", gz)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if diff := cmp.Diff(plainOut.out, r.out); diff != "" {
		t.Errorf("gzipped report summarised differently (-plain +gzip):\n%s", diff)
	}
}

func TestSummaryFailures(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.info")
	if err := os.WriteFile(bad, []byte("TN:\nSF:a.c\nDA:1,1\nDA:2,x\nend_of_record\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(unknown, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string // in the error message
	}{
		{"a malformed report names the file, format and line", []string{bad}, []string{bad, "lcov", "line 4", `"x"`}},
		{"content of no known format asks for --format", []string{unknown}, []string{unknown, "--format"}},
		{"a forced format that does not fit is a parse error", []string{"--format", "cobertura", golden + "go/set.out"}, []string{"cobertura"}},
		{"an unknown --format lists the formats", []string{"--format", "xml", bad}, []string{`"xml"`, "lcov, cobertura"}},
		{"a missing file is named", []string{filepath.Join(dir, "nope.info")}, []string{"nope.info"}},
		{"no file is a usage error", nil, []string{"usage"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, noMachine(), false, nil, append([]string{"summary"}, tc.args...)...)
			if r.code != 1 {
				t.Fatalf("exit %d (%v), want 1", r.code, r.err)
			}
			msg := message(r.err)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if r.out != "" {
				t.Errorf("printed %q on failure", r.out)
			}
		})
	}
}
