package coverage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
)

// goBlock is one basic block of a Go coverprofile.
type goBlock struct {
	startLine, startCol, endLine, endCol int32
	stmts                                int32
	count                                int64
}

func goBlockCmp(a, b goBlock) int {
	switch {
	case a.startLine != b.startLine:
		return cmpInt(int(a.startLine), int(b.startLine))
	case a.startCol != b.startCol:
		return cmpInt(int(a.startCol), int(b.startCol))
	case a.endLine != b.endLine:
		return cmpInt(int(a.endLine), int(b.endLine))
	}
	return cmpInt(int(a.endCol), int(b.endCol))
}

// goKey identifies a block within its file.
type goKey struct{ startLine, startCol, endLine, endCol int32 }

// goFileBlocks gathers one file's distinct blocks. Profiles concatenated by
// -coverpkg list a file's blocks in the same order in every copy, so the
// block after the last one matched is tried before the index.
type goFileBlocks struct {
	blocks []goBlock
	index  map[goKey]int32
	cursor int
}

// parseGo reads a Go coverprofile (modes set, count and atomic). The blocks
// of one file are not contiguous when profiles of several test binaries
// are concatenated (-coverpkg), so each file's distinct blocks are kept
// (about 60 bytes each with the index) until the end of input; a repeated
// block is merged as it is read, as `go tool cover` merges it: OR-ed in set
// mode, added otherwise. No text is kept.
func parseGo(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	st := newGoState("", bud)
	lr := &lineReader{r: br, f: Go}
	if err := st.read(lr); err != nil {
		return Totals{}, err
	}
	return st.finish(emit)
}

// goState is a Go profile being read: its mode and every file's blocks.
type goState struct {
	mode     string
	files    map[string]*goFileBlocks
	lastName []byte
	cur      *goFileBlocks
	bud      *budget
}

func newGoState(mode string, bud *budget) *goState {
	return &goState{mode: mode, files: map[string]*goFileBlocks{}, bud: bud}
}

// read adds every line of lr.
func (st *goState) read(lr *lineReader) error {
	bad := func(format string, args ...any) error {
		return &ParseError{Format: Go, Line: lr.n, Msg: fmt.Sprintf(format, args...)}
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := st.line(line, bad); err != nil {
			return err
		}
	}
}

func (st *goState) line(line []byte, bad func(string, ...any) error) error {
	var b goBlock
	var ok bool
	// Fast path: a block of the same file as the line before.
	if n := len(st.lastName); st.cur != nil && len(line) > n && line[n] == ':' && bytes.Equal(line[:n], st.lastName) {
		b, ok = parseGoRest(line[n+1:])
	}
	if !ok {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		if m, isMode := bytes.CutPrefix(line, []byte("mode: ")); isMode {
			switch {
			case st.mode == "" && (string(m) == "set" || string(m) == "count" || string(m) == "atomic"):
				st.mode = string(m)
			case st.mode == "":
				return bad("mode %q is not set, count or atomic", clip(m))
			case string(m) != st.mode:
				// A second mode line is what naive concatenation of
				// profiles leaves behind; accept it only when it agrees.
				return bad("mode %q differs from the first mode line's %q", clip(m), st.mode)
			}
			return nil
		}
		if st.mode == "" {
			return bad("first line must be \"mode: set|count|atomic\", got %q", clip(line))
		}
		name, nb, err := parseGoLine(line, bad)
		if err != nil {
			return err
		}
		b = nb
		st.cur = st.files[string(name)]
		if st.cur == nil {
			if err := st.bud.file(string(name)); err != nil {
				return err
			}
			st.cur = &goFileBlocks{index: map[goKey]int32{}, cursor: -1}
			st.files[string(name)] = st.cur
		}
		st.lastName = append(st.lastName[:0], name...)
	}
	if b.endLine < b.startLine || b.endLine == b.startLine && b.endCol < b.startCol {
		return bad("block %d.%d,%d.%d ends before it starts", b.startLine, b.startCol, b.endLine, b.endCol)
	}
	if b.endLine-b.startLine > maxBlockLines {
		return bad("block %d.%d,%d.%d spans more than %d lines", b.startLine, b.startCol, b.endLine, b.endCol, maxBlockLines)
	}
	o, isNew := st.cur.find(b)
	if isNew {
		// The block's lines are budgeted before anything expands them.
		if err := st.bud.addLines(int64(b.endLine-b.startLine) + 1); err != nil {
			return err
		}
	} else {
		if o.stmts != b.stmts {
			return bad("block %d.%d,%d.%d: inconsistent statement count: %d then %d", b.startLine, b.startCol, b.endLine, b.endCol, o.stmts, b.stmts)
		}
		st.merge(o, b.count)
	}
	return nil
}

// find returns the file's block with b's position, adding b when it is
// new (and then reporting isNew).
func (fb *goFileBlocks) find(b goBlock) (o *goBlock, isNew bool) {
	k := goKeyOf(&b)
	i := fb.cursor + 1
	if i >= len(fb.blocks) || goKeyOf(&fb.blocks[i]) != k {
		j, seen := fb.index[k]
		if !seen {
			fb.index[k] = int32(len(fb.blocks))
			fb.cursor = len(fb.blocks)
			fb.blocks = append(fb.blocks, b)
			return &fb.blocks[len(fb.blocks)-1], true
		}
		i = int(j)
	}
	fb.cursor = i
	return &fb.blocks[i], false
}

func (st *goState) merge(o *goBlock, count int64) {
	if st.mode == "set" {
		if count > 0 {
			o.count = 1
		}
		return
	}
	o.count = satAdd(o.count, count)
}

// absorb merges another part of the same profile into st, counting what
// is new to st against its budget. It returns false when a block's
// statement count disagrees, for the caller to read the profile again in
// order and report the line.
func (st *goState) absorb(other *goState) (bool, error) {
	for name, ofb := range other.files {
		fb := st.files[name]
		if fb == nil {
			if err := st.bud.file(name); err != nil {
				return false, err
			}
			var span int64
			for _, b := range ofb.blocks {
				span += int64(b.endLine-b.startLine) + 1
			}
			if err := st.bud.addLines(span); err != nil {
				return false, err
			}
			st.files[name] = ofb
			continue
		}
		fb.cursor = -1
		for _, b := range ofb.blocks {
			o, isNew := fb.find(b)
			if isNew {
				if err := st.bud.addLines(int64(b.endLine-b.startLine) + 1); err != nil {
					return false, err
				}
				continue
			}
			if o.stmts != b.stmts {
				return false, nil
			}
			st.merge(o, b.count)
		}
	}
	return true, nil
}

// finish emits every file, sorted by name, and returns the totals.
func (st *goState) finish(emit func(*File) error) (Totals, error) {
	if st.mode == "" {
		return Totals{}, &ParseError{Format: Go, Line: 1, Msg: "empty profile: no mode line"}
	}
	names := make([]string, 0, len(st.files))
	for n := range st.files {
		names = append(names, n)
	}
	sort.Strings(names)
	var t Totals
	t.Statements = true
	for _, n := range names {
		out := st.files[n].blocks
		delete(st.files, n)
		if !slices.IsSortedFunc(out, goBlockCmp) {
			slices.SortFunc(out, goBlockCmp)
		}
		var span int64
		for _, b := range out {
			span += int64(b.endLine-b.startLine) + 1
		}
		if span > maxFileSpan {
			return Totals{}, &ParseError{Format: Go, Msg: fmt.Sprintf("%s: blocks span more than %d lines in all", n, maxFileSpan)}
		}
		f := goFile(n, out, span)
		t.Files++
		t.LinesFound += f.LinesFound()
		t.LinesHit += f.LinesHit()
		t.StatementsFound += f.StatementsFound
		t.StatementsHit += f.StatementsHit
		if err := emit(f); err != nil {
			return Totals{}, fmt.Errorf("coverage: go: %w", err)
		}
	}
	return t, nil
}

// parseGoParallel reads a Go profile of at least minSize bytes that allows
// random access in the given number of parts, one goroutine each, and
// merges the parts. It
// returns ok=false, having emitted nothing, when the profile does not
// suit (small, no mode line first) or a part fails: the caller then reads
// it in order, which reports errors with their line numbers.
func parseGoParallel(ra io.ReaderAt, start, size int64, parts int, minSize int64, lim Limits, emit func(*File) error) (t Totals, ok bool, err error) {
	if parts < 2 || size < minSize {
		return Totals{}, false, nil
	}
	head := make([]byte, 256)
	n, _ := ra.ReadAt(head, start)
	line, _, found := bytes.Cut(head[:n], []byte{'\n'})
	mode, isMode := bytes.CutPrefix(bytes.TrimSuffix(line, []byte{'\r'}), []byte("mode: "))
	if !found || !isMode || (string(mode) != "set" && string(mode) != "count" && string(mode) != "atomic") {
		return Totals{}, false, nil
	}
	// Part boundaries, each just after a newline.
	bounds := []int64{start + int64(len(line)) + 1}
	buf := make([]byte, 64<<10)
	for k := 1; k < parts; k++ {
		off := start + size*int64(k)/int64(parts)
		if off <= bounds[len(bounds)-1] {
			continue
		}
		n, _ := ra.ReadAt(buf, off)
		i := bytes.IndexByte(buf[:n], '\n')
		if i < 0 {
			return Totals{}, false, nil
		}
		bounds = append(bounds, off+int64(i)+1)
	}
	bounds = append(bounds, start+size)
	states := make([]*goState, len(bounds)-1)
	errs := make([]error, len(bounds)-1)
	var wg sync.WaitGroup
	for k := range states {
		// Each part has the whole budget: a part over it means the
		// profile is over it; absorb counts what the parts add up to.
		states[k] = newGoState(string(mode), newBudget(lim))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sr := io.NewSectionReader(ra, bounds[k], bounds[k+1]-bounds[k])
			errs[k] = states[k].read(&lineReader{r: bufio.NewReaderSize(sr, 256<<10), f: Go})
		}()
	}
	wg.Wait()
	for _, e := range errs {
		var le *LimitError
		if errors.As(e, &le) {
			return Totals{}, true, e
		}
		if e != nil {
			return Totals{}, false, nil
		}
	}
	for _, other := range states[1:] {
		ok, err := states[0].absorb(other)
		if err != nil {
			return Totals{}, true, err
		}
		if !ok {
			return Totals{}, false, nil
		}
	}
	t, err = states[0].finish(emit)
	return t, true, err
}

func goKeyOf(b *goBlock) goKey { return goKey{b.startLine, b.startCol, b.endLine, b.endCol} }

// parseGoRest parses "l.c,l.c stmts count" exactly, for the fast path;
// anything unusual returns false and goes through parseGoLine.
func parseGoRest(r []byte) (goBlock, bool) {
	var b goBlock
	sl, i, ok1 := goNum(r, 0, '.')
	sc, i, ok2 := goNum(r, i, ',')
	el, i, ok3 := goNum(r, i, '.')
	ec, i, ok4 := goNum(r, i, ' ')
	st, i, ok5 := goNum(r, i, ' ')
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || sl == 0 || el == 0 {
		return b, false
	}
	var c int64
	if n := len(r) - i; n == 0 || n > 18 {
		return b, false
	}
	for ; i < len(r); i++ {
		d := r[i] - '0'
		if d > 9 {
			return b, false
		}
		c = c*10 + int64(d)
	}
	b.startLine, b.startCol, b.endLine, b.endCol, b.stmts, b.count = sl, sc, el, ec, st, c
	return b, true
}

// goNum parses up to nine digits at r[i:] followed by sep, returning the
// number and the index after sep.
func goNum(r []byte, i int, sep byte) (int32, int, bool) {
	var n int32
	start := i
	for i < len(r) {
		d := r[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int32(d)
		i++
	}
	if i == start || i-start > 9 || i >= len(r) || r[i] != sep {
		return 0, i, false
	}
	return n, i + 1, true
}

// parseGoLine parses "name.go:line.col,line.col numStmt count", naming
// what is wrong when it is not that.
func parseGoLine(line []byte, bad func(string, ...any) error) ([]byte, goBlock, error) {
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp2 < 0 {
		return nil, goBlock{}, bad("want \"file:line.col,line.col statements count\", got %q", clip(line))
	}
	sp1 := bytes.LastIndexByte(line[:sp2], ' ')
	colon := -1
	if sp1 >= 0 {
		colon = bytes.LastIndexByte(line[:sp1], ':')
	}
	if colon <= 0 {
		return nil, goBlock{}, bad("want \"file:line.col,line.col statements count\", got %q", clip(line))
	}
	name, pos := line[:colon], line[colon+1:sp1]
	var b goBlock
	var ok bool
	if b.startLine, b.startCol, b.endLine, b.endCol, ok = parseGoPos(pos); !ok {
		return nil, goBlock{}, bad("block position %q is not line.col,line.col", clip(pos))
	}
	st, ok := atoiNonNeg(line[sp1+1 : sp2])
	if !ok || st >= 1<<31 {
		return nil, goBlock{}, bad("statement count %q is not a number", clip(line[sp1+1:sp2]))
	}
	b.stmts = int32(st)
	c, problem := atoiCount(line[sp2+1:])
	if problem != "" {
		return nil, goBlock{}, bad("execution count %q %s", clip(line[sp2+1:]), problem)
	}
	b.count = c
	return name, b, nil
}

// maxBlockLines bounds the lines one block may span, so that a hostile
// profile cannot make us expand billions of lines.
const maxBlockLines = 1 << 20

// maxFileSpan bounds the lines all blocks of one file span together.
const maxFileSpan = 1 << 22

// goFile turns a file's merged blocks into line records. A line is found
// when a block with statements touches it; its hits are the largest count
// of those blocks. A line shared by a block that ran and one that did not
// is marked partial through its branch fields (found = blocks, hit = blocks
// that ran); the file's branch totals stay 0, Go having no branch coverage.
func goFile(name string, blocks []goBlock, span int64) *File {
	f := &File{Path: name}
	type acc struct {
		hits       int64
		nblk, nhit int32
	}
	lo, hi := int32(1<<31-1), int32(0)
	for _, b := range blocks {
		f.StatementsFound += int64(b.stmts)
		if b.count > 0 {
			f.StatementsHit += int64(b.stmts)
		}
		if b.stmts > 0 {
			lo, hi = min(lo, b.startLine), max(hi, b.endLine)
		}
	}
	if hi < lo {
		return f
	}
	// Lines are gathered in a slice over lo..hi when that is compact,
	// in a map otherwise.
	dense := int64(hi-lo) <= 2*span+4096
	var byIdx []acc
	var byMap map[int32]*acc
	if dense {
		byIdx = make([]acc, hi-lo+1)
	} else {
		byMap = map[int32]*acc{}
	}
	for _, b := range blocks {
		if b.stmts == 0 {
			continue
		}
		for l := b.startLine; l <= b.endLine; l++ {
			var a *acc
			if dense {
				a = &byIdx[l-lo]
			} else if a = byMap[l]; a == nil {
				a = &acc{}
				byMap[l] = a
			}
			a.hits = max(a.hits, b.count)
			a.nblk++
			if b.count > 0 {
				a.nhit++
			}
		}
	}
	line := func(n int32, a *acc) Line {
		l := Line{Number: int(n), Hits: a.hits}
		if a.nhit > 0 && a.nhit < a.nblk {
			l.BranchesFound, l.BranchesHit = int(a.nblk), int(a.nhit)
		}
		return l
	}
	if dense {
		for i := range byIdx {
			if byIdx[i].nblk > 0 {
				f.Lines = append(f.Lines, line(lo+int32(i), &byIdx[i]))
			}
		}
		return f
	}
	for n, a := range byMap {
		f.Lines = append(f.Lines, line(n, a))
	}
	slices.SortFunc(f.Lines, func(a, b Line) int { return cmpInt(a.Number, b.Number) })
	return f
}

func parseGoPos(b []byte) (sl, sc, el, ec int32, ok bool) {
	start, end, ok := bytes.Cut(b, []byte{','})
	if !ok {
		return
	}
	a, c, ok1 := bytes.Cut(start, []byte{'.'})
	d, e, ok2 := bytes.Cut(end, []byte{'.'})
	if !ok1 || !ok2 {
		return 0, 0, 0, 0, false
	}
	var v [4]int
	for i, s := range [][]byte{a, c, d, e} {
		n, good := atoiNonNeg(s)
		if !good || n >= 1<<31 {
			return 0, 0, 0, 0, false
		}
		v[i] = int(n)
	}
	if v[0] == 0 || v[2] == 0 {
		return 0, 0, 0, 0, false
	}
	return int32(v[0]), int32(v[1]), int32(v[2]), int32(v[3]), true
}

// atoiNonNeg parses a non-negative decimal below 2^62.
func atoiNonNeg(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
