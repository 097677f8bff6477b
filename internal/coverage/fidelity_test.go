package coverage

import (
	"errors"
	"strings"
	"testing"
)

func TestCountsNegativeOrBeyondInt64AreErrorsNamingTheLine(t *testing.T) {
	const beyond = "9223372036854775808" // 2^63
	cob := func(hits string) string {
		return "<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines>\n<line number=\"1\" hits=\"" + hits + "\"/>\n</lines></class></classes></package></packages></coverage>"
	}
	ist := func(s string) string {
		return `{"a.js":{"path":"a.js","statementMap":{"0":{"start":{"line":1}}},"s":{"0":` + s + `},"fnMap":{},"f":{},"branchMap":{},"b":{}}}`
	}
	tests := []struct {
		name   string
		format Format
		input  string
		want   string
	}{
		{"lcov DA negative", LCOV, "SF:a.c\nDA:1,-3\nend_of_record\n", `coverage: lcov: line 2: DA: hit count "-3" is negative`},
		{"lcov DA beyond int64", LCOV, "SF:a.c\nDA:1," + beyond + "\n", `coverage: lcov: line 2: DA: hit count "` + beyond + `" is beyond the largest count (2^63-1)`},
		{"lcov DA 2^64", LCOV, "SF:a.c\nDA:1,18446744073709551616\n", `line 2: DA: hit count "18446744073709551616" is beyond`},
		{"lcov DA negative float", LCOV, "SF:a.c\nDA:1,-1.5\n", `line 2: DA: hit count "-1.5" is negative`},
		{"lcov BRDA negative", LCOV, "SF:a.c\nDA:1,1\nBRDA:1,0,0,-1\n", `line 3: BRDA: taken count "-1" is negative`},
		{"lcov FNDA beyond int64", LCOV, "SF:a.c\nFN:1,f\nFNDA:" + beyond + ",f\n", `line 3: FNDA: hit count "` + beyond + `" is beyond`},
		{"go count negative", Go, "mode: count\na.go:1.1,2.2 1 -1\n", `coverage: go: line 2: execution count "-1" is negative`},
		{"go count beyond int64", Go, "mode: count\na.go:1.1,2.2 1 " + beyond + "\n", `coverage: go: line 2: execution count "` + beyond + `" is beyond`},
		{"cobertura hits negative", Cobertura, cob("-2"), `coverage: cobertura: line 3: <line>: attribute hits="-2" is negative`},
		{"cobertura hits beyond int64", Cobertura, cob(beyond), `coverage: cobertura: line 3: <line>: attribute hits="` + beyond + `" is beyond`},
		{"jacoco ci negative", JaCoCo, "<report name=\"r\"><package name=\"p\"><sourcefile name=\"A.java\">\n<line nr=\"1\" mi=\"0\" ci=\"-1\" mb=\"0\" cb=\"0\"/>\n</sourcefile></package></report>", `coverage: jacoco: line 2: <line>: attribute ci="-1" is negative`},
		{"clover count negative", Clover, "<coverage clover=\"4\"><project><file name=\"a.php\">\n<line num=\"1\" type=\"stmt\" count=\"-7\"/>\n</file></project></coverage>", `coverage: clover: line 2: <line>: attribute count="-7" is negative`},
		{"istanbul statement count negative", Istanbul, ist("-1"), `statement "0": count -1 is negative`},
		{"istanbul statement count beyond int64", Istanbul, ist("1e19"), `statement "0": count 1e+19 is beyond`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.input), tt.format, nil)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestCountsAtTheLimitsAreRead(t *testing.T) {
	const largest = "9223372036854775807"
	tests := []struct {
		name   string
		format Format
		input  string
		hits   int64
	}{
		{"lcov largest count", LCOV, "SF:a.c\nDA:1," + largest + "\n", 1<<63 - 1},
		{"lcov integral float", LCOV, "SF:a.c\nDA:1,3.0\n", 3},
		{"lcov explicit plus", LCOV, "SF:a.c\nDA:1,+4\n", 4},
		{"lcov negative zero", LCOV, "SF:a.c\nDA:1,-0\n", 0},
		{"go largest count", Go, "mode: count\na.go:1.1,1.2 1 " + largest + "\n", 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _, err := Collect(strings.NewReader(tt.input), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Files {
				if l, ok := f.Line(1); !ok || l.Hits != tt.hits {
					t.Errorf("line 1 = %+v, %v; want hits %d", l, ok, tt.hits)
				}
			}
		})
	}
}

func TestLCOVBranchesOnLineZeroCountForTheFile(t *testing.T) {
	// As coverage.py writes the arms that leave a code object.
	in := "SF:a.py\nDA:1,1\nDA:2,1\nBRDA:1,0,0,1\nBRDA:0,0,1,1\nBRDA:0,1,0,-\nend_of_record\n"
	var files []*File
	tot, err := Parse(strings.NewReader(in), LCOV, func(f *File) error {
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tot.BranchesFound != 3 || tot.BranchesHit != 2 {
		t.Errorf("totals branches = %d/%d, want 2/3 as lcov counts them", tot.BranchesHit, tot.BranchesFound)
	}
	f := files[0]
	if f.BranchesFound != 3 || f.BranchesHit != 2 {
		t.Errorf("file branches = %d/%d, want 2/3", f.BranchesHit, f.BranchesFound)
	}
	if len(f.Lines) != 2 || f.Lines[0].BranchesFound != 1 || f.Lines[1].BranchesFound != 0 {
		t.Errorf("lines = %+v, want the line-0 arms on no line", f.Lines)
	}
	if _, err := Parse(strings.NewReader("SF:a.py\nDA:0,1\n"), LCOV, nil); err == nil || !strings.Contains(err.Error(), `DA: line number "0" is not a positive integer`) {
		t.Errorf("DA on line 0: error %v, want it refused", err)
	}
}
