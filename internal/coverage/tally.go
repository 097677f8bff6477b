package coverage

import (
	"encoding/binary"
	"slices"
	"sort"
)

// arm is one branch arm of a line-oriented report, identified by its line,
// block and branch. Numeric blocks and branches (gcc's) are kept as numbers;
// anything else (LCOV 2.x expressions, exception blocks) goes in name.
type arm struct {
	line   int
	block  uint32
	branch uint32
	name   string
	taken  int64
	dash   bool // "-": the block never ran
}

func armLess(a, b arm) int {
	switch {
	case a.line != b.line:
		return cmpInt(a.line, b.line)
	case a.block != b.block:
		return cmpInt(int(a.block), int(b.block))
	case a.branch != b.branch:
		return cmpInt(int(a.branch), int(b.branch))
	case a.name < b.name:
		return -1
	case a.name > b.name:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tally adds up totals over the files of a line-oriented report whose
// records may repeat a path. For every path it keeps a compact digest of
// what was found and hit (two bits per line number in the file's range,
// about three bytes per branch arm, eight per function) so that a repeated
// record is merged per line, arm and function exactly as lcov does, without
// holding the report's text or its per-line records.
type tally struct {
	files map[string]*digest
	t     Totals
}

type digest struct {
	lo       int
	found    []uint64 // bitset over line numbers lo..
	hit      []uint64
	arms     []byte   // sorted arms, varint-encoded (see encodeArms)
	enc      []byte   // or: line deltas, varint-encoded, low bit = hit
	fns      []uint64 // sorted function-name hashes, low bit = hit
	lf, lh   int64
	bf, bh   int64
	fnf, fnh int64
}

func newTally() *tally { return &tally{files: map[string]*digest{}} }

// add counts one record: lines sorted and unique, arms sorted and unique,
// fns sorted by hash and unique (hash | hit).
func (ta *tally) add(path string, lines []Line, arms []arm, fns []uint64) {
	d, seen := ta.files[path]
	if !seen {
		d = &digest{}
		ta.files[path] = d
		ta.t.Files++
	} else {
		ta.t.LinesFound -= d.lf
		ta.t.LinesHit -= d.lh
		ta.t.BranchesFound -= d.bf
		ta.t.BranchesHit -= d.bh
		ta.t.FunctionsFound -= d.fnf
		ta.t.FunctionsHit -= d.fnh
		lines = mergeLineDigest(d, lines)
		arms = mergeArms(decodeArms(d.arms), arms)
		fns = mergeFns(d.fns, fns)
	}
	d.setLines(lines)
	d.arms = encodeArms(d.arms[:0], arms)
	d.bf, d.bh = int64(len(arms)), 0
	for _, a := range arms {
		if a.taken > 0 {
			d.bh++
		}
	}
	d.fns = append(d.fns[:0], fns...)
	d.fnf, d.fnh = int64(len(fns)), 0
	for _, h := range fns {
		d.fnh += int64(h & 1)
	}
	ta.t.LinesFound += d.lf
	ta.t.LinesHit += d.lh
	ta.t.BranchesFound += d.bf
	ta.t.BranchesHit += d.bh
	ta.t.FunctionsFound += d.fnf
	ta.t.FunctionsHit += d.fnh
}

func (d *digest) setLines(lines []Line) {
	d.lf, d.lh = int64(len(lines)), 0
	d.found, d.hit, d.enc = d.found[:0], d.hit[:0], d.enc[:0]
	if len(lines) == 0 {
		return
	}
	d.lo = lines[0].Number
	n := (lines[len(lines)-1].Number-d.lo)/64 + 1
	// A bitset costs 16 bytes per 64 line numbers of range; a varint list
	// costs about a byte per line. Take the smaller, so a file with lines
	// 1 and 2,000,000,000 stays small.
	if n*16 > 2*len(lines)+64 {
		prev := 0
		for _, l := range lines {
			var h uint64
			if l.Hits > 0 {
				h = 1
				d.lh++
			}
			d.enc = binary.AppendUvarint(d.enc, uint64(l.Number-prev)<<1|h)
			prev = l.Number
		}
		d.enc = slices.Clip(d.enc)
		return
	}
	d.found = slices.Grow(d.found, n)[:n]
	d.hit = slices.Grow(d.hit, n)[:n]
	clear(d.found)
	clear(d.hit)
	for _, l := range lines {
		i := l.Number - d.lo
		d.found[i/64] |= 1 << (i % 64)
		if l.Hits > 0 {
			d.hit[i/64] |= 1 << (i % 64)
			d.lh++
		}
	}
}

// eachLine calls fn with every line recorded in d, in order.
func (d *digest) eachLine(fn func(n int, hit bool)) {
	if len(d.enc) > 0 {
		b, n := d.enc, 0
		for len(b) > 0 {
			v, k := binary.Uvarint(b)
			b = b[k:]
			n += int(v >> 1)
			fn(n, v&1 == 1)
		}
		return
	}
	for w, word := range d.found {
		for word != 0 {
			b := bitsTrailing(word)
			word &^= 1 << b
			fn(d.lo+w*64+b, d.hit[w]&(1<<b) != 0)
		}
	}
}

// mergeLineDigest returns lines united with the lines recorded in d, a line
// being hit when it was hit in either. Hit counts from d are lost (only hit
// or not is kept), which the totals do not need.
func mergeLineDigest(d *digest, lines []Line) []Line {
	out := make([]Line, 0, len(lines)+int(d.lf))
	j := 0
	d.eachLine(func(n int, hit bool) {
		for j < len(lines) && lines[j].Number < n {
			out = append(out, lines[j])
			j++
		}
		var h int64
		if hit {
			h = 1
		}
		if j < len(lines) && lines[j].Number == n {
			l := lines[j]
			l.Hits = satAdd(l.Hits, h)
			out = append(out, l)
			j++
			return
		}
		out = append(out, Line{Number: n, Hits: h})
	})
	return append(out, lines[j:]...)
}

func bitsTrailing(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// mergeArms unites two sorted, unique arm lists, adding the counts of arms
// named in both ("-" plus "-" stays "-").
func mergeArms(a, b []arm) []arm {
	out := make([]arm, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := armLess(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, addArm(a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func addArm(a, b arm) arm {
	a.taken = satAdd(a.taken, b.taken)
	a.dash = a.dash && b.dash
	return a
}

func mergeFns(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch ka, kb := a[i]&^1, b[j]&^1; {
		case ka < kb:
			out = append(out, a[i])
			i++
		case ka > kb:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i]|b[j])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// encodeArms appends sorted arms to dst: per arm, uvarint(line delta<<1 |
// hit), then either uvarint(block<<1) and uvarint(branch), or
// uvarint(len(name)<<1 | 1) and the name.
func encodeArms(dst []byte, arms []arm) []byte {
	prev := 0
	for _, a := range arms {
		var hit uint64
		if a.taken > 0 {
			hit = 1
		}
		dst = binary.AppendUvarint(dst, uint64(a.line-prev)<<1|hit)
		prev = a.line
		if a.name == "" {
			dst = binary.AppendUvarint(dst, uint64(a.block)<<1)
			dst = binary.AppendUvarint(dst, uint64(a.branch))
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(a.name))<<1|1)
		dst = append(dst, a.name...)
	}
	return slices.Clip(dst)
}

func decodeArms(b []byte) []arm {
	var out []arm
	line := 0
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		b = b[n:]
		line += int(v >> 1)
		a := arm{line: line, taken: int64(v & 1)}
		v, n = binary.Uvarint(b)
		b = b[n:]
		if v&1 == 0 {
			a.block = uint32(v >> 1)
			v, n = binary.Uvarint(b)
			b = b[n:]
			a.branch = uint32(v)
		} else {
			l := int(v >> 1)
			a.name = string(b[:l])
			b = b[l:]
		}
		out = append(out, a)
	}
	return out
}

// sortUniqueLines sorts lines by number and merges repeats of a line by
// adding their hits, as lcov does for a DA line given twice.
func sortUniqueLines(lines []Line) []Line {
	if !sort.SliceIsSorted(lines, func(i, j int) bool { return lines[i].Number < lines[j].Number }) {
		slices.SortStableFunc(lines, func(a, b Line) int { return cmpInt(a.Number, b.Number) })
	}
	out := lines[:0]
	for _, l := range lines {
		if n := len(out); n > 0 && out[n-1].Number == l.Number {
			out[n-1].Hits = satAdd(out[n-1].Hits, l.Hits)
			out[n-1].BranchesFound += l.BranchesFound
			out[n-1].BranchesHit += l.BranchesHit
			continue
		}
		out = append(out, l)
	}
	return out
}

func satAdd(a, b int64) int64 {
	s := a + b
	if s < a || s < b {
		return 1<<63 - 1
	}
	return s
}
