package coverage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func parseAll(t *testing.T, in string, f Format) (Totals, []*File, error) {
	t.Helper()
	var files []*File
	tot, err := Parse(strings.NewReader(in), f, func(x *File) error {
		files = append(files, x)
		return nil
	})
	return tot, files, err
}

func TestParseLCOV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Totals
		files []*File
	}{
		{
			name:  "repeated DA for a line adds hits and counts the line once",
			in:    "SF:a.c\nDA:3,0\nDA:3,2\nDA:4,0\nend_of_record\n",
			want:  Totals{Files: 1, LinesFound: 2, LinesHit: 1, Percent: 50},
			files: []*File{{Path: "a.c", Lines: []Line{{Number: 3, Hits: 2}, {Number: 4}}}},
		},
		{
			name:  "BRDA with - counts as found and not hit",
			in:    "SF:a.c\nDA:1,1\nBRDA:1,0,0,-\nBRDA:1,0,1,3\nend_of_record\n",
			want:  Totals{Files: 1, LinesFound: 1, LinesHit: 1, BranchesFound: 2, BranchesHit: 1, Percent: 100},
			files: []*File{{Path: "a.c", Lines: []Line{{Number: 1, Hits: 1, BranchesFound: 2, BranchesHit: 1}}, BranchesFound: 2, BranchesHit: 1}},
		},
		{
			name:  "non-numeric branch ids, even with commas, are distinct arms",
			in:    "SF:a.py\nDA:1,1\nBRDA:1,e0,(a, b) == True,1\nBRDA:1,e0,(a, b) == False,0\nBRDA:1,e0,(a, b) == True,2\nend_of_record\n",
			want:  Totals{Files: 1, LinesFound: 1, LinesHit: 1, BranchesFound: 2, BranchesHit: 1, Percent: 100},
			files: []*File{{Path: "a.py", Lines: []Line{{Number: 1, Hits: 1, BranchesFound: 2, BranchesHit: 1}}, BranchesFound: 2, BranchesHit: 1}},
		},
		{
			name:  "LCOV 2.x FNL and FNA count a function once, hit when any alias ran",
			in:    "VER:2.2\nSF:a.cc\nFNL:0,10,20\nFNA:0,0,foo(int)\nFNA:0,3,foo<int>(int)\nFNL:1,30\nFNA:1,0,bar\nDA:10,3\nend_of_record\n",
			want:  Totals{Files: 1, LinesFound: 1, LinesHit: 1, FunctionsFound: 2, FunctionsHit: 1, Percent: 100},
			files: []*File{{Path: "a.cc", Lines: []Line{{Number: 10, Hits: 3}}, FunctionsFound: 2, FunctionsHit: 1}},
		},
		{
			name:  "FN with an end line (LCOV 2.x) and names with commas",
			in:    "SF:a.cc\nFN:1,5,std::map<int, int> f()\nFNDA:1,std::map<int, int> f()\nFN:7,g\nend_of_record\n",
			want:  Totals{Files: 1, FunctionsFound: 2, FunctionsHit: 1},
			files: []*File{{Path: "a.cc", Lines: []Line{}, FunctionsFound: 2, FunctionsHit: 1}},
		},
		{
			name: "records repeated per test merge per file, line and arm",
			in: "TN:t1\nSF:a.c\nDA:1,1\nDA:2,0\nBRDA:2,0,0,0\nBRDA:2,0,1,-\nend_of_record\nSF:b.c\nDA:1,0\nend_of_record\n" +
				"TN:t2\nSF:a.c\nDA:2,4\nDA:3,0\nBRDA:2,0,1,1\nend_of_record\n",
			want: Totals{Files: 2, LinesFound: 4, LinesHit: 2, BranchesFound: 2, BranchesHit: 1, Percent: 50},
			files: []*File{
				{Path: "a.c", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2, BranchesFound: 2}}, BranchesFound: 2},
				{Path: "b.c", Lines: []Line{{Number: 1}}},
				{Path: "a.c", Lines: []Line{{Number: 2, Hits: 4, BranchesFound: 1, BranchesHit: 1}, {Number: 3}}, BranchesFound: 1, BranchesHit: 1},
			},
		},
		{
			name:  "LF, LH and friends are recomputed, not trusted",
			in:    "SF:a.c\nDA:1,1\nLF:99\nLH:99\nBRF:5\nBRH:5\nend_of_record\n",
			want:  Totals{Files: 1, LinesFound: 1, LinesHit: 1, Percent: 100},
			files: []*File{{Path: "a.c", Lines: []Line{{Number: 1, Hits: 1}}}},
		},
		{
			name:  "a last record without end_of_record, CRLF and a DA checksum",
			in:    "TN:\r\nSF:a.c\r\nDA:2,1,abcdef\r\nDA:1,0\r\n",
			want:  Totals{Files: 1, LinesFound: 2, LinesHit: 1, Percent: 50},
			files: []*File{{Path: "a.c", Lines: []Line{{Number: 1}, {Number: 2, Hits: 1}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, files, err := parseAll(t, tc.in, "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("totals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.files, files, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorsNameFormatPlaceAndProblem(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format Format
		want   string
	}{
		{"lcov DA hit count not a number", "SF:a\nDA:1,x\n", LCOV, "coverage: lcov: line 2: DA: hit count \"x\" is not a number"},
		{"lcov DA without hits", "SF:a\nDA:1\n", LCOV, "coverage: lcov: line 2: DA: want DA:<line>,<hits>"},
		{"lcov record before SF", "TN:\nDA:1,1\n", LCOV, "coverage: lcov: line 2: DA before SF"},
		{"lcov garbage line", "SF:a\nhello\n", LCOV, "coverage: lcov: line 2: \"hello\" is not an LCOV record"},
		{"lcov BRDA taken not a number", "SF:a\nBRDA:1,0,0,x\n", LCOV, "coverage: lcov: line 2: BRDA: taken count \"x\""},
		{"lcov FNA without FNL", "SF:a\nFNA:3,1,f\n", LCOV, "coverage: lcov: line 2: FNA: function index \"3\" has no FNL"},
		{"go missing mode", "a.go:1.1,2.2 1 1\n", Go, "coverage: go: line 1: first line must be \"mode: set|count|atomic\""},
		{"go bad mode", "mode: sometimes\n", Go, "coverage: go: line 1: mode \"sometimes\""},
		{"go bad position", "mode: set\na.go:1.1-2.2 1 1\n", Go, "coverage: go: line 2: block position \"1.1-2.2\""},
		{"go bad count", "mode: set\na.go:1.1,2.2 1 many\n", Go, "coverage: go: line 2: execution count \"many\""},
		{"go mixed modes", "mode: set\nmode: count\n", Go, "coverage: go: line 2: mode \"count\" differs"},
		{"go inconsistent statements", "mode: set\na.go:1.1,2.2 1 1\na.go:1.1,2.2 2 1\n", Go, "inconsistent statement count: 1 then 2"},
		{"go huge block", "mode: set\na.go:1.1,2000000000.2 1 1\n", Go, "spans more than"},
		{"go empty", "", Go, "coverage: go: line 1: empty profile"},
		{"cobertura bad hits", `<coverage><packages><package><classes><class filename="a.py"><lines>` + "\n" + `<line number="1" hits="lots"/></lines></class></classes></package></packages></coverage>`, Cobertura, "coverage: cobertura: line 2: <line>: attribute hits=\"lots\" is not a number"},
		{"cobertura truncated", `<coverage><packages>`, Cobertura, "coverage: cobertura: line 1: <packages>: malformed XML: unexpected EOF"},
		{"cobertura bad condition-coverage", `<coverage><packages><package><classes><class filename="a"><lines><line number="1" hits="1" branch="true" condition-coverage="half"/></lines></class></classes></package></packages></coverage>`, Cobertura, "condition-coverage=\"half\""},
		{"jacoco bad nr", `<report name="x"><package name="p"><sourcefile name="A.java"><line nr="zero" mi="1" ci="0"/></sourcefile></package></report>`, JaCoCo, "coverage: jacoco: line 1: <line>: nr=\"zero\""},
		{"jacoco mismatched tags", "<report name=\"x\">\n<package name=\"p\"></report>", JaCoCo, "coverage: jacoco: line 2: <package>: malformed XML"},
		{"clover unknown line type", `<coverage clover="x"><project><file name="a"><line num="1" count="1" type="weird"/></file></project></coverage>`, Clover, "type=\"weird\" is not stmt, cond or method"},
		{"istanbul not an object", `[1,2]`, Istanbul, "coverage: istanbul: at byte 1: want a JSON object"},
		{"istanbul statement without count", `{"a.js":{"path":"a.js","statementMap":{"0":{"start":{"line":1}}},"s":{}}}`, Istanbul, "coverage: istanbul: <a.js>: at byte"},
		{"istanbul truncated", `{"a.js":{"path":"a.js"`, Istanbul, "malformed file coverage: unexpected EOF"},
		{"unknown content", "hello world\n", "", "unknown report format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := 0
			got, err := Parse(strings.NewReader(tc.in), tc.format, func(*File) error { called++; return nil })
			if err == nil {
				t.Fatalf("no error; totals %+v", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if got != (Totals{}) {
				t.Errorf("partial totals returned: %+v", got)
			}
			var pe *ParseError
			if tc.format != "" && !errors.As(err, &pe) {
				t.Errorf("error %v is not a *ParseError", err)
			}
		})
	}
}

func TestParseReadsGzipTransparently(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("mode: count\na.go:1.1,3.2 2 5\na.go:4.1,5.2 1 0\n"))
	zw.Close()
	got, err := Parse(&buf, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Files: 1, LinesFound: 5, LinesHit: 3, StatementsFound: 3, StatementsHit: 2, Percent: 66.666666667, Statements: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseGo(t *testing.T) {
	t.Run("a line shared by a block that ran and one that did not is partial", func(t *testing.T) {
		_, files, err := parseAll(t, "mode: set\na.go:1.10,2.5 1 1\na.go:2.5,2.20 1 0\n", "")
		if err != nil {
			t.Fatal(err)
		}
		want := []Line{{Number: 1, Hits: 1}, {Number: 2, Hits: 1, BranchesFound: 2, BranchesHit: 1}}
		if diff := cmp.Diff(want, files[0].Lines); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if files[0].Lines[1].Covered() {
			t.Error("partly run line counts as covered")
		}
	})
	t.Run("count mode adds duplicate blocks and set mode ORs them", func(t *testing.T) {
		for _, mode := range []string{"count", "set"} {
			in := "mode: " + mode + "\na.go:1.1,1.9 1 2\nb.go:1.1,1.9 1 0\na.go:1.1,1.9 1 3\nmode: " + mode + "\n"
			got, files, err := parseAll(t, in, Go)
			if err != nil {
				t.Fatal(err)
			}
			wantHits := map[string]int64{"count": 5, "set": 1}[mode]
			if files[0].Lines[0].Hits != wantHits || got.StatementsFound != 2 || got.StatementsHit != 1 {
				t.Errorf("%s: hits %d, totals %+v", mode, files[0].Lines[0].Hits, got)
			}
		}
	})
}

func TestParseCobertura(t *testing.T) {
	in := `<?xml version="1.0"?>
<coverage lines-valid="9" lines-covered="7" branches-valid="4" branches-covered="1">
 <sources><source>/src/app</source><source>/other</source></sources>
 <packages><package name="p"><classes>
  <class name="A" filename="pkg/a.py">
   <methods><method name="f"><lines><line number="1" hits="99"/><line number="50" hits="1"/></lines></method></methods>
   <lines><line number="1" hits="2"/><line number="3" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines>
  </class>
  <class name="A$Inner" filename="pkg/a.py">
   <lines><line number="5" hits="1"/><line number="1" hits="1"/></lines>
  </class>
  <class name="B" filename="/abs/b.py"><lines><line number="2" hits="0"/></lines></class>
 </classes></package></packages>
</coverage>`
	got, files, err := parseAll(t, in, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Files: 2, LinesFound: 9, LinesHit: 7, BranchesFound: 4, BranchesHit: 1, Percent: 77.777777778}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals are the root's (-want +got):\n%s", diff)
	}
	wantFiles := []*File{
		{Path: "/src/app/pkg/a.py", Lines: []Line{{Number: 1, Hits: 2}, {Number: 3, BranchesFound: 2, BranchesHit: 1}, {Number: 5, Hits: 1}}},
		{Path: "/abs/b.py", Lines: []Line{{Number: 2}}},
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("one file across classes, method lines ignored (-want +got):\n%s", diff)
	}

	t.Run("without root counts totals are counted from the lines", func(t *testing.T) {
		in := `<coverage><packages><package><classes><class filename="a"><lines><line number="1" hits="1" branch="true" condition-coverage="50% (1/2)"/><line number="2" hits="0"/></lines></class></classes></package></packages></coverage>`
		got, _, err := parseAll(t, in, Cobertura)
		if err != nil {
			t.Fatal(err)
		}
		want := Totals{Files: 1, LinesFound: 2, LinesHit: 1, BranchesFound: 2, BranchesHit: 1, Percent: 50}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestParseJaCoCoOmittedCountersAreZero(t *testing.T) {
	in := `<?xml version="1.0"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="r"><package name="com/x"><sourcefile name="A.java">
<line nr="3" mi="0" ci="2"/><line nr="4" mi="1" ci="0" mb="2"/><line nr="5"/>
<counter type="LINE" missed="1" covered="1"/></sourcefile>
<counter type="LINE" missed="1" covered="1"/></package>
<counter type="LINE" missed="1" covered="1"/></report>`
	got, files, err := parseAll(t, in, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Files: 1, LinesFound: 2, LinesHit: 1, Percent: 50}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantFiles := []*File{{Path: "com/x/A.java", Lines: []Line{{Number: 3, Hits: 2}, {Number: 4, BranchesFound: 2}}, BranchesFound: 2}}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseClover(t *testing.T) {
	in := `<coverage generated="1" clover="3.2.0"><project name="All files">
<metrics statements="3" coveredstatements="2" conditionals="2" coveredconditionals="1" methods="1" coveredmethods="1"/>
<package name="p"><file name="a.js" path="/w/a.js"><line num="1" count="1" type="method"/><line num="2" count="4" type="stmt"/><line num="3" count="1" type="cond" truecount="1" falsecount="1"/><line num="4" count="0" type="stmt"/></file></package>
</project><testproject><file name="t.js"><line num="1" count="1" type="stmt"/></file></testproject></coverage>`
	got, files, err := parseAll(t, in, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Files: 1, LinesFound: 3, LinesHit: 2, BranchesFound: 2, BranchesHit: 1, StatementsFound: 3, StatementsHit: 2, FunctionsFound: 1, FunctionsHit: 1, Percent: 66.666666667, Statements: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(files) != 1 || files[0].Path != "/w/a.js" {
		t.Errorf("files = %+v, want only /w/a.js", files)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Format
	}{
		{"lcov starting with TN", "TN:\nSF:a\n", LCOV},
		{"lcov starting with SF after a BOM", "\xef\xbb\xbfSF:a\n", LCOV},
		{"go profile", "mode: atomic\n", Go},
		{"istanbul json", "  {\"a.js\": {}}", Istanbul},
		{"cobertura with declaration and doctype", "<?xml version='1.0'?>\n<!DOCTYPE coverage SYSTEM 'x'>\n<coverage line-rate=\"1\">", Cobertura},
		{"clover", "<?xml version=\"1.0\"?>\n<coverage generated=\"1\" clover=\"3.2.0\">", Clover},
		{"clover without clover attribute", "<coverage generated=\"1\">\n  <project timestamp=\"1\">", Clover},
		{"jacoco by doctype", "<?xml version=\"1.0\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"x\">", JaCoCo},
		{"jacoco by root", "<report name=\"x\">", JaCoCo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect([]byte(tc.in))
			if err != nil || got != tc.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for _, in := range []string{"", "<html>", "\x1f\x8b\x08", "DA:1,1\n"} {
		if f, err := Detect([]byte(in)); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("Detect(%q) = %q, %v; want ErrUnknownFormat", in, f, err)
		}
	}
}

func TestParseStopsWhenEmitFails(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(strings.NewReader("SF:a\nend_of_record\n"), LCOV, func(*File) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}

func TestCollectMergesRepeatedPaths(t *testing.T) {
	rep, tot, err := Collect(strings.NewReader("SF:a\nDA:1,1\nDA:2,0\nend_of_record\nSF:a\nDA:2,3\nend_of_record\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{Files: map[string]*File{"a": {Path: "a", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2, Hits: 3}}}}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if tot.LinesFound != 2 || tot.LinesHit != 2 {
		t.Errorf("totals %+v", tot)
	}
}

func TestLCOVTotalsSameWhetherOrNotTheReportCanBeReadTwice(t *testing.T) {
	inputs := []string{
		"TN:t1\nSF:a.c\nDA:1,1\nDA:2,0\nBRDA:2,0,0,0\nBRDA:2,0,1,-\nFN:1,f\nend_of_record\nSF:b.c\nDA:1,0\nend_of_record\n" +
			"TN:t2\nSF:a.c\nDA:2,4\nDA:3,0\nBRDA:2,0,1,1\nFN:1,f\nFNDA:1,f\nend_of_record\n",
		"SF:a\nDA:1,0\nDA:1000000000,1\nend_of_record\nSF:a\nDA:1,1\nDA:5,0\nend_of_record\nSF:a\nDA:5,0\nend_of_record\n",
		"SF:x\nDA:1,1\nend_of_record\nSF:y\nDA:1,0\nend_of_record\n",
	}
	for _, in := range inputs {
		seekable, err := Parse(strings.NewReader(in), LCOV, nil)
		if err != nil {
			t.Fatal(err)
		}
		streamOnly, err := Parse(struct{ io.Reader }{strings.NewReader(in)}, LCOV, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(seekable, streamOnly); diff != "" {
			t.Errorf("two-pass vs one-pass totals (-two +one):\n%s", diff)
		}
	}
}

func TestTotalsJSONUsesTheSpecNames(t *testing.T) {
	b, err := json.Marshal(Totals{Files: 1, LinesFound: 2, LinesHit: 1, Percent: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"files":1,"lines_found":2,"lines_hit":1,"branches_found":0,"branches_hit":0,"percent":50}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	b, _ = json.Marshal(Totals{StatementsFound: 4, StatementsHit: 3, Statements: true, Percent: 75})
	if !strings.Contains(string(b), `"statements_found":4,"statements_hit":3`) {
		t.Errorf("statements missing: %s", b)
	}
}

func TestTotalsAddOverSeveralReports(t *testing.T) {
	a := Totals{Files: 1, LinesFound: 4, LinesHit: 1}
	b := Totals{Files: 2, LinesFound: 4, LinesHit: 3}
	if got := a.Add(b); got.Files != 3 || got.LinesHit != 4 || got.Percent != 50 {
		t.Errorf("Add = %+v", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("LCOV"); err == nil {
		t.Error("ParseFormat is case-sensitive: want an error for LCOV")
	}
}

func TestLargeGoProfileReadInPartsMatchesReadingInOrder(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("mode: count\n")
	for rep := 0; b.Len() < 12<<20; rep++ {
		if rep%7 == 3 {
			b.WriteString("mode: count\n")
		}
		for f := 0; f < 20; f++ {
			for l := 1; l < 400; l += 2 {
				fmt.Fprintf(&b, "example.com/m/p%d/f.go:%d.2,%d.9 %d %d\n", f, l, l+1, 1+l%3, (l+rep+f)%3)
			}
		}
	}
	data := b.Bytes()
	collect := func(r io.Reader) (Totals, []*File, error) {
		var files []*File
		tot, err := Parse(r, "", func(f *File) error { files = append(files, f); return nil })
		return tot, files, err
	}
	inParts, partFiles, err := collect(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	inOrder, orderFiles, err := collect(struct{ io.Reader }{bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inOrder, inParts); diff != "" {
		t.Errorf("totals (-in order +in parts):\n%s", diff)
	}
	if diff := cmp.Diff(orderFiles, partFiles); diff != "" {
		t.Errorf("files (-in order +in parts):\n%s", diff)
	}

	t.Run("an error in a later part names its line", func(t *testing.T) {
		bad := append(bytes.Clone(data), "example.com/m/p1/f.go:1.2,2.9 7 1\n"...)
		lines := bytes.Count(bad, []byte{'\n'})
		_, err := Parse(bytes.NewReader(bad), "", nil)
		want := fmt.Sprintf("coverage: go: line %d: block 1.2,2.9: inconsistent statement count", lines)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	})
}
