package coverage

import (
	"cmp"
	"math"
	"slices"
)

// mergeFiles returns the union of two records of one path: line hits add
// up (a line hit in either is hit); since a Line carries branch counts and
// not the arms themselves, a line's branches found and hit are the larger
// of the two, so a line partly covered in both stays partial unless one
// record covers all of its arms. File-level counts take the larger too.
func mergeFiles(a, b *File) *File {
	out := &File{Path: a.Path, Lines: make([]Line, 0, max(len(a.Lines), len(b.Lines)))}
	i, j := 0, 0
	for i < len(a.Lines) && j < len(b.Lines) {
		x, y := a.Lines[i], b.Lines[j]
		switch {
		case x.Number < y.Number:
			out.Lines = append(out.Lines, x)
			i++
		case x.Number > y.Number:
			out.Lines = append(out.Lines, y)
			j++
		default:
			out.Lines = append(out.Lines, Line{
				Number:        x.Number,
				Hits:          satAdd(x.Hits, y.Hits),
				BranchesFound: max(x.BranchesFound, y.BranchesFound),
				BranchesHit:   min(max(x.BranchesHit, y.BranchesHit), max(x.BranchesFound, y.BranchesFound)),
			})
			i++
			j++
		}
	}
	out.Lines = append(out.Lines, a.Lines[i:]...)
	out.Lines = append(out.Lines, b.Lines[j:]...)
	out.BranchesFound = max(a.BranchesFound, b.BranchesFound)
	out.BranchesHit = min(max(a.BranchesHit, b.BranchesHit), out.BranchesFound)
	out.StatementsFound = max(a.StatementsFound, b.StatementsFound)
	out.StatementsHit = min(max(a.StatementsHit, b.StatementsHit), out.StatementsFound)
	out.FunctionsFound = max(a.FunctionsFound, b.FunctionsFound)
	out.FunctionsHit = min(max(a.FunctionsHit, b.FunctionsHit), out.FunctionsFound)
	return out
}

// Merge returns the coverage of a commit from its sessions (one Report per
// uploaded report, paths already mapped to the repository): a line hit in
// any session is hit, and a line's branch counts are the larger of the
// sessions'. The inputs are not modified; nil reports are skipped.
func Merge(sessions ...*Report) *Report {
	out := &Report{Files: map[string]*File{}}
	for _, s := range sessions {
		if s == nil {
			continue
		}
		for p, f := range s.Files {
			if old, ok := out.Files[p]; ok {
				out.Files[p] = mergeFiles(old, f)
				continue
			}
			c := *f
			c.Lines = slices.Clone(f.Lines)
			out.Files[p] = &c
		}
	}
	return out
}

// FileTotals returns the totals of one file as commit coverage counts
// them: a line is hit only when it is Covered, so a partly covered branch
// line counts as not covered.
func FileTotals(f *File) Totals {
	t := Totals{
		Files:           1,
		LinesFound:      f.LinesFound(),
		BranchesFound:   f.BranchesFound,
		BranchesHit:     f.BranchesHit,
		StatementsFound: f.StatementsFound,
		StatementsHit:   f.StatementsHit,
		FunctionsFound:  f.FunctionsFound,
		FunctionsHit:    f.FunctionsHit,
	}
	for _, l := range f.Lines {
		if l.Covered() {
			t.LinesHit++
		}
	}
	t.setPercent()
	return t
}

// Totals returns the totals over all files of r, counted as FileTotals
// does (percent is of lines). A nil or empty report has zero totals.
func (r *Report) Totals() Totals {
	var t Totals
	if r == nil {
		return t
	}
	for _, f := range r.Files {
		t = t.Add(FileTotals(f))
	}
	t.setPercent()
	return t
}

// Paths returns the report's paths, sorted.
func (r *Report) Paths() []string {
	if r == nil {
		return nil
	}
	ps := make([]string, 0, len(r.Files))
	for p := range r.Files {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// FileDiff is how one file's coverage changed between a base and a head.
type FileDiff struct {
	Path string `json:"path"`
	// Base is the zero Totals for a file the base does not have; Head for
	// a file the head no longer has.
	Base  Totals  `json:"base"`
	Head  Totals  `json:"head"`
	Delta float64 `json:"delta"`
}

// Diff is the comparison of a commit's coverage with its base's.
type Diff struct {
	Base  Totals  `json:"base"`
	Head  Totals  `json:"head"`
	Delta float64 `json:"delta"` // Head.Percent - Base.Percent, in points
	// Files lists the files whose line totals changed, largest drop
	// first, then by path.
	Files []FileDiff `json:"files"`
}

// Compare returns how head's coverage differs from base's. Either may be
// nil (no coverage uploaded), which counts as empty.
func Compare(base, head *Report) Diff {
	d := Diff{Base: base.Totals(), Head: head.Totals()}
	d.Delta = round9(d.Head.Percent - d.Base.Percent)
	paths := map[string]struct{}{}
	for _, r := range []*Report{base, head} {
		if r != nil {
			for p := range r.Files {
				paths[p] = struct{}{}
			}
		}
	}
	for p := range paths {
		var fd FileDiff
		fd.Path = p
		if base != nil && base.Files[p] != nil {
			fd.Base = FileTotals(base.Files[p])
		}
		if head != nil && head.Files[p] != nil {
			fd.Head = FileTotals(head.Files[p])
		}
		if fd.Base.LinesFound == fd.Head.LinesFound && fd.Base.LinesHit == fd.Head.LinesHit {
			continue
		}
		fd.Delta = round9(fd.Head.Percent - fd.Base.Percent)
		d.Files = append(d.Files, fd)
	}
	slices.SortFunc(d.Files, func(a, b FileDiff) int {
		return cmp.Or(cmp.Compare(a.Delta, b.Delta), cmp.Compare(a.Path, b.Path))
	})
	return d
}

func round9(x float64) float64 { return math.Round(x*1e9) / 1e9 }
