package coverage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// lineReader yields the lines of a line-oriented report without copying
// them, except for lines longer than the bufio buffer.
type lineReader struct {
	r    *bufio.Reader
	n    int // number of the line last returned
	long []byte
	f    Format
}

// next returns the next line without its end-of-line bytes, or io.EOF.
// The slice is valid until the following call.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			lr.long = append(lr.long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = lr.r.ReadSlice('\n')
				lr.long = append(lr.long, line...)
				if len(lr.long) > maxLine {
					return nil, &ParseError{Format: lr.f, Line: lr.n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
				}
			}
			line = lr.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("coverage: %s: read: %w", lr.f, err)
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
	}
	lr.n++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// lcovRecord is the file an LCOV record is describing.
type lcovRecord struct {
	path  string
	lines []Line
	arms  []arm
	fns   map[string]int64 // function identity -> hits
	fnl   map[string]int   // LCOV 2.x FNL index -> line
	open  bool
}

func (r *lcovRecord) reset(path string) {
	r.path = path
	r.lines = r.lines[:0]
	r.arms = r.arms[:0]
	clear(r.fns)
	clear(r.fnl)
	r.open = true
}

// parseLCOV reads LCOV tracefiles, 1.x and 2.x. LF/LH, BRF/BRH and FNF/FNH
// are ignored and recomputed from the records, as lcov itself does.
func parseLCOV(br *bufio.Reader, bud *budget, emit func(*File) error, ta *lcovSum) (Totals, error) {
	lr := &lineReader{r: br, f: LCOV}
	rec := &lcovRecord{fns: map[string]int64{}, fnl: map[string]int{}}
	bad := func(format string, args ...any) error {
		return &ParseError{Format: LCOV, Line: lr.n, Msg: fmt.Sprintf(format, args...)}
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Totals{}, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if string(line) == "end_of_record" {
			if !rec.open {
				return Totals{}, bad("end_of_record without SF")
			}
			if err := finishLCOV(rec, ta, emit); err != nil {
				return Totals{}, err
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return Totals{}, bad("%q is not an LCOV record (want KEY:VALUE or end_of_record)", clip(line))
		}
		key, val := line[:colon], line[colon+1:]
		switch string(key) {
		case "TN", "VER", "LF", "LH", "BRF", "BRH", "FNF", "FNH", "MSF", "MLF":
			// Recomputed from the records, or carrying nothing we use.
			continue
		case "SF":
			if rec.open {
				// A record without end_of_record: the next SF ends it,
				// as lcov does.
				if err := finishLCOV(rec, ta, emit); err != nil {
					return Totals{}, err
				}
			}
			if len(val) == 0 {
				return Totals{}, bad("SF: empty file name")
			}
			rec.reset(string(val))
			if err := bud.file(rec.path); err != nil {
				return Totals{}, err
			}
			continue
		}
		if !rec.open {
			switch string(key) {
			case "DA", "BRDA", "FN", "FNDA", "FNL", "FNA":
				return Totals{}, bad("%s before SF", key)
			}
			continue
		}
		switch string(key) {
		case "DA":
			// DA:<line>,<hits>[,<checksum>]
			f1, rest, ok := bytes.Cut(val, []byte{','})
			if !ok {
				return Totals{}, bad("DA: want DA:<line>,<hits>, got %q", clip(line))
			}
			f2, _, _ := bytes.Cut(rest, []byte{','})
			n, ok := atoiPos(f1)
			if !ok {
				return Totals{}, bad("DA: line number %q is not a positive integer", clip(f1))
			}
			h, ok := atoiHits(f2)
			if !ok {
				return Totals{}, bad("DA: hit count %q is not a number", clip(f2))
			}
			if err := bud.addLines(1); err != nil {
				return Totals{}, err
			}
			rec.lines = append(rec.lines, Line{Number: n, Hits: h})
		case "BRDA":
			// BRDA:<line>,[e]<block>,<branch>,<taken>; the branch may be
			// an expression containing commas (LCOV 2.x), so the taken
			// count is the last field.
			f1, rest, ok1 := bytes.Cut(val, []byte{','})
			blk, rest, ok2 := bytes.Cut(rest, []byte{','})
			i := bytes.LastIndexByte(rest, ',')
			if !ok1 || !ok2 || i < 0 {
				return Totals{}, bad("BRDA: want BRDA:<line>,<block>,<branch>,<taken>, got %q", clip(line))
			}
			brn, tk := rest[:i], rest[i+1:]
			n, ok := atoiPos(f1)
			if !ok {
				return Totals{}, bad("BRDA: line number %q is not a positive integer", clip(f1))
			}
			a := arm{line: n}
			if string(tk) == "-" {
				a.dash = true
			} else if a.taken, ok = atoiHits(tk); !ok {
				return Totals{}, bad("BRDA: taken count %q is not a number or -", clip(tk))
			}
			b1, ok1 := atoiSmall(blk)
			b2, ok2 := atoiSmall(brn)
			if ok1 && ok2 {
				a.block, a.branch = b1, b2
			} else {
				a.name = string(blk) + "," + string(brn)
			}
			rec.arms = append(rec.arms, a)
		case "FN":
			// FN:<line>,[<end line>,]<name>
			f1, rest, ok := bytes.Cut(val, []byte{','})
			if _, okn := atoiPos(f1); !ok || !okn || len(rest) == 0 {
				return Totals{}, bad("FN: want FN:<line>,<name>, got %q", clip(line))
			}
			if f2, name, ok := bytes.Cut(rest, []byte{','}); ok && len(name) > 0 {
				if _, isNum := atoiPos(f2); isNum {
					rest = name
				}
			}
			if _, ok := rec.fns[string(rest)]; !ok {
				rec.fns[string(rest)] = 0
			}
		case "FNDA":
			// FNDA:<hits>,<name>
			f1, name, ok := bytes.Cut(val, []byte{','})
			if !ok || len(name) == 0 {
				return Totals{}, bad("FNDA: want FNDA:<hits>,<name>, got %q", clip(line))
			}
			h, ok := atoiHits(f1)
			if !ok {
				return Totals{}, bad("FNDA: hit count %q is not a number", clip(f1))
			}
			rec.fns[string(name)] = satAdd(rec.fns[string(name)], h)
		case "FNL":
			// FNL:<index>,<line>[,<end line>] (LCOV 2.2+)
			idx, rest, ok := bytes.Cut(val, []byte{','})
			f2, _, _ := bytes.Cut(rest, []byte{','})
			n, okn := atoiPos(f2)
			if !ok || !okn {
				return Totals{}, bad("FNL: want FNL:<index>,<line>[,<end line>], got %q", clip(line))
			}
			rec.fnl[string(idx)] = n
			key := "\x00" + strconv.Itoa(n)
			if _, ok := rec.fns[key]; !ok {
				rec.fns[key] = 0
			}
		case "FNA":
			// FNA:<index>,<hits>,<alias>: a function is hit when any of
			// its aliases is.
			idx, rest, ok1 := bytes.Cut(val, []byte{','})
			f2, _, ok2 := bytes.Cut(rest, []byte{','})
			if !ok1 || !ok2 {
				return Totals{}, bad("FNA: want FNA:<index>,<hits>,<name>, got %q", clip(line))
			}
			h, ok := atoiHits(f2)
			if !ok {
				return Totals{}, bad("FNA: hit count %q is not a number", clip(f2))
			}
			n, ok := rec.fnl[string(idx)]
			if !ok {
				return Totals{}, bad("FNA: function index %q has no FNL", clip(idx))
			}
			key := "\x00" + strconv.Itoa(n)
			rec.fns[key] = satAdd(rec.fns[key], h)
		default:
			// Unknown keys are skipped, as lcov does, so that newer
			// tracefiles still read.
		}
	}
	if rec.open {
		// A final record without end_of_record is accepted, as lcov does.
		if err := finishLCOV(rec, ta, emit); err != nil {
			return Totals{}, err
		}
	}
	return ta.totals(), nil
}

// lcovSum adds up an LCOV report's totals. Records of the paths that
// exact selects are merged per line, arm and function through a tally's
// digests; the others are simply added, which is exact for a path named
// once. Parse runs a seekable report twice: first adding everything
// simply and counting records per path, then, only when some path
// repeats, again with digests for the repeated paths alone. A report that
// cannot be read twice keeps digests for every path.
type lcovSum struct {
	ta     *tally
	naive  Totals
	counts map[uint64]int32
	exact  func(h uint64) bool
}

func newLCOVSum(exact func(h uint64) bool) *lcovSum {
	return &lcovSum{ta: newTally(), counts: map[uint64]int32{}, exact: exact}
}

func (s *lcovSum) add(path string, lines []Line, arms []arm, fns []uint64) {
	h := fnHash(path)
	s.counts[h]++
	if s.exact(h) {
		s.ta.add(path, lines, arms, fns)
		return
	}
	s.naive.LinesFound += int64(len(lines))
	for _, l := range lines {
		if l.Hits > 0 {
			s.naive.LinesHit++
		}
	}
	s.naive.BranchesFound += int64(len(arms))
	for _, a := range arms {
		if a.taken > 0 {
			s.naive.BranchesHit++
		}
	}
	s.naive.FunctionsFound += int64(len(fns))
	for _, f := range fns {
		s.naive.FunctionsHit += int64(f & 1)
	}
}

// repeats reports whether some path had more than one record.
func (s *lcovSum) repeats() bool {
	for _, n := range s.counts {
		if n > 1 {
			return true
		}
	}
	return false
}

func (s *lcovSum) totals() Totals {
	t := s.ta.t.Add(s.naive)
	t.Files = int64(len(s.counts))
	return t
}

func finishLCOV(rec *lcovRecord, ta *lcovSum, emit func(*File) error) error {
	rec.open = false
	lines := sortUniqueLines(rec.lines)
	rec.lines = lines
	if !slices.IsSortedFunc(rec.arms, armLess) {
		slices.SortStableFunc(rec.arms, armLess)
	}
	arms := rec.arms[:0]
	for _, a := range rec.arms {
		if n := len(arms); n > 0 && armLess(arms[n-1], a) == 0 {
			arms[n-1] = addArm(arms[n-1], a)
			continue
		}
		arms = append(arms, a)
	}
	rec.arms = arms
	fns := make([]uint64, 0, len(rec.fns))
	for name, h := range rec.fns {
		k := fnHash(name)
		if h > 0 {
			k |= 1
		}
		fns = append(fns, k)
	}
	slices.Sort(fns)
	fns = slices.CompactFunc(fns, func(a, b uint64) bool {
		return a&^1 == b&^1
	})
	ta.add(rec.path, lines, arms, fns)

	f := &File{Path: rec.path, Lines: slices.Clone(lines)}
	f.FunctionsFound = int64(len(rec.fns))
	for _, h := range rec.fns {
		if h > 0 {
			f.FunctionsHit++
		}
	}
	j := 0
	for _, a := range arms {
		f.BranchesFound++
		hit := a.taken > 0
		if hit {
			f.BranchesHit++
		}
		for j < len(f.Lines) && f.Lines[j].Number < a.line {
			j++
		}
		if j < len(f.Lines) && f.Lines[j].Number == a.line {
			f.Lines[j].BranchesFound++
			if hit {
				f.Lines[j].BranchesHit++
			}
		}
	}
	if err := emit(f); err != nil {
		return fmt.Errorf("coverage: lcov: %w", err)
	}
	return nil
}

// atoiPos parses a positive decimal int that fits in 31 bits.
func atoiPos(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0 && n < 1<<31
}

// atoiSmall parses a decimal number below 2^31 without sign or leading
// zeros (so that "01" keeps its identity as a name).
func atoiSmall(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return uint32(n), n < 1<<31
}

// atoiHits parses an execution count. Negative counts (which old gcov
// versions wrote after counter overflow) are read as 0; counts beyond
// int64 saturate; a float such as "3.0" is accepted when integral.
func atoiHits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	d := b
	if neg || b[0] == '+' {
		d = b[1:]
	}
	if len(d) == 0 {
		return 0, false
	}
	var n int64
	for i, c := range d {
		if c < '0' || c > '9' {
			if c == '.' || c == 'e' || c == 'E' {
				f, err := strconv.ParseFloat(string(b), 64)
				if err != nil || f != f {
					return 0, false
				}
				if f < 0 {
					return 0, true
				}
				if f >= 9.2e18 {
					return 1<<63 - 1, true
				}
				return int64(f), true
			}
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			for _, c := range d[i:] {
				if c < '0' || c > '9' {
					return 0, false
				}
			}
			n = 1<<63 - 1
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return 0, true
	}
	return n, true
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
