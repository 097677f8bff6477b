package coverage

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the per-file goldens in testdata/golden from the parser's output")

// toolTotals is what a coverage tool printed about its own report. A -1
// count means the tool does not print it.
type toolTotals struct {
	LinesFound, LinesHit       int64
	BranchesFound, BranchesHit int64
	StmtsFound, StmtsHit       int64
	FuncsFound, FuncsHit       int64
	Percent1                   float64 // the percent the tool printed, -1 if none
}

func unknownTotals() toolTotals {
	return toolTotals{-1, -1, -1, -1, -1, -1, -1, -1, -1}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("tool summary: %v", err)
	}
	return n
}

func readTool(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lcovSummary reads `lcov --summary` output.
func lcovSummary(t *testing.T, name string) toolTotals {
	s := readTool(t, name)
	tt := unknownTotals()
	m := regexp.MustCompile(`lines\.+: [0-9.]+% \((\d+) of (\d+) lines\)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s: no lines total", name)
	}
	tt.LinesHit, tt.LinesFound = mustAtoi(t, m[1]), mustAtoi(t, m[2])
	tt.BranchesHit, tt.BranchesFound = 0, 0
	if m := regexp.MustCompile(`branches\.+: [0-9.]+% \((\d+) of (\d+) branches\)`).FindStringSubmatch(s); m != nil {
		tt.BranchesHit, tt.BranchesFound = mustAtoi(t, m[1]), mustAtoi(t, m[2])
	}
	tt.FuncsHit, tt.FuncsFound = 0, 0
	if m := regexp.MustCompile(`functions\.+: [0-9.]+% \((\d+) of (\d+) functions\)`).FindStringSubmatch(s); m != nil {
		tt.FuncsHit, tt.FuncsFound = mustAtoi(t, m[1]), mustAtoi(t, m[2])
	}
	return tt
}

// gcovrSummary reads `gcovr --print-summary` output.
func gcovrSummary(t *testing.T, name string) toolTotals {
	s := readTool(t, name)
	tt := unknownTotals()
	m := regexp.MustCompile(`lines: [0-9.]+% \((\d+) out of (\d+)\)`).FindStringSubmatch(s)
	b := regexp.MustCompile(`branches: [0-9.]+% \((\d+) out of (\d+)\)`).FindStringSubmatch(s)
	if m == nil || b == nil {
		t.Fatalf("%s: no totals", name)
	}
	tt.LinesHit, tt.LinesFound = mustAtoi(t, m[1]), mustAtoi(t, m[2])
	tt.BranchesHit, tt.BranchesFound = mustAtoi(t, b[1]), mustAtoi(t, b[2])
	return tt
}

// coveragePyJSON reads the totals of `coverage json`.
func coveragePyJSON(t *testing.T, name string) toolTotals {
	var v struct {
		Totals struct {
			Covered  int64 `json:"covered_lines"`
			Stmts    int64 `json:"num_statements"`
			Branches int64 `json:"num_branches"`
			CovBr    int64 `json:"covered_branches"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(readTool(t, name)), &v); err != nil {
		t.Fatal(err)
	}
	tt := unknownTotals()
	tt.LinesFound, tt.LinesHit = v.Totals.Stmts, v.Totals.Covered
	tt.BranchesFound, tt.BranchesHit = v.Totals.Branches, v.Totals.CovBr
	return tt
}

// istanbulSummary reads istanbul's text-summary (nyc, c8).
// With cloverStmts, the Lines figure is expected as statements: istanbul's
// clover reporter writes its line totals into the statements metrics.
func istanbulSummary(t *testing.T, name string, lines, stmts, cloverStmts bool) toolTotals {
	s := readTool(t, name)
	get := func(what string) (int64, int64) {
		m := regexp.MustCompile(what + `\s*: [0-9.]+% \( (\d+)/(\d+) \)`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%s: no %s total", name, what)
		}
		return mustAtoi(t, m[1]), mustAtoi(t, m[2])
	}
	tt := unknownTotals()
	tt.BranchesHit, tt.BranchesFound = get("Branches")
	tt.FuncsHit, tt.FuncsFound = get("Functions")
	if lines {
		tt.LinesHit, tt.LinesFound = get("Lines")
	}
	if stmts {
		tt.StmtsHit, tt.StmtsFound = get("Statements")
	}
	if cloverStmts {
		tt.StmtsHit, tt.StmtsFound = get("Lines")
	}
	return tt
}

// noFuncs drops the function totals, for formats that carry none
// (Cobertura).
func noFuncs(tt toolTotals) toolTotals {
	tt.FuncsFound, tt.FuncsHit = -1, -1
	return tt
}

// goFunc reads the total of `go tool cover -func`.
func goFunc(t *testing.T, name string) toolTotals {
	m := regexp.MustCompile(`total:\s+\(statements\)\s+([0-9.]+)%`).FindStringSubmatch(readTool(t, name))
	if m == nil {
		t.Fatalf("%s: no total", name)
	}
	tt := unknownTotals()
	tt.Percent1, _ = strconv.ParseFloat(m[1], 64)
	return tt
}

// jacocoCounters reads the LINE and BRANCH counters that JaCoCo's own API
// printed for the bundle (testdata/golden/jacoco/Report.java).
func jacocoCounters(t *testing.T, name string) toolTotals {
	s := readTool(t, name)
	tt := unknownTotals()
	for _, c := range []struct {
		typ        string
		found, hit *int64
	}{{"LINE", &tt.LinesFound, &tt.LinesHit}, {"BRANCH", &tt.BranchesFound, &tt.BranchesHit}} {
		m := regexp.MustCompile(c.typ + ` missed=(\d+) covered=(\d+)`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%s: no %s counter", name, c.typ)
		}
		*c.found = mustAtoi(t, m[1]) + mustAtoi(t, m[2])
		*c.hit = mustAtoi(t, m[2])
	}
	return tt
}

// TestGoldenAgainstTools parses reports that real tools made (kept in
// testdata/golden, with the commands in testdata/golden/README.md) and
// checks our totals against the totals the same tool printed.
func TestGoldenAgainstTools(t *testing.T) {
	tests := []struct {
		name   string
		report string
		format Format
		files  int64
		want   func(t *testing.T) toolTotals
	}{
		{"gcc+lcov single run matches lcov --summary", "gcc-lcov/run1.info", LCOV, 1,
			func(t *testing.T) toolTotals { return lcovSummary(t, "gcc-lcov/run1.summary.txt") }},
		{"gcc+lcov records repeated per test merge like lcov --summary", "gcc-lcov/concat.info", LCOV, 1,
			func(t *testing.T) toolTotals { return lcovSummary(t, "gcc-lcov/concat.summary.txt") }},
		{"gcc+lcov lcov -a output matches lcov --summary", "gcc-lcov/merged.info", LCOV, 1,
			func(t *testing.T) toolTotals { return lcovSummary(t, "gcc-lcov/merged.summary.txt") }},
		{"gcovr cobertura matches gcovr's summary", "gcovr/gcovr-cobertura.xml", Cobertura, 1,
			func(t *testing.T) toolTotals { return gcovrSummary(t, "gcovr/gcovr-summary.txt") }},
		{"coverage.py cobertura matches coverage json totals", "coveragepy/coveragepy-cobertura.xml", Cobertura, 3,
			func(t *testing.T) toolTotals { return coveragePyJSON(t, "coveragepy/coveragepy.json") }},
		{"coverage.py lcov matches lcov --summary", "coveragepy/coveragepy.lcov", LCOV, 3,
			func(t *testing.T) toolTotals { return lcovSummary(t, "coveragepy/coveragepy.lcov.summary.txt") }},
		{"coverage.py lcov with branches on line 0 (exits) matches lcov --summary", "coveragepy-exits/exits.lcov", LCOV, 1,
			func(t *testing.T) toolTotals { return lcovSummary(t, "coveragepy-exits/exits.lcov.summary.txt") }},
		{"c8 coverage-final.json matches c8's text-summary", "c8/coverage-final.json", Istanbul, 2,
			func(t *testing.T) toolTotals { return istanbulSummary(t, "c8/c8-summary.txt", true, true, false) }},
		{"c8 lcov matches lcov --summary", "c8/lcov.info", LCOV, 2,
			func(t *testing.T) toolTotals { return lcovSummary(t, "c8/lcov.info.summary.txt") }},
		{"c8 clover matches c8's lines (as statements) and branches", "c8/clover.xml", Clover, 2,
			func(t *testing.T) toolTotals { return istanbulSummary(t, "c8/c8-summary.txt", false, false, true) }},
		{"c8 cobertura matches c8's lines and branches", "c8/cobertura-coverage.xml", Cobertura, 2,
			func(t *testing.T) toolTotals {
				return noFuncs(istanbulSummary(t, "c8/c8-summary.txt", true, false, false))
			}},
		{"nyc coverage-final.json matches nyc's text-summary", "nyc/coverage-final.json", Istanbul, 2,
			func(t *testing.T) toolTotals { return istanbulSummary(t, "nyc/nyc-summary.txt", true, true, false) }},
		{"nyc lcov matches lcov --summary", "nyc/lcov.info", LCOV, 2,
			func(t *testing.T) toolTotals { return lcovSummary(t, "nyc/lcov.info.summary.txt") }},
		{"nyc clover matches nyc's lines (as statements) and branches", "nyc/clover.xml", Clover, 2,
			func(t *testing.T) toolTotals { return istanbulSummary(t, "nyc/nyc-summary.txt", false, false, true) }},
		{"nyc cobertura matches nyc's lines and branches", "nyc/cobertura-coverage.xml", Cobertura, 2,
			func(t *testing.T) toolTotals {
				return noFuncs(istanbulSummary(t, "nyc/nyc-summary.txt", true, false, false))
			}},
		{"jacoco matches JaCoCo's LINE and BRANCH counters", "jacoco/jacoco.xml", JaCoCo, 1,
			func(t *testing.T) toolTotals { return jacocoCounters(t, "jacoco/jacoco-summary.txt") }},
		{"go set mode matches go tool cover -func", "go/set.out", Go, 2,
			func(t *testing.T) toolTotals { return goFunc(t, "go/set.func.txt") }},
		{"go count mode matches go tool cover -func", "go/count.out", Go, 2,
			func(t *testing.T) toolTotals { return goFunc(t, "go/count.func.txt") }},
		{"go atomic mode matches go tool cover -func", "go/atomic.out", Go, 2,
			func(t *testing.T) toolTotals { return goFunc(t, "go/atomic.func.txt") }},
		{"go -coverpkg set blocks repeated per package merge like go tool cover", "go/coverpkg-set.out", Go, 2,
			func(t *testing.T) toolTotals { return goFunc(t, "go/coverpkg-set.func.txt") }},
		{"go -coverpkg count blocks repeated per package merge like go tool cover", "go/coverpkg-count.out", Go, 2,
			func(t *testing.T) toolTotals { return goFunc(t, "go/coverpkg-count.func.txt") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "golden", tc.report))
			if err != nil {
				t.Fatal(err)
			}
			peek := data
			if len(peek) > peekSize {
				peek = peek[:peekSize]
			}
			if f, err := Detect(peek); err != nil || f != tc.format {
				t.Errorf("Detect = %q, %v; want %q", f, err, tc.format)
			}
			var files []*File
			got, err := Parse(bytesReader(data), "", func(f *File) error {
				files = append(files, f)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want(t)
			if got.Files != tc.files {
				t.Errorf("files = %d, want %d", got.Files, tc.files)
			}
			check := func(what string, got, want int64) {
				if want >= 0 && got != want {
					t.Errorf("%s = %d, want %d (the tool's)", what, got, want)
				}
			}
			check("lines_found", got.LinesFound, want.LinesFound)
			check("lines_hit", got.LinesHit, want.LinesHit)
			check("branches_found", got.BranchesFound, want.BranchesFound)
			check("branches_hit", got.BranchesHit, want.BranchesHit)
			check("statements_found", got.StatementsFound, want.StmtsFound)
			check("statements_hit", got.StatementsHit, want.StmtsHit)
			check("functions_found", got.FunctionsFound, want.FuncsFound)
			check("functions_hit", got.FunctionsHit, want.FuncsHit)
			if want.Percent1 >= 0 && math.Abs(math.Round(got.Percent*10)/10-want.Percent1) > 1e-9 {
				t.Errorf("percent = %v, want %v (the tool's, to one decimal)", got.Percent, want.Percent1)
			}
			checkGoldenFiles(t, tc.report, got, files)
		})
	}
}

// checkGoldenFiles compares the emitted files and totals with a JSON
// golden beside the report, refreshed with -update.
func checkGoldenFiles(t *testing.T, report string, tot Totals, files []*File) {
	t.Helper()
	got, err := json.MarshalIndent(struct {
		Totals Totals  `json:"totals"`
		Files  []*File `json:"files"`
	}{tot, files}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", report+".parsed.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("parsed %s differs from %s (-want +got):\n%s", report, path, diff)
	}
}
