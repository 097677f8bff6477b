package coverage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// perTestLCOV returns a report of tests records per path over the given
// paths, as per-test captures concatenated look: the same arms and
// functions in the same order every time, different hits; some records
// list lines out of order, repeat a DA, or name arms by expression.
func perTestLCOV(seed uint64, paths, tests int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for tc := range tests {
		fmt.Fprintf(&b, "TN:t%d\n", tc)
		for p := range paths {
			fmt.Fprintf(&b, "SF:/src/f%d.c\n", p)
			for fn := range 4 {
				fmt.Fprintf(&b, "FN:%d,f%d_%d\n", 1+fn*10, p, fn)
			}
			for fn := range 4 {
				fmt.Fprintf(&b, "FNDA:%d,f%d_%d\n", r.IntN(2), p, fn)
			}
			lines := 20 + p*7
			for l := 1; l <= lines; l++ {
				n := l
				if tc%5 == 3 {
					n = lines + 1 - l // out of order
				}
				if n%4 == 0 && tc%2 == 0 {
					continue // not every test names every line
				}
				fmt.Fprintf(&b, "DA:%d,%d\n", n, r.IntN(3))
				if n%7 == 0 {
					fmt.Fprintf(&b, "DA:%d,%d\n", n, r.IntN(2)) // repeated
				}
			}
			for l := 3; l <= lines; l += 6 {
				taken := fmt.Sprint(r.IntN(2))
				if r.IntN(4) == 0 {
					taken = "-"
				}
				fmt.Fprintf(&b, "BRDA:%d,0,0,%s\nBRDA:%d,0,1,%d\n", l, taken, l, r.IntN(2))
				if p%3 == 0 {
					fmt.Fprintf(&b, "BRDA:%d,e0,x > %d,%d\n", l, tc%3, r.IntN(2))
				}
			}
			if tc%4 == 1 {
				fmt.Fprintf(&b, "BRDA:0,9,0,%d\n", r.IntN(2))
			}
			b.WriteString("end_of_record\n")
		}
	}
	return b.Bytes()
}

// referenceLCOV computes totals the plain way: sets per path.
func referenceLCOV(t *testing.T, data []byte) Totals {
	t.Helper()
	type state struct{ lines, arms, fns map[string]bool }
	files := map[string]*state{}
	var cur *state
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		var a, c int
		var s string
		switch {
		case len(line) > 3 && line[:3] == "SF:":
			if cur = files[line[3:]]; cur == nil {
				cur = &state{map[string]bool{}, map[string]bool{}, map[string]bool{}}
				files[line[3:]] = cur
			}
		case len(line) > 3 && line[:3] == "DA:":
			fmt.Sscanf(line, "DA:%d,%d", &a, &c)
			k := fmt.Sprint(a)
			cur.lines[k] = cur.lines[k] || c > 0
		case len(line) > 5 && line[:5] == "BRDA:":
			i := bytes.LastIndexByte([]byte(line), ',')
			k := line[5:i]
			cur.arms[k] = cur.arms[k] || (line[i+1:] != "-" && line[i+1:] != "0")
		case len(line) > 3 && line[:3] == "FN:":
			fmt.Sscanf(line, "FN:%d,%s", &a, &s)
			cur.fns[s] = cur.fns[s] || false
		case len(line) > 5 && line[:5] == "FNDA:":
			fmt.Sscanf(line, "FNDA:%d,%s", &c, &s)
			cur.fns[s] = cur.fns[s] || c > 0
		}
	}
	var tot Totals
	count := func(m map[string]bool) (found, hit int64) {
		for _, h := range m {
			found++
			if h {
				hit++
			}
		}
		return
	}
	for _, st := range files {
		tot.Files++
		lf, lh := count(st.lines)
		bf, bh := count(st.arms)
		ff, fh := count(st.fns)
		tot.LinesFound += lf
		tot.LinesHit += lh
		tot.BranchesFound += bf
		tot.BranchesHit += bh
		tot.FunctionsFound += ff
		tot.FunctionsHit += fh
	}
	tot.setPercent()
	return tot
}

func TestLCOVTotalsMergePerPathHoweverTheReportIsRead(t *testing.T) {
	data := perTestLCOV(7, 9, 12)
	want := referenceLCOV(t, data)
	reopen := func() (*bufio.Reader, error) { return bufio.NewReader(bytes.NewReader(data)), nil }
	tests := []struct {
		name        string
		digestBytes int64
		reopen      func() (*bufio.Reader, error)
		lim         Limits
	}{
		{"one pass with a digest per path", lcovDigestBudget, nil, Limits{}},
		{"one pass, readable again, digests within budget", lcovDigestBudget, reopen, Limits{}},
		{"digests over budget: record by record, then the repeated paths again", 1, reopen, Limits{}},
		{"line budget met only by the merged paths", lcovDigestBudget, reopen, Limits{MaxLines: want.LinesFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emitted := 0
			got, err := parseLCOVTwice(bufio.NewReader(bytes.NewReader(data)), tt.lim, tt.digestBytes,
				func(*File) error { emitted++; return nil }, tt.reopen)
			if err != nil {
				t.Fatal(err)
			}
			got.setPercent()
			if got != want {
				t.Errorf("totals %+v, want %+v", got, want)
			}
			if emitted != 9*12 {
				t.Errorf("emitted %d files, want one per record (%d)", emitted, 9*12)
			}
		})
	}
}

func TestLCOVLineBudgetCountsLinesHeldNotRecords(t *testing.T) {
	// 9 paths whose 12 records each name the same lines: the merged
	// lines fit the budget though the records' lines add up to 12 times
	// more.
	data := perTestLCOV(7, 9, 12)
	want := referenceLCOV(t, data)
	for _, seekable := range []bool{true, false} {
		var r io.Reader = bytes.NewReader(data)
		if !seekable {
			r = struct{ io.Reader }{r}
		}
		if _, err := ParseWith(r, LCOV, Limits{MaxLines: want.LinesFound}, nil); err != nil {
			t.Errorf("seekable %v: %v", seekable, err)
		}
		r = bytes.NewReader(data)
		if !seekable {
			r = struct{ io.Reader }{r}
		}
		if _, err := ParseWith(r, LCOV, Limits{MaxLines: want.LinesFound - 1}, nil); err == nil {
			t.Errorf("seekable %v: one line over the budget was accepted", seekable)
		}
	}
}

func TestLCOVEmitsEachRecordAsItSaidIt(t *testing.T) {
	in := "SF:a.c\nFN:1,f\nFN:5,g\nFNDA:2,f\nDA:5,1\nDA:2,0\nDA:5,2\nBRDA:5,0,0,1\nBRDA:5,0,1,-\nBRDA:5,0,0,1\nend_of_record\n" +
		"SF:a.c\nFN:1,f\nFNDA:0,f\nDA:2,4\nend_of_record\n"
	var files []*File
	if _, err := Parse(struct{ io.Reader }{bytes.NewReader([]byte(in))}, LCOV, func(f *File) error {
		files = append(files, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("emitted %d files, want 2", len(files))
	}
	got := fmt.Sprintf("%+v %d/%d %d/%d | %+v %d/%d %d/%d",
		files[0].Lines, files[0].BranchesHit, files[0].BranchesFound, files[0].FunctionsHit, files[0].FunctionsFound,
		files[1].Lines, files[1].BranchesHit, files[1].BranchesFound, files[1].FunctionsHit, files[1].FunctionsFound)
	want := "[{Number:2 Hits:0 BranchesFound:0 BranchesHit:0} {Number:5 Hits:3 BranchesFound:2 BranchesHit:1}] 1/2 1/2 | " +
		"[{Number:2 Hits:4 BranchesFound:0 BranchesHit:0}] 0/0 0/1"
	if got != want {
		t.Errorf("files:\n got %s\nwant %s", got, want)
	}
}

func TestLCOVFarLineNumbersStaySparse(t *testing.T) {
	in := "SF:a.c\nDA:1,1\nDA:2000000000,1\nDA:1500000000,0\nDA:2000000000,1\nend_of_record\nSF:a.c\nDA:1500000000,3\nend_of_record\n"
	tot, err := Parse(bytes.NewReader([]byte(in)), LCOV, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot.LinesFound != 3 || tot.LinesHit != 3 {
		t.Errorf("lines %d/%d, want 3/3", tot.LinesHit, tot.LinesFound)
	}
	rep, _, err := Collect(bytes.NewReader([]byte(in)), LCOV)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := rep.Files["a.c"].Line(1500000000); !ok || l.Hits != 3 {
		t.Errorf("line 1500000000 = %+v, want 3 hits", l)
	}
}

func TestLCOVRecordWithFarLinesThenNearOnesKeepsEachLineOnce(t *testing.T) {
	// Line 70000 is far for a record of one line, then near once the
	// record has thousands.
	var b bytes.Buffer
	b.WriteString("SF:a.c\nDA:70000,1\n")
	for l := 1; l <= 5000; l++ {
		fmt.Fprintf(&b, "DA:%d,1\n", l)
	}
	b.WriteString("DA:70000,2\nDA:69000,1\nDA:70000,4\nend_of_record\n")
	rep, tot, err := Collect(&b, LCOV)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Files["a.c"]
	if tot.LinesFound != 5002 || len(f.Lines) != 5002 {
		t.Fatalf("lines found %d, emitted %d; want 5002", tot.LinesFound, len(f.Lines))
	}
	if l, _ := f.Line(70000); l.Hits != 7 {
		t.Errorf("line 70000 hits %d, want 7", l.Hits)
	}
}
