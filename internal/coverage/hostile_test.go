package coverage

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapObjects returns the bytes of heap objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeapGrowth runs f and returns how far the heap grew above where it
// was before, sampled every millisecond (a generous view: garbage not yet
// collected counts too).
func peakHeapGrowth(f func()) uint64 {
	runtime.GC()
	base := heapObjects()
	var peak uint64
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapObjects())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	peak = max(peak, heapObjects())
	if peak < base {
		return 0
	}
	return peak - base
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// oneLineLCOV returns a gzip stream (concatenated members, as gzip
// allows) that expands to one LCOV record of about size bytes, all of it
// DA records for line 1: 1 GiB takes about 1.5 MB.
func oneLineLCOV(t *testing.T, size int) []byte {
	chunk := gzipBytes(t, bytes.Repeat([]byte("DA:1,1\n"), (1<<20)/7))
	out := gzipBytes(t, []byte("TN:\nSF:/src/one.c\n"))
	for n := 0; n < size; n += (1 << 20) / 7 * 7 {
		out = append(out, chunk...)
	}
	return append(out, gzipBytes(t, []byte("end_of_record\n"))...)
}

// The hostile inputs of issue 9, each answered with a clear error or read
// in bounded memory. The bound is generous; what matters is that it does
// not grow with the input.
func TestHostileReportsGetAnErrorOrABoundedRun(t *testing.T) {
	size := 1 << 30
	if testing.Short() {
		size = 64 << 20
	}
	var goProfile strings.Builder
	goProfile.WriteString("mode: set\n")
	for i := range 20 {
		fmt.Fprintf(&goProfile, "g%d.go:1.1,1000000.2 1 1\n", i)
	}
	nested := gzipBytes(t, []byte(`<?xml version="1.0"?><coverage>`+strings.Repeat("<a>", 3_000_000)))
	lcov := oneLineLCOV(t, size)
	small := oneLineLCOV(t, min(size, 128<<20))
	tests := []struct {
		name    string
		input   []byte
		collect bool
		limit   string // "" for a bounded run that succeeds
		check   func(t *testing.T, tot Totals)
	}{
		{"781-byte Go profile of 20 blocks of a million lines", []byte(goProfile.String()), true, "lines", nil},
		{fmt.Sprintf("%d KB gzipped Cobertura of 3M nested elements", len(nested)>>10), nested, true, "depth", nil},
		{fmt.Sprintf("%.1f MB gzip of %d MiB of DA records for one line, summed", float64(len(lcov))/1e6, size>>20), lcov, false, "",
			func(t *testing.T, tot Totals) {
				if tot.Files != 1 || tot.LinesFound != 1 || tot.LinesHit != 1 {
					t.Errorf("totals %+v, want one file with one line, hit", tot)
				}
			}},
		{fmt.Sprintf("%.1f MB gzip of %d MiB of DA records for one line, collected", float64(len(small))/1e6, min(size, 128<<20)>>20), small, true, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tot Totals
			var err error
			// A stream, as an upload's body is: it cannot be read twice.
			r := struct{ io.Reader }{bytes.NewReader(tt.input)}
			grew := peakHeapGrowth(func() {
				if tt.collect {
					_, tot, err = Collect(r, "")
				} else {
					tot, err = Parse(r, "", nil)
				}
			})
			t.Logf("heap grew by at most %.1f MiB; error: %v", float64(grew)/(1<<20), err)
			if tt.limit == "" && err != nil {
				t.Fatalf("error %v, want a bounded run", err)
			}
			var le *LimitError
			if tt.limit != "" && (!errors.As(err, &le) || le.Limit != tt.limit) {
				t.Fatalf("error %v, want the %s limit", err, tt.limit)
			}
			if grew > 64<<20 {
				t.Errorf("heap grew by %d MiB, want a bounded working set (under 64 MiB)", grew>>20)
			}
			if tt.check != nil {
				tt.check(t, tot)
			}
		})
	}
}
