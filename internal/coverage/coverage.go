// Package coverage parses code-coverage reports and does the arithmetic
// PatchPanda needs on them: totals, merging sessions, comparing a commit with
// its base, patch coverage of a pull request's changed lines, and mapping
// report paths to repository paths.
//
// Everything here is pure: the parsers read an io.Reader and call back once
// per file, so memory grows with one file's lines rather than with the whole
// report (see docs/coverage.md for the exceptions and why).
package coverage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
)

// Format names a report format.
type Format string

// The report formats this package reads.
const (
	LCOV      Format = "lcov"
	Cobertura Format = "cobertura"
	JaCoCo    Format = "jacoco"
	Clover    Format = "clover"
	Go        Format = "go"
	Istanbul  Format = "istanbul"
)

// Formats returns every format, in the order they are documented.
func Formats() []Format { return []Format{LCOV, Cobertura, JaCoCo, Clover, Go, Istanbul} }

// ParseFormat returns the Format named s (case-sensitive, as in Formats), or
// an error naming the known formats when s is not one of them.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("coverage: unknown format %q (want one of lcov, cobertura, jacoco, clover, go, istanbul)", s)
}

// Line is the coverage of one source line.
type Line struct {
	Number int   `json:"line"`
	Hits   int64 `json:"hits"`
	// BranchesFound and BranchesHit count the branch arms that start on
	// this line; both are 0 for a line without branches.
	BranchesFound int `json:"branches_found,omitempty"`
	BranchesHit   int `json:"branches_hit,omitempty"`
}

// Covered reports whether the line ran and every branch arm on it was
// taken: a partly covered branch line is not covered.
func (l Line) Covered() bool { return l.Hits > 0 && l.BranchesHit >= l.BranchesFound }

// Partial reports whether the line ran but some branch arm on it was not
// taken.
func (l Line) Partial() bool { return l.Hits > 0 && l.BranchesHit < l.BranchesFound }

// File is the coverage of one source file as a report gives it.
type File struct {
	// Path is the file's path as the report writes it (see Mapper to turn
	// it into a repository path).
	Path string `json:"path"`
	// Lines holds the coverable lines, sorted by Number, each once.
	Lines []Line `json:"lines"`
	// BranchesFound and BranchesHit are the file's branch totals. They
	// include arms the format places on no coverable line, so they can
	// exceed the sum over Lines.
	BranchesFound int64 `json:"branches_found"`
	BranchesHit   int64 `json:"branches_hit"`
	// StatementsFound and StatementsHit are set by the formats that count
	// statements (Go, Clover, Istanbul).
	StatementsFound int64 `json:"statements_found,omitempty"`
	StatementsHit   int64 `json:"statements_hit,omitempty"`
	// FunctionsFound and FunctionsHit are set by the formats that count
	// functions.
	FunctionsFound int64 `json:"functions_found,omitempty"`
	FunctionsHit   int64 `json:"functions_hit,omitempty"`
}

// LinesFound returns the number of coverable lines.
func (f *File) LinesFound() int64 { return int64(len(f.Lines)) }

// LinesHit returns the number of lines that ran at least once.
func (f *File) LinesHit() int64 {
	var n int64
	for _, l := range f.Lines {
		if l.Hits > 0 {
			n++
		}
	}
	return n
}

// Line returns the record for line number n and whether there is one.
func (f *File) Line(n int) (Line, bool) {
	i := sort.Search(len(f.Lines), func(i int) bool { return f.Lines[i].Number >= n })
	if i < len(f.Lines) && f.Lines[i].Number == n {
		return f.Lines[i], true
	}
	return Line{}, false
}

// Totals is the summary of a report or of a set of files. Its JSON form is
// what `ppctl coverage summary --json` prints.
type Totals struct {
	Files           int64   `json:"files"`
	LinesFound      int64   `json:"lines_found"`
	LinesHit        int64   `json:"lines_hit"`
	BranchesFound   int64   `json:"branches_found"`
	BranchesHit     int64   `json:"branches_hit"`
	StatementsFound int64   `json:"statements_found,omitempty"`
	StatementsHit   int64   `json:"statements_hit,omitempty"`
	FunctionsFound  int64   `json:"functions_found,omitempty"`
	FunctionsHit    int64   `json:"functions_hit,omitempty"`
	Percent         float64 `json:"percent"`
	// Statements says Percent is statements_hit/statements_found rather
	// than lines_hit/lines_found. It is not part of the JSON form.
	Statements bool `json:"-"`
}

// Add returns the sum of t and u, with Percent recomputed. It is meant for
// totals over disjoint sets of files (such as several reports summarised
// together); overlapping files are counted twice.
func (t Totals) Add(u Totals) Totals {
	s := Totals{
		Files:           t.Files + u.Files,
		LinesFound:      t.LinesFound + u.LinesFound,
		LinesHit:        t.LinesHit + u.LinesHit,
		BranchesFound:   t.BranchesFound + u.BranchesFound,
		BranchesHit:     t.BranchesHit + u.BranchesHit,
		StatementsFound: t.StatementsFound + u.StatementsFound,
		StatementsHit:   t.StatementsHit + u.StatementsHit,
		FunctionsFound:  t.FunctionsFound + u.FunctionsFound,
		FunctionsHit:    t.FunctionsHit + u.FunctionsHit,
		Statements:      t.Statements && (u.Statements || u.Files == 0) || u.Statements && t.Files == 0,
	}
	s.setPercent()
	return s
}

func (t *Totals) setPercent() {
	if t.Statements {
		t.Percent = percent(t.StatementsHit, t.StatementsFound)
	} else {
		t.Percent = percent(t.LinesHit, t.LinesFound)
	}
}

// percent returns 100*hit/found rounded to 1e-9 (so that JSON shows no
// binary noise), and 0 when nothing was found.
func percent(hit, found int64) float64 {
	if found <= 0 {
		return 0
	}
	return math.Round(float64(hit)*100/float64(found)*1e9) / 1e9
}

// ParseError is a malformed report. Its message names the format, the place
// (a line number, or an XML element and its line) and what was wrong, and
// is safe to show to the user who uploaded the report.
type ParseError struct {
	Format  Format
	Line    int    // 1-based line of the input, 0 when unknown
	Element string // the XML element or JSON key, when there is one
	Msg     string
}

// Error returns the message, e.g. "coverage: lcov: line 12: DA: hit count "x" is not a number".
func (e *ParseError) Error() string {
	var b bytes.Buffer
	b.WriteString("coverage: ")
	b.WriteString(string(e.Format))
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Element != "" {
		fmt.Fprintf(&b, ": <%s>", e.Element)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrUnknownFormat is returned (wrapped) by Detect and Parse when the
// content matches no known format.
var ErrUnknownFormat = errors.New("coverage: unknown report format")

// peekSize is how much of a report Detect needs to see.
const peekSize = 8 << 10

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// Detect returns the format of a report from its first bytes (up to 8 KiB
// are looked at; gzip must already be undone). It returns an error wrapping
// ErrUnknownFormat when the bytes match no format.
func Detect(peek []byte) (Format, error) {
	p := bytes.TrimPrefix(peek, []byte("\xef\xbb\xbf"))
	p = bytes.TrimLeft(p, " \t\r\n")
	if len(p) > peekSize {
		p = p[:peekSize]
	}
	switch {
	case bytes.HasPrefix(p, gzipMagic):
		return "", fmt.Errorf("%w: gzip data must be decompressed first", ErrUnknownFormat)
	case bytes.HasPrefix(p, []byte("mode:")):
		return Go, nil
	case bytes.HasPrefix(p, []byte("{")):
		return Istanbul, nil
	case bytes.HasPrefix(p, []byte("<")):
		return detectXML(p)
	}
	// LCOV: the first record line is one of the known keys.
	line := p
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	for _, k := range []string{"TN:", "SF:", "VER:"} {
		if bytes.HasPrefix(line, []byte(k)) {
			return LCOV, nil
		}
	}
	return "", fmt.Errorf("%w: the content is not LCOV, Cobertura, JaCoCo, Clover, Go or Istanbul", ErrUnknownFormat)
}

func detectXML(p []byte) (Format, error) {
	// Find the root element: skip the declaration, comments and doctype.
	rest := p
	for {
		i := bytes.IndexByte(rest, '<')
		if i < 0 || i+1 >= len(rest) {
			break
		}
		rest = rest[i+1:]
		if rest[0] == '?' || rest[0] == '!' {
			if bytes.HasPrefix(rest, []byte("!DOCTYPE report")) {
				return JaCoCo, nil
			}
			continue
		}
		switch {
		case bytes.HasPrefix(rest, []byte("report")):
			return JaCoCo, nil
		case bytes.HasPrefix(rest, []byte("coverage")):
			end := bytes.IndexByte(rest, '>')
			head := rest
			if end >= 0 {
				head = rest[:end]
			}
			if bytes.Contains(head, []byte("clover=")) || bytes.Contains(p, []byte("<project")) {
				return Clover, nil
			}
			return Cobertura, nil
		}
		return "", fmt.Errorf("%w: XML root element is not <coverage> or <report>", ErrUnknownFormat)
	}
	return "", fmt.Errorf("%w: no XML root element in the first %d bytes", ErrUnknownFormat, peekSize)
}

// maxLine bounds the length of one line of a line-oriented report.
const maxLine = 16 << 20

// Parse reads one report from r and calls emit with each file as soon as the
// file is complete. Gzip is undone transparently; an empty format means
// "detect from content". emit may be nil when only the totals are wanted;
// the *File is the caller's to keep.
//
// LCOV and Go profiles may name a file more than once (records repeated per
// test, blocks repeated per -coverpkg package): for LCOV each record is
// emitted as it ends and the same path can come again; the returned Totals
// always merge per file and line first, as the format's own tool does. Use
// Collect for a report merged per file.
//
// When r is also an io.ReadSeeker (an *os.File), Parse may read it twice
// (a large LCOV report whose per-path digests outgrow their budget, with
// repeated paths) or in parallel parts (a large Go profile, when r is an
// io.ReaderAt too); that keeps memory small and is invisible to the caller
// except that r is left at an unspecified offset.
//
// On failure Parse returns a *ParseError, a *LimitError, or an error from
// r or emit, wrapped, and zero Totals; files already emitted must then be
// discarded.
//
// Parse applies DefaultLimits; see ParseWith.
func Parse(r io.Reader, format Format, emit func(*File) error) (Totals, error) {
	return ParseWith(r, format, DefaultLimits(), emit)
}

// ParseWith is Parse with the given budget: when the report exceeds lim it
// returns a *LimitError (see Limits for what is counted, and when).
func ParseWith(r io.Reader, format Format, lim Limits, emit func(*File) error) (Totals, error) {
	// A report that can be read twice lets LCOV totals merge repeated
	// records without a digest of every file (see lcovSum).
	var reopen func() (*bufio.Reader, error)
	var pos int64
	rs, seekable := r.(io.ReadSeeker)
	if seekable {
		var err error
		if pos, err = rs.Seek(0, io.SeekCurrent); err != nil {
			seekable = false
		} else {
			reopen = func() (*bufio.Reader, error) {
				if _, err := rs.Seek(pos, io.SeekStart); err != nil {
					return nil, fmt.Errorf("coverage: seek: %w", err)
				}
				br, _, err := open(rs)
				return br, err
			}
		}
	}
	br, gz, err := open(r)
	if err != nil {
		return Totals{}, err
	}
	if format == "" {
		peek, perr := br.Peek(peekSize)
		if perr != nil && !errors.Is(perr, io.EOF) && !errors.Is(perr, bufio.ErrBufferFull) {
			return Totals{}, fmt.Errorf("coverage: read: %w", perr)
		}
		if format, err = Detect(peek); err != nil {
			return Totals{}, err
		}
	}
	var t Totals
	if format == LCOV {
		// The LCOV parser builds no File when none is wanted.
		t, err = parseLCOVTwice(br, lim, lcovDigestBudget, emit, reopen)
		if err != nil {
			return Totals{}, limitFirst(err)
		}
		t.setPercent()
		return t, nil
	}
	if emit == nil {
		emit = func(*File) error { return nil }
	}
	switch format {
	case Go:
		// A large profile on disk is read in parts, one per CPU.
		ra, isRA := r.(io.ReaderAt)
		done := false
		if isRA && seekable && !gz {
			if end, serr := rs.Seek(0, io.SeekEnd); serr == nil {
				t, done, err = parseGoParallel(ra, pos, end-pos, min(runtime.GOMAXPROCS(0), 4), 8<<20, lim, emit)
				if !done {
					if br, err = reopen(); err != nil {
						return Totals{}, err
					}
				}
			} else if br, err = reopen(); err != nil {
				return Totals{}, err
			}
		}
		if !done {
			t, err = parseGo(br, newBudget(lim), emit)
		}
	case Cobertura:
		t, err = parseCobertura(br, newBudget(lim), emit)
	case JaCoCo:
		t, err = parseJaCoCo(br, newBudget(lim), emit)
	case Clover:
		t, err = parseClover(br, newBudget(lim), emit)
	case Istanbul:
		t, err = parseIstanbul(br, newBudget(lim), emit)
	default:
		_, err = ParseFormat(string(format))
	}
	if err != nil {
		return Totals{}, limitFirst(err)
	}
	t.setPercent()
	return t, nil
}

// limitFirst returns the *LimitError in err's chain, unwrapped, so that
// its message is the same whichever parser or callback met the limit.
func limitFirst(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	return err
}

// parseLCOVTwice reads LCOV in one pass when it can keep a digest of
// every path in memory, which is the usual case (a few thousand files,
// however many records). A report that can be read again (reopen != nil)
// and whose digests outgrow their budget is read on record by record,
// each record's totals added up and its path counted; only if some path
// had several records is it read a second time (emitting nothing),
// merging exactly the repeated paths.
//
// digestBytes is the digests' budget (lcovDigestBudget but in tests).
func parseLCOVTwice(br *bufio.Reader, lim Limits, digestBytes int64, emit func(*File) error, reopen func() (*bufio.Reader, error)) (Totals, error) {
	ps := newLCOVParser(br, newBudget(lim), emit)
	ps.switchable = reopen != nil
	ps.digestBytes = digestBytes
	if err := ps.run(); err != nil {
		return Totals{}, err
	}
	if !ps.switched || !ps.repeats() {
		return ps.totals(), nil
	}
	br2, err := reopen()
	if err != nil {
		return Totals{}, err
	}
	again := newLCOVParser(br2, newBudget(lim), nil)
	again.repeated = ps.counts
	if err := again.run(); err != nil {
		return Totals{}, err
	}
	return again.totals(), nil
}

// open returns a buffered reader over r, decompressing gzip when the data
// starts with gzip's magic bytes (and then reporting gz). Concatenated gzip
// members are read as one.
func open(r io.Reader) (br *bufio.Reader, gz bool, err error) {
	br = bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("coverage: read: %w", err)
	}
	if !bytes.Equal(magic, gzipMagic) {
		return br, false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, true, fmt.Errorf("coverage: gzip: %w", err)
	}
	return bufio.NewReaderSize(zr, 256<<10), true, nil
}

// Report is a whole report (or a merge of several) held in memory, one
// File per path.
type Report struct {
	Files map[string]*File
}

// Collect parses a report like Parse and returns it merged per file (lines
// of a path named more than once are merged as Merge does within one
// session: hits add up). It returns nil and the error when the report is
// malformed. Collect applies DefaultLimits; see CollectWith.
func Collect(r io.Reader, format Format) (*Report, Totals, error) {
	return CollectWith(r, format, DefaultLimits())
}

// CollectWith is Collect with the given budget (see ParseWith). The lines
// of the merged report count against lim.MaxLines too, so that a report
// read record by record (see Parse) cannot build more than its budget.
func CollectWith(r io.Reader, format Format, lim Limits) (*Report, Totals, error) {
	rep := &Report{Files: map[string]*File{}}
	var lines int64
	t, err := ParseWith(r, format, lim, func(f *File) error {
		old, ok := rep.Files[f.Path]
		if ok {
			f = mergeFiles(old, f)
			lines -= int64(len(old.Lines))
		}
		lines += int64(len(f.Lines))
		if lim.MaxLines > 0 && lines > lim.MaxLines {
			return &LimitError{Limit: "lines", Max: lim.MaxLines}
		}
		rep.Files[f.Path] = f
		return nil
	})
	if err != nil {
		return nil, Totals{}, err
	}
	return rep, t, nil
}
