package coverage

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// genReport returns a report of about size bytes in the given format, in
// the shapes coveragebench writes (fewer of them).
func genReport(format Format, size int) []byte {
	var b bytes.Buffer
	switch format {
	case LCOV:
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "TN:\nSF:/src/m%d/f%d.c\n", i/50, i)
			for f := 0; f < 20; f++ {
				fmt.Fprintf(&b, "FN:%d,fn_%d_%d\nFNDA:%d,fn_%d_%d\n", 1+f*25, i, f, f%3, i, f)
			}
			for l := 1; l <= 500; l++ {
				if l%5 == 1 || l%5 == 3 {
					continue
				}
				fmt.Fprintf(&b, "DA:%d,%d\n", l, (l*7+i)%4)
				if l%10 == 0 {
					fmt.Fprintf(&b, "BRDA:%d,0,0,%d\nBRDA:%d,0,1,-\n", l, l%3, l)
				}
			}
			b.WriteString("end_of_record\n")
		}
	case Go:
		b.WriteString("mode: count\n")
		for b.Len() < size {
			for f := 0; f < 50; f++ {
				for l := 3; l < 1000; l += 3 {
					fmt.Fprintf(&b, "example.com/big/p%d/f.go:%d.13,%d.3 1 %d\n", f, l, l+2, l%5)
				}
			}
		}
	case Cobertura:
		b.WriteString(`<coverage lines-valid="1" lines-covered="1"><packages><package><classes>`)
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "<class filename=\"f%d.py\"><lines>\n", i)
			for l := 1; l <= 300; l++ {
				fmt.Fprintf(&b, "<line number=\"%d\" hits=\"%d\"/>\n", l, l%3)
			}
			b.WriteString("</lines></class>\n")
		}
		b.WriteString("</classes></package></packages></coverage>\n")
	case JaCoCo:
		b.WriteString(`<report name="big">`)
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "<package name=\"p%d\"><sourcefile name=\"F%d.java\">\n", i/50, i)
			for l := 1; l <= 300; l++ {
				fmt.Fprintf(&b, "<line nr=\"%d\" mi=\"%d\" ci=\"%d\" mb=\"%d\" cb=\"%d\"/>\n", l, l%2, l%3, (l%10)/9*2, (l%10)/9)
			}
			b.WriteString(`<counter type="LINE" missed="100" covered="200"/><counter type="METHOD" missed="1" covered="9"/></sourcefile></package>` + "\n")
		}
		b.WriteString(`<counter type="LINE" missed="1" covered="2"/><counter type="BRANCH" missed="1" covered="1"/></report>` + "\n")
	case Clover:
		b.WriteString(`<coverage generated="1"><project timestamp="1"><metrics statements="1" coveredstatements="1"/>`)
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "<file name=\"f%d.php\" path=\"/src/f%d.php\"><metrics statements=\"300\"/>\n", i, i)
			for l := 1; l <= 300; l++ {
				switch l % 10 {
				case 0:
					fmt.Fprintf(&b, "<line num=\"%d\" type=\"method\" count=\"%d\"/>\n", l, l%3)
				case 5:
					fmt.Fprintf(&b, "<line num=\"%d\" type=\"cond\" count=\"%d\" truecount=\"%d\" falsecount=\"0\"/>\n", l, l%3, l%2)
				default:
					fmt.Fprintf(&b, "<line num=\"%d\" type=\"stmt\" count=\"%d\"/>\n", l, l%3)
				}
			}
			b.WriteString("</file>\n")
		}
		b.WriteString("</project></coverage>\n")
	case Istanbul:
		b.WriteString("{")
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "\"f%d.js\":{\"path\":\"f%d.js\",\"statementMap\":{", i, i)
			for s := 0; s < 300; s++ {
				if s > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "\"%d\":{\"start\":{\"line\":%d,\"column\":0},\"end\":{\"line\":%d,\"column\":9}}", s, s+1, s+1)
			}
			b.WriteString("},\"s\":{")
			for s := 0; s < 300; s++ {
				if s > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "\"%d\":%d", s, s%3)
			}
			b.WriteString("},\"fnMap\":{},\"f\":{},\"branchMap\":{},\"b\":{}}\n")
		}
		b.WriteString("}")
	}
	return b.Bytes()
}

func benchParse(b *testing.B, format Format) {
	data := genReport(format, 16<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if _, err := Parse(bytes.NewReader(data), format, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// cpuTime returns the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a shared
// machine it varies far less than wall time (the garbage collector's
// work on the other core counts too).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkParseLCOV(b *testing.B)      { benchParse(b, LCOV) }
func BenchmarkParseGo(b *testing.B)        { benchParse(b, Go) }
func BenchmarkParseCobertura(b *testing.B) { benchParse(b, Cobertura) }
func BenchmarkParseIstanbul(b *testing.B)  { benchParse(b, Istanbul) }
func BenchmarkParseJaCoCo(b *testing.B)    { benchParse(b, JaCoCo) }
func BenchmarkParseClover(b *testing.B)    { benchParse(b, Clover) }

// BenchmarkParseLCOVRealC parses a real per-test tracefile (jq's test
// suite, one lcov --capture per test, concatenated), made by
// testdata/realc/make-tracefile.sh, which is not committed.
func BenchmarkParseLCOVRealC(b *testing.B) {
	const path = "testdata/realc/jq.info"
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("%s is absent: make it with sh testdata/realc/make-tracefile.sh %s (needs gcc, lcov and apt-get source)", path, path)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if _, err := Parse(bytes.NewReader(data), LCOV, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}
