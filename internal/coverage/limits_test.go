package coverage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseWithLimits(t *testing.T) {
	nested := func(depth int) string {
		return `<coverage lines-valid="1" lines-covered="1">` + strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth) + `</coverage>`
	}
	lcovFiles := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "SF:f%d.c\nDA:1,1\nend_of_record\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name   string
		format Format
		lim    Limits
		input  string
		limit  string // "" when the report is within its limits
	}{
		{"go block spanning a million lines is refused before expansion", Go, Limits{MaxLines: 999_999},
			"mode: set\ng.go:1.1,1000000.2 1 1\n", "lines"},
		{"go block of exactly the limit is read", Go, Limits{MaxLines: 1000},
			"mode: set\ng.go:1.1,1000.2 1 1\n", ""},
		{"go repeated block counts once", Go, Limits{MaxLines: 10},
			"mode: count\ng.go:1.1,10.2 1 1\ng.go:1.1,10.2 1 1\ng.go:1.1,10.2 1 1\n", ""},
		{"go files over the limit", Go, Limits{MaxFiles: 2},
			"mode: set\na.go:1.1,2.2 1 1\nb.go:1.1,2.2 1 1\nc.go:1.1,2.2 1 1\n", "files"},
		{"lcov files over the limit", LCOV, Limits{MaxFiles: 3}, lcovFiles(4), "files"},
		{"lcov repeated path counts once", LCOV, Limits{MaxFiles: 1},
			"SF:a.c\nDA:1,1\nend_of_record\nSF:a.c\nDA:1,1\nend_of_record\n", ""},
		{"lcov lines over the limit", LCOV, Limits{MaxLines: 2},
			"SF:a.c\nDA:1,1\nDA:2,1\nDA:3,1\nend_of_record\n", "lines"},
		{"cobertura nesting over the depth limit", Cobertura, Limits{MaxDepth: 8}, nested(8), "depth"},
		{"cobertura nesting at the depth limit", Cobertura, Limits{MaxDepth: 8}, nested(7), ""},
		{"cobertura elements over the limit", Cobertura, Limits{MaxElements: 5},
			`<coverage><packages><package><classes><class filename="a.py"><lines/></class></classes></package></packages></coverage>`, "elements"},
		{"cobertura lines over the limit", Cobertura, Limits{MaxLines: 1},
			`<coverage><packages><package><classes><class filename="a.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class></classes></package></packages></coverage>`, "lines"},
		{"jacoco files over the limit", JaCoCo, Limits{MaxFiles: 1},
			`<report name="r"><package name="p"><sourcefile name="A.java"></sourcefile><sourcefile name="B.java"></sourcefile></package></report>`, "files"},
		{"clover lines over the limit", Clover, Limits{MaxLines: 1},
			`<coverage clover="4"><project><file name="a.php"><line num="1" type="stmt" count="1"/><line num="2" type="stmt" count="1"/></file></project></coverage>`, "lines"},
		{"istanbul lines over the limit", Istanbul, Limits{MaxLines: 1},
			`{"a.js":{"path":"a.js","statementMap":{"0":{"start":{"line":1}},"1":{"start":{"line":2}}},"s":{"0":1,"1":0},"fnMap":{},"f":{},"branchMap":{},"b":{}}}`, "lines"},
		{"zero limits mean no limit", Go, Limits{},
			"mode: set\ng.go:1.1,100000.2 1 1\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith(strings.NewReader(tt.input), tt.format, tt.lim, nil)
			var le *LimitError
			if tt.limit == "" {
				if err != nil {
					t.Fatalf("ParseWith: %v", err)
				}
				return
			}
			if !errors.As(err, &le) {
				t.Fatalf("ParseWith error = %v, want a *LimitError for %s", err, tt.limit)
			}
			if le.Limit != tt.limit {
				t.Errorf("LimitError.Limit = %q, want %q (%v)", le.Limit, tt.limit, err)
			}
			if !strings.Contains(err.Error(), tt.limit) {
				t.Errorf("message %q does not name the limit %q", err, tt.limit)
			}
		})
	}
}

func TestCollectWithReturnsLimitError(t *testing.T) {
	rep, _, err := CollectWith(strings.NewReader("mode: set\ng.go:1.1,1000000.2 1 1\n"), Go, Limits{MaxLines: 1000})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "lines" || le.Max != 1000 {
		t.Fatalf("CollectWith error = %v, want LimitError lines 1000", err)
	}
	if rep != nil {
		t.Errorf("CollectWith returned a report with the error")
	}
	if got, want := err.Error(), "coverage: report has more than 1000 lines (limit lines)"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestParseAppliesDefaultLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("mode: set\n")
	for i := range 20 {
		fmt.Fprintf(&b, "g%d.go:1.1,1000000.2 1 1\n", i)
	}
	_, err := Parse(strings.NewReader(b.String()), "", nil)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "lines" {
		t.Fatalf("Parse of 20 blocks of a million lines: error %v, want the lines limit", err)
	}
}
