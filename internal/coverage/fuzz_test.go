package coverage

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the golden reports whose names match pattern as seeds.
func addSeeds(f *testing.F, pattern string, extra ...string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// fuzzParse checks what must hold for any input: no panic, an error
// comes with zero totals, and a success gives sorted, unique lines and
// (where we count them ourselves) hit counts within found counts.
func fuzzParse(t *testing.T, data []byte, format Format, countsOwnTotals bool) {
	var files []*File
	tot, err := Parse(bytes.NewReader(data), format, func(f *File) error {
		files = append(files, f)
		return nil
	})
	if err != nil {
		if tot != (Totals{}) {
			t.Fatalf("error %v with totals %+v", err, tot)
		}
		return
	}
	for _, f := range files {
		for i := 1; i < len(f.Lines); i++ {
			if f.Lines[i-1].Number >= f.Lines[i].Number {
				t.Fatalf("%s: lines not sorted and unique: %d then %d", f.Path, f.Lines[i-1].Number, f.Lines[i].Number)
			}
		}
		for _, l := range f.Lines {
			if l.Number <= 0 || l.Hits < 0 || l.BranchesHit > l.BranchesFound || l.BranchesHit < 0 {
				t.Fatalf("%s: bad line %+v", f.Path, l)
			}
		}
	}
	if countsOwnTotals && (tot.LinesHit > tot.LinesFound || tot.BranchesHit > tot.BranchesFound || tot.StatementsHit > tot.StatementsFound || tot.LinesHit < 0) {
		t.Fatalf("hit exceeds found: %+v", tot)
	}
}

func FuzzLCOV(f *testing.F) {
	addSeeds(f, "*/*.info", "SF:a\nDA:1,1\nBRDA:1,e0,x,y,-\nFNL:0,1\nFNA:0,1,f\nend_of_record\nSF:a\nDA:1,0\n")
	addSeeds(f, "*/*.lcov")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, LCOV, true)
		// Reading twice (seekable) and digesting every path (a stream)
		// must agree.
		a, errA := Parse(bytes.NewReader(data), LCOV, nil)
		b, errB := Parse(struct{ io.Reader }{bytes.NewReader(data)}, LCOV, nil)
		if (errA == nil) != (errB == nil) || a != b {
			t.Fatalf("seekable %+v, %v; stream %+v, %v", a, errA, b, errB)
		}
		// Nor may switching to record by record (digests over budget)
		// and reading the repeated paths again change anything.
		reopen := func() (*bufio.Reader, error) { return bufio.NewReader(bytes.NewReader(data)), nil }
		c, errC := parseLCOVTwice(bufio.NewReader(bytes.NewReader(data)), Limits{}, 1, nil, reopen)
		c.setPercent()
		if (errA == nil) != (errC == nil) || errA == nil && a != c {
			t.Fatalf("one pass %+v, %v; record by record %+v, %v", a, errA, c, errC)
		}
	})
}

func FuzzGo(f *testing.F) {
	addSeeds(f, "go/*.out", "mode: set\na.go:1.1,1.2 1 1\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, Go, true)
		// Reading in parts, when it accepts the input, must agree with
		// reading in order.
		want, err := Parse(struct{ io.Reader }{bytes.NewReader(data)}, Go, nil)
		got, ok, perr := parseGoParallel(bytes.NewReader(data), 0, int64(len(data)), 3, 0, DefaultLimits(), func(*File) error { return nil })
		if !ok {
			return
		}
		if perr == nil {
			got.setPercent()
		}
		if (err == nil) != (perr == nil) || (err == nil && got != want) {
			t.Fatalf("in parts %+v, %v; in order %+v, %v", got, perr, want, err)
		}
	})
}

func FuzzCobertura(f *testing.F) {
	addSeeds(f, "*/*cobertura*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, Cobertura, false) })
}

func FuzzJaCoCo(f *testing.F) {
	addSeeds(f, "jacoco/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, JaCoCo, false) })
}

func FuzzClover(f *testing.F) {
	addSeeds(f, "*/clover.xml")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, Clover, false) })
}

func FuzzIstanbul(f *testing.F) {
	addSeeds(f, "*/coverage-final.json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, Istanbul, true) })
}

// FuzzDetect feeds any bytes through detection and whichever parser it
// picks, gzip included.
func FuzzDetect(f *testing.F) {
	addSeeds(f, "*/*.*", "\x1f\x8b\x08\x00")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "", false) })
}

func FuzzAddedLines(f *testing.F) {
	f.Add("@@ -1,4 +1,5 @@\n package a\n-old\n+new1\n+new2\n ctx\n\\ No newline at end of file")
	f.Add("@@ -0,0 +1 @@\n+x")
	f.Fuzz(func(t *testing.T, patch string) {
		lines, err := AddedLines(patch)
		if err != nil {
			return
		}
		for i := 1; i < len(lines); i++ {
			if lines[i] <= lines[i-1] && lines[i] != 0 {
				// Hunks may restart numbering only through a new header,
				// which moves forward in any real diff; just never panic.
				break
			}
		}
	})
}
