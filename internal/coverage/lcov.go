package coverage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
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

// lcovDigestBudget is how much memory the per-path digests of a report
// that can be read again may take before the first pass goes on record
// by record (see parseLCOVTwice).
const lcovDigestBudget = 32 << 20

// lcovPath is what the records of one path said, merged in place as they
// are read: every line, branch arm and function any record named, each
// with whether it was hit. Lines are two bitsets indexed by line number,
// so merging a DA costs two bit operations, whatever the number of
// records; arms and functions are tables found through a cursor (records
// of one path list them in the same order every time) and, failing that,
// an index.
type lcovPath struct {
	name       string
	found, hit []uint64         // bitsets by line number
	sparse     map[int32]bool   // lines too far out for the bitsets: hit
	arms       []lcovArm        // in the order first seen
	armIdx     map[armKey]int32 // built once arms come out of order
	unsorted   bool             // arms are not in armKey order
	fns        []lcovFn
	fnIdx      map[uint64]int32
	armCur     int // index of the arm last named, for the cursor
	fnCur      int // of the function last named by FN or FNL
	fndaCur    int // of the function last named by FNDA or FNA
	lf, lh     int64
	bf, bh     int64
	fnf, fnh   int64
	records    int32
	mem        int64 // estimated bytes, for lcovDigestBudget
}

// armKey identifies a branch arm within its file: gcc's numeric block and
// branch, or, for a non-numeric one (LCOV 2.x expressions, exception
// blocks), 63 bits of a hash of both, marked by branch's top bit, which a
// number (below 2^31) never sets. 12 bytes, so that per-test reports of
// large files stay small.
type armKey struct {
	line          int32
	block, branch uint32
}

func (a armKey) less(b armKey) bool {
	switch {
	case a.line != b.line:
		return a.line < b.line
	case a.block != b.block:
		return a.block < b.block
	}
	return a.branch < b.branch
}

type lcovArm struct {
	key armKey
	hit bool
}

type lcovFn struct {
	id  uint64
	hit bool
}

func (p *lcovPath) reset() {
	clear(p.found)
	clear(p.hit)
	p.found, p.hit = p.found[:0], p.hit[:0]
	clear(p.sparse)
	p.arms, p.fns = p.arms[:0], p.fns[:0]
	clear(p.fnIdx)
	p.armIdx, p.unsorted = nil, false
	p.lf, p.lh, p.bf, p.bh, p.fnf, p.fnh, p.records = 0, 0, 0, 0, 0, 0, 0
}

// line merges line n; it reports whether the path had no line n before.
func (p *lcovPath) line(n int32, hit bool) bool {
	w := int(n >> 6)
	if w >= len(p.found) {
		if n >= 1<<16 && w > 4*int(p.lf)+64 {
			return p.sparseLine(n, hit)
		}
		p.grow(w + 1)
	}
	bit := uint64(1) << (n & 63)
	isNew := p.found[w]&bit == 0
	if isNew {
		p.found[w] |= bit
		p.lf++
	}
	if hit && p.hit[w]&bit == 0 {
		p.hit[w] |= bit
		p.lh++
	}
	return isNew
}

// grow extends the bitsets to n words, moving in the sparse lines they
// now cover.
func (p *lcovPath) grow(n int) {
	if n <= cap(p.found) {
		old := len(p.found)
		p.found, p.hit = p.found[:n], p.hit[:n]
		clear(p.found[old:])
		clear(p.hit[old:])
	} else {
		c := max(n, 2*cap(p.found))
		f, h := make([]uint64, n, c), make([]uint64, n, c)
		copy(f, p.found)
		copy(h, p.hit)
		p.found, p.hit = f, h
	}
	for k, hit := range p.sparse {
		if w := int(k >> 6); w < n {
			p.found[w] |= 1 << (k & 63)
			if hit {
				p.hit[w] |= 1 << (k & 63)
			}
			delete(p.sparse, k)
		}
	}
}

func (p *lcovPath) sparseLine(n int32, hit bool) bool {
	if p.sparse == nil {
		p.sparse = map[int32]bool{}
	}
	old, seen := p.sparse[n]
	if !seen {
		p.lf++
	}
	if hit && !old {
		p.lh++
	}
	p.sparse[n] = old || hit
	return !seen
}

// arm merges an arm and returns its index.
func (p *lcovPath) arm(k armKey, hit bool) int32 {
	i := p.armCur + 1
	if i >= len(p.arms) || p.arms[i].key != k {
		n := len(p.arms)
		if !p.unsorted && (n == 0 || p.arms[n-1].key.less(k)) {
			i = p.addArm(k)
		} else {
			if p.armIdx == nil {
				p.armIdx = make(map[armKey]int32, n)
				for j, a := range p.arms {
					p.armIdx[a.key] = int32(j)
				}
			}
			j, ok := p.armIdx[k]
			if ok {
				i = int(j)
			} else {
				i = p.addArm(k)
				p.unsorted = true
			}
		}
	}
	p.armCur = i
	if hit && !p.arms[i].hit {
		p.arms[i].hit = true
		p.bh++
	}
	return int32(i)
}

func (p *lcovPath) addArm(k armKey) int {
	i := len(p.arms)
	p.arms = append(p.arms, lcovArm{key: k})
	if p.armIdx != nil {
		p.armIdx[k] = int32(i)
	}
	p.bf++
	return i
}

// fn merges a function and returns its index. cur is the cursor of the
// kind of line naming it: records list FN lines and FNDA lines each in
// the same order every time.
func (p *lcovPath) fn(id uint64, hit bool, cur *int) int32 {
	i := *cur + 1
	if i >= len(p.fns) || p.fns[i].id != id {
		if p.fnIdx == nil {
			p.fnIdx = make(map[uint64]int32, len(p.fns))
			for j, f := range p.fns {
				p.fnIdx[f.id] = int32(j)
			}
		}
		j, ok := p.fnIdx[id]
		if ok {
			i = int(j)
		} else {
			i = len(p.fns)
			p.fns = append(p.fns, lcovFn{id: id})
			p.fnIdx[id] = int32(i)
			p.fnf++
		}
	}
	*cur = i
	if hit && !p.fns[i].hit {
		p.fns[i].hit = true
		p.fnh++
	}
	return int32(i)
}

// freeze returns a lasting copy of p, a record read into the parser's
// scratch digest, without its indexes (rebuilt if a later record of the
// path needs them).
func (p *lcovPath) freeze(name string) *lcovPath {
	q := &lcovPath{
		name: name, found: slices.Clone(p.found), hit: slices.Clone(p.hit),
		arms: slices.Clone(p.arms), unsorted: p.unsorted, fns: slices.Clone(p.fns),
		lf: p.lf, lh: p.lh, bf: p.bf, bh: p.bh, fnf: p.fnf, fnh: p.fnh, records: p.records,
	}
	if len(p.sparse) > 0 {
		q.sparse = maps.Clone(p.sparse)
	}
	return q
}

func (p *lcovPath) totals() Totals {
	return Totals{Files: 1, LinesFound: p.lf, LinesHit: p.lh, BranchesFound: p.bf, BranchesHit: p.bh, FunctionsFound: p.fnf, FunctionsHit: p.fnh}
}

func (p *lcovPath) estimate() int64 {
	return 160 + 16*int64(cap(p.found)) + 40*int64(len(p.sparse)) + 16*int64(cap(p.arms)) +
		40*int64(len(p.armIdx)) + 16*int64(cap(p.fns)) + 32*int64(len(p.fnIdx))
}

// lcovRec is what one record said, kept only when files are emitted:
// its lines with their own hits, and which of its path's arms and
// functions it named. Its tables are reused from record to record.
type lcovRec struct {
	lineAt  []int32         // by line number: 1 + index in lines
	lineMap map[int32]int32 // the same, for lines too far out
	lines   []Line
	sorted  bool
	armSeen []uint8 // by the path's arm index: 1 named, 2 hit
	arms    []int32
	fnSeen  []uint8 // by the path's function index: 1 named, 2 hit
	fns     []int32
}

func (r *lcovRec) line(n int32, hits int64) {
	var at *int32
	if int(n) < len(r.lineAt) {
		at = &r.lineAt[n]
	} else if n < 1<<16 || int(n) < 16*len(r.lines)+1024 {
		r.lineAt = growTo(r.lineAt, int(n)+1)
		for k, j := range r.lineMap {
			// Lines the table now covers move into it.
			if int(k) < len(r.lineAt) {
				r.lineAt[k] = j
				delete(r.lineMap, k)
			}
		}
		at = &r.lineAt[n]
	} else {
		if r.lineMap == nil {
			r.lineMap = map[int32]int32{}
		}
		if j, ok := r.lineMap[n]; ok {
			l := &r.lines[j-1]
			l.Hits = satAdd(l.Hits, hits)
			return
		}
		r.lineMap[n] = int32(len(r.lines)) + 1
		r.add(n, hits)
		return
	}
	if *at > 0 {
		l := &r.lines[*at-1]
		l.Hits = satAdd(l.Hits, hits)
		return
	}
	*at = int32(len(r.lines)) + 1
	r.add(n, hits)
}

func (r *lcovRec) add(n int32, hits int64) {
	if k := len(r.lines); k > 0 && r.lines[k-1].Number > int(n) {
		r.sorted = false
	}
	r.lines = append(r.lines, Line{Number: int(n), Hits: hits})
}

func (r *lcovRec) lineIndex(n int32) int {
	if n <= 0 {
		return -1
	}
	if int(n) < len(r.lineAt) {
		return int(r.lineAt[n]) - 1
	}
	if j, ok := r.lineMap[n]; ok {
		return int(j) - 1
	}
	return -1
}

// growTo returns s with at least n elements, the new ones zero (s is
// never shortened, so what lies past its length was never written).
func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	m := max(n, 2*len(s))
	return slices.Grow(s, m-len(s))[:m]
}

func mark(seen []uint8, list []int32, i int32, hit bool) ([]uint8, []int32) {
	if int(i) >= len(seen) {
		seen = growTo(seen, int(i)+1)
	}
	if seen[i] == 0 {
		list = append(list, i)
		seen[i] = 1
	}
	if hit {
		seen[i] = 2
	}
	return seen, list
}

// file returns the record as a File, and clears the record's tables.
func (r *lcovRec) file(path string, p *lcovPath) *File {
	f := &File{Path: path}
	for _, i := range r.arms {
		f.BranchesFound++
		hit := r.armSeen[i] == 2
		if hit {
			f.BranchesHit++
		}
		if j := r.lineIndex(p.arms[i].key.line); j >= 0 {
			r.lines[j].BranchesFound++
			if hit {
				r.lines[j].BranchesHit++
			}
		}
		r.armSeen[i] = 0
	}
	for _, i := range r.fns {
		f.FunctionsFound++
		if r.fnSeen[i] == 2 {
			f.FunctionsHit++
		}
		r.fnSeen[i] = 0
	}
	for _, l := range r.lines {
		if l.Number < len(r.lineAt) {
			r.lineAt[l.Number] = 0
		}
	}
	clear(r.lineMap)
	if !r.sorted {
		slices.SortFunc(r.lines, func(a, b Line) int { return cmpInt(a.Number, b.Number) })
	}
	f.Lines = slices.Clone(r.lines)
	r.lines, r.arms, r.fns, r.sorted = r.lines[:0], r.arms[:0], r.fns[:0], true
	return f
}

// lcovParser reads LCOV tracefiles, 1.x and 2.x, in one pass over the
// bytes. LF/LH, BRF/BRH and FNF/FNH are ignored and recomputed from the
// records, as lcov itself does.
type lcovParser struct {
	lr   *lineReader
	bud  *budget
	emit func(*File) error // nil when no File is wanted

	// How records are merged. Normally every path has a digest in paths
	// (exact). When switchable (the report can be read again) and the
	// digests outgrow lcovDigestBudget or the line budget, the parser
	// switches: each record is then added up on its own in tmp and its
	// path counted in counts, for parseLCOVTwice to merge the repeated
	// paths in a second pass. In that pass (repeated != nil) only the
	// paths it names have digests.
	paths       map[string]*lcovPath
	switchable  bool
	switched    bool
	counts      map[uint64]int32
	repeated    map[uint64]int32
	tmp         lcovPath
	naive       Totals
	held        int64 // lines in digests
	mem         int64 // bytes in digests, estimated
	digestBytes int64 // the budget of mem

	// The record being read.
	open  bool
	path  string
	p     *lcovPath
	isTmp bool             // p is the scratch digest tmp
	keep  bool             // tmp is a path's first record, to be kept (frozen)
	fnl   map[string]int32 // LCOV 2.2 FNL index -> line
	rec   lcovRec
}

func newLCOVParser(br *bufio.Reader, bud *budget, emit func(*File) error) *lcovParser {
	return &lcovParser{
		lr: &lineReader{r: br, f: LCOV}, bud: bud, emit: emit,
		paths: map[string]*lcovPath{}, counts: map[uint64]int32{},
		rec: lcovRec{sorted: true},
	}
}

func (ps *lcovParser) bad(format string, args ...any) error {
	return &ParseError{Format: LCOV, Line: ps.lr.n, Msg: fmt.Sprintf(format, args...)}
}

// start begins the record of path (val is only valid until the next
// line). A path's first record is read into the scratch digest tmp,
// which is cheap to reset, and frozen into a lasting digest when it ends
// (unless the parser has switched to adding up records one by one).
func (ps *lcovParser) start(val []byte) error {
	ps.open = true
	clear(ps.fnl)
	p := ps.paths[string(val)]
	if p == nil {
		if err := ps.bud.fileBytes(val); err != nil {
			return err
		}
	}
	exact := !ps.switched
	if ps.repeated != nil {
		exact = ps.repeated[pathHash(val)] > 1
	} else if ps.switched {
		ps.counts[pathHash(val)]++
	}
	ps.isTmp = !exact || p == nil
	ps.keep = exact && p == nil
	switch {
	case !ps.isTmp:
		ps.path = p.name
	case ps.keep || ps.emit != nil:
		ps.path = string(val)
	default:
		ps.path = ""
	}
	if ps.isTmp {
		ps.tmp.reset()
		p = &ps.tmp
	}
	p.records++
	p.armCur, p.fnCur, p.fndaCur = -1, -1, -1
	ps.p = p
	return nil
}

func (ps *lcovParser) finish() error {
	ps.open = false
	p := ps.p
	switch {
	case ps.keep:
		q := p.freeze(ps.path)
		ps.paths[q.name] = q
		ps.held += q.lf
		ps.mem += q.estimate()
		q.mem = q.estimate()
	case ps.isTmp:
		ps.naive = ps.naive.Add(p.totals())
	default:
		m := p.estimate()
		ps.mem += m - p.mem
		p.mem = m
	}
	if !ps.isTmp || ps.keep {
		if ps.switchable && !ps.switched && (ps.mem > ps.digestBytes || ps.bud.lim.MaxLines > 0 && ps.held > ps.bud.lim.MaxLines) {
			ps.switchToRecords()
		}
	}
	if ps.emit == nil {
		return nil
	}
	if err := ps.emit(ps.rec.file(ps.path, p)); err != nil {
		return fmt.Errorf("coverage: lcov: %w", err)
	}
	return nil
}

// switchToRecords drops the digests, keeping their totals and how many
// records each path had.
func (ps *lcovParser) switchToRecords() {
	for path, p := range ps.paths {
		ps.naive = ps.naive.Add(p.totals())
		ps.counts[pathHash([]byte(path))] = p.records
	}
	ps.paths = map[string]*lcovPath{}
	ps.switched = true
	ps.held, ps.mem = 0, 0
}

// newLine counts a line new to the record's digest against the budget:
// the lines held in digests may not exceed it (a report that can be read
// again switches to record by record instead, when the record ends), nor
// may one record's.
func (ps *lcovParser) newLine() error {
	lim := ps.bud.lim.MaxLines
	if lim <= 0 {
		return nil
	}
	held := ps.held
	switch {
	case !ps.isTmp:
		ps.held++
		held = ps.held
	case ps.keep:
		held += ps.p.lf
	default:
		held = 0
	}
	if ps.p.lf > lim || held > lim && !(ps.switchable && !ps.switched) {
		return &LimitError{Limit: "lines", Max: lim}
	}
	return nil
}

func (ps *lcovParser) totals() Totals {
	t := ps.naive
	for _, p := range ps.paths {
		t = t.Add(p.totals())
	}
	switch {
	case ps.repeated != nil:
		t.Files = int64(len(ps.repeated))
	case ps.switched:
		t.Files = int64(len(ps.counts))
	default:
		t.Files = int64(len(ps.paths))
	}
	t.Percent = 0
	return t
}

// repeats reports whether, after a switch, some path had more than one
// record (without a switch, the digests merged them already).
func (ps *lcovParser) repeats() bool {
	for _, n := range ps.counts {
		if n > 1 {
			return true
		}
	}
	return false
}

func (ps *lcovParser) run() error {
	for {
		line, err := ps.lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := ps.record(line); err != nil {
			return err
		}
	}
	if ps.open {
		// A final record without end_of_record is accepted, as lcov does.
		return ps.finish()
	}
	return nil
}

func (ps *lcovParser) record(line []byte) error {
	// The common case first: a DA line of an open record.
	if len(line) > 3 && line[0] == 'D' && line[1] == 'A' && line[2] == ':' && ps.open {
		if n, h, ok := fastDA(line[3:]); ok {
			return ps.da(n, h)
		}
	}
	if len(line) > 0 && (line[0] <= ' ' || line[len(line)-1] <= ' ') {
		line = bytes.TrimSpace(line)
	}
	if len(line) == 0 || line[0] == '#' {
		return nil
	}
	if string(line) == "end_of_record" {
		if !ps.open {
			return ps.bad("end_of_record without SF")
		}
		return ps.finish()
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return ps.bad("%q is not an LCOV record (want KEY:VALUE or end_of_record)", clip(line))
	}
	key, val := line[:colon], line[colon+1:]
	switch string(key) {
	case "TN", "VER", "LF", "LH", "BRF", "BRH", "FNF", "FNH", "MSF", "MLF":
		// Recomputed from the records, or carrying nothing we use.
		return nil
	case "SF":
		if ps.open {
			// A record without end_of_record: the next SF ends it, as
			// lcov does.
			if err := ps.finish(); err != nil {
				return err
			}
		}
		if len(val) == 0 {
			return ps.bad("SF: empty file name")
		}
		return ps.start(val)
	}
	if !ps.open {
		switch string(key) {
		case "DA", "BRDA", "FN", "FNDA", "FNL", "FNA":
			return ps.bad("%s before SF", key)
		}
		return nil
	}
	switch string(key) {
	case "DA":
		// DA:<line>,<hits>[,<checksum>]
		f1, rest, ok := bytes.Cut(val, []byte{','})
		if !ok {
			return ps.bad("DA: want DA:<line>,<hits>, got %q", clip(line))
		}
		f2, _, _ := bytes.Cut(rest, []byte{','})
		n, ok := atoiPos(f1)
		if !ok {
			return ps.bad("DA: line number %q is not a positive integer", clip(f1))
		}
		h, problem := atoiCount(f2)
		if problem != "" {
			return ps.bad("DA: hit count %q %s", clip(f2), problem)
		}
		return ps.da(int32(n), h)
	case "BRDA":
		// BRDA:<line>,[e]<block>,<branch>,<taken>; the branch may be an
		// expression containing commas (LCOV 2.x), so the taken count is
		// the last field. coverage.py writes branches of line 0: they
		// count for the file, as lcov counts them, on no line.
		f1, rest, ok1 := bytes.Cut(val, []byte{','})
		blk, rest, ok2 := bytes.Cut(rest, []byte{','})
		i := bytes.LastIndexByte(rest, ',')
		if !ok1 || !ok2 || i < 0 {
			return ps.bad("BRDA: want BRDA:<line>,<block>,<branch>,<taken>, got %q", clip(line))
		}
		brn, tk := rest[:i], rest[i+1:]
		n, ok := atoiLine(f1)
		if !ok {
			return ps.bad("BRDA: line number %q is not a non-negative integer", clip(f1))
		}
		var taken int64
		if string(tk) != "-" {
			var problem string
			if taken, problem = atoiCount(tk); problem != "" {
				return ps.bad("BRDA: taken count %q %s", clip(tk), problem)
			}
		}
		k := armKey{line: int32(n)}
		b1, ok1 := atoiSmall(blk)
		b2, ok2 := atoiSmall(brn)
		if ok1 && ok2 {
			k.block, k.branch = b1, b2
		} else {
			h := fnv64(fnv64(fnv64(fnvOffset, blk), []byte{','}), brn)
			k.block, k.branch = uint32(h), uint32(h>>33)|1<<31
		}
		i2 := ps.p.arm(k, taken > 0)
		if ps.emit != nil {
			ps.rec.armSeen, ps.rec.arms = mark(ps.rec.armSeen, ps.rec.arms, i2, taken > 0)
		}
	case "FN":
		// FN:<line>,[<end line>,]<name>
		f1, rest, ok := bytes.Cut(val, []byte{','})
		if _, okn := atoiLine(f1); !ok || !okn || len(rest) == 0 {
			return ps.bad("FN: want FN:<line>,<name>, got %q", clip(line))
		}
		if f2, name, ok := bytes.Cut(rest, []byte{','}); ok && len(name) > 0 {
			if _, isNum := atoiPos(f2); isNum {
				rest = name
			}
		}
		ps.fn(fnID(rest), 0, false)
	case "FNDA":
		// FNDA:<hits>,<name>
		f1, name, ok := bytes.Cut(val, []byte{','})
		if !ok || len(name) == 0 {
			return ps.bad("FNDA: want FNDA:<hits>,<name>, got %q", clip(line))
		}
		h, problem := atoiCount(f1)
		if problem != "" {
			return ps.bad("FNDA: hit count %q %s", clip(f1), problem)
		}
		ps.fn(fnID(name), h, true)
	case "FNL":
		// FNL:<index>,<line>[,<end line>] (LCOV 2.2+)
		idx, rest, ok := bytes.Cut(val, []byte{','})
		f2, _, _ := bytes.Cut(rest, []byte{','})
		n, okn := atoiPos(f2)
		if !ok || !okn {
			return ps.bad("FNL: want FNL:<index>,<line>[,<end line>], got %q", clip(line))
		}
		if ps.fnl == nil {
			ps.fnl = map[string]int32{}
		}
		ps.fnl[string(idx)] = int32(n)
		ps.fn(fnlID(n), 0, false)
	case "FNA":
		// FNA:<index>,<hits>,<alias>: a function is hit when any of its
		// aliases is.
		idx, rest, ok1 := bytes.Cut(val, []byte{','})
		f2, _, ok2 := bytes.Cut(rest, []byte{','})
		if !ok1 || !ok2 {
			return ps.bad("FNA: want FNA:<index>,<hits>,<name>, got %q", clip(line))
		}
		h, problem := atoiCount(f2)
		if problem != "" {
			return ps.bad("FNA: hit count %q %s", clip(f2), problem)
		}
		n, ok := ps.fnl[string(idx)]
		if !ok {
			return ps.bad("FNA: function index %q has no FNL", clip(idx))
		}
		ps.fn(fnlID(int(n)), h, true)
	default:
		// Unknown keys are skipped, as lcov does, so that newer
		// tracefiles still read.
	}
	return nil
}

func (ps *lcovParser) da(n int32, h int64) error {
	if ps.p.line(n, h > 0) {
		if err := ps.newLine(); err != nil {
			return err
		}
	}
	if ps.emit != nil {
		ps.rec.line(n, h)
	}
	return nil
}

func (ps *lcovParser) fn(id uint64, h int64, data bool) {
	cur := &ps.p.fnCur
	if data {
		cur = &ps.p.fndaCur
	}
	i := ps.p.fn(id, h > 0, cur)
	if ps.emit != nil {
		ps.rec.fnSeen, ps.rec.fns = mark(ps.rec.fnSeen, ps.rec.fns, i, h > 0)
	}
}

// fastDA parses "<line>,<hits>" of plain digits, the form every tool
// writes; anything else (a checksum, a sign, a float, an overflow) is
// left to the careful path.
func fastDA(b []byte) (int32, int64, bool) {
	i, n := 0, int64(0)
	for ; i < len(b) && b[i] != ','; i++ {
		d := b[i] - '0'
		if d > 9 || i >= 9 {
			return 0, 0, false
		}
		n = n*10 + int64(d)
	}
	if i == 0 || i == len(b) || n == 0 {
		return 0, 0, false
	}
	i++
	if k := len(b) - i; k == 0 || k > 18 {
		return 0, 0, false
	}
	var h int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, 0, false
		}
		h = h*10 + int64(d)
	}
	return int32(n), h, true
}

const fnvOffset = 14695981039346656037

// fnv64 continues an FNV-1a hash over b.
func fnv64(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func pathHash(b []byte) uint64 { return fnv64(fnvOffset, b) }

// fnID is the identity of a function named in FN or FNDA: a hash of its
// name, top bit clear.
func fnID(name []byte) uint64 { return fnv64(fnvOffset, name) &^ (1 << 63) }

// fnlID is the identity of an LCOV 2.2 function (FNL/FNA): its line, top
// bit set, so it never equals a name's.
func fnlID(line int) uint64 { return 1<<63 | uint64(line) }

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

// atoiLine parses a line number that may be 0 (coverage.py writes
// branches on line 0) and fits in 31 bits.
func atoiLine(b []byte) (int, bool) {
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	return atoiPos(b)
}

// atoiCount parses an execution count: a decimal integer, or a float
// such as "3.0" or "1e3" (some tools write them), truncated. It returns
// what is wrong with b, for an error message, or "": a count that is
// negative or beyond int64 is refused, never clamped.
func atoiCount(b []byte) (int64, string) {
	if len(b) == 0 {
		return 0, "is not a number"
	}
	d := b
	if b[0] == '+' {
		d = b[1:]
	}
	if len(d) == 0 {
		return 0, "is not a number"
	}
	var n int64
	for i, c := range d {
		if c < '0' || c > '9' {
			return atoiCountFloat(b)
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			for _, c := range d[i:] {
				if c < '0' || c > '9' {
					return atoiCountFloat(b)
				}
			}
			return 0, "is beyond the largest count (2^63-1)"
		}
		n = n*10 + int64(c-'0')
	}
	return n, ""
}

func atoiCountFloat(b []byte) (int64, string) {
	f, err := strconv.ParseFloat(string(b), 64)
	switch {
	case b[0] == '-' && (err == nil || errors.Is(err, strconv.ErrRange)) && f != 0:
		return 0, "is negative"
	case errors.Is(err, strconv.ErrRange) || err == nil && f >= 9223372036854775807:
		return 0, "is beyond the largest count (2^63-1)"
	case err != nil || f != f:
		return 0, "is not a number"
	}
	return int64(f), ""
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
