package coverage

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// AddedLines returns the new-file line numbers of the lines a unified diff
// adds, in order. patch is GitHub's `patch` field of a pull request file:
// hunks only, no file headers. An empty patch (binary files, or a diff too
// large for GitHub to send) adds no lines. A malformed hunk header or a
// line outside any hunk is an error naming the patch line.
func AddedLines(patch string) ([]int, error) {
	var added []int
	newLine, inHunk := 0, false
	for i, line := range strings.Split(patch, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "@@") {
			n, err := hunkNewStart(line)
			if err != nil {
				return nil, fmt.Errorf("coverage: patch line %d: %w", i+1, err)
			}
			newLine, inHunk = n, true
			continue
		}
		if line == "" {
			// The last element after a trailing newline, or a context line
			// whose single space was stripped.
			if inHunk {
				newLine++
			}
			continue
		}
		if !inHunk {
			if strings.HasPrefix(line, "diff ") || strings.HasPrefix(line, "index ") || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ") || strings.HasPrefix(line, "new file") || strings.HasPrefix(line, "deleted file") || strings.HasPrefix(line, "similarity") || strings.HasPrefix(line, "rename ") || strings.HasPrefix(line, "old mode") || strings.HasPrefix(line, "new mode") || strings.HasPrefix(line, "Binary files") {
				continue
			}
			return nil, fmt.Errorf("coverage: patch line %d: %q is outside any hunk", i+1, clipS(line))
		}
		switch line[0] {
		case '+':
			added = append(added, newLine)
			newLine++
		case ' ':
			newLine++
		case '-', '\\':
			// Removed lines and "\ No newline at end of file" leave the new
			// file's numbering alone.
		default:
			if strings.HasPrefix(line, "diff ") {
				inHunk = false
				continue
			}
			return nil, fmt.Errorf("coverage: patch line %d: %q does not start with ' ', '+', '-' or '\\'", i+1, clipS(line))
		}
	}
	return added, nil
}

// hunkNewStart returns c from "@@ -a[,b] +c[,d] @@ …".
func hunkNewStart(h string) (int, error) {
	rest, ok := strings.CutPrefix(h, "@@ -")
	if !ok {
		return 0, fmt.Errorf("hunk header %q is not \"@@ -a,b +c,d @@\"", clipS(h))
	}
	_, rest, ok = strings.Cut(rest, " +")
	if !ok {
		return 0, fmt.Errorf("hunk header %q has no +c,d range", clipS(h))
	}
	rng, _, ok := strings.Cut(rest, " @@")
	if !ok {
		return 0, fmt.Errorf("hunk header %q is not closed by @@", clipS(h))
	}
	start, _, _ := strings.Cut(rng, ",")
	n, err := strconv.Atoi(start)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("hunk header %q: new start %q is not a line number", clipS(h), clipS(start))
	}
	return n, nil
}

// FileChange is one file of a pull request as GitHub's files API gives it.
type FileChange struct {
	Path  string // the file's repository path in the head commit
	Patch string // unified-diff hunks; empty when GitHub sent none
}

// PatchFile is the patch coverage of one changed file.
type PatchFile struct {
	Path string `json:"path"`
	// Changed counts added lines; Coverable those of them the coverage
	// knows; Covered those Covered (ran, and all branches taken).
	Changed   int     `json:"changed"`
	Coverable int     `json:"coverable"`
	Covered   int     `json:"covered"`
	Percent   float64 `json:"percent"` // 0 when Coverable is 0
	// Missed lists the coverable added lines that are not covered;
	// Partial those of them that ran with a branch arm untaken.
	Missed  []int `json:"missed,omitempty"`
	Partial []int `json:"partial,omitempty"`
}

// Patch is the patch coverage of a pull request: covered changed lines
// over coverable changed lines, per file and in total.
type Patch struct {
	Changed   int     `json:"changed"`
	Coverable int     `json:"coverable"`
	Covered   int     `json:"covered"`
	Percent   float64 `json:"percent"` // 0 when Coverable is 0
	// Files holds every changed file with at least one coverable added
	// line, sorted by path.
	Files []PatchFile `json:"files"`
}

// PatchCoverage returns the patch coverage of changes against the head
// commit's coverage r (paths already mapped to repository paths). A file r
// does not know contributes changed but no coverable lines. It returns an
// error naming the file when a patch is malformed.
func PatchCoverage(r *Report, changes []FileChange) (Patch, error) {
	var p Patch
	for _, c := range changes {
		added, err := AddedLines(c.Patch)
		if err != nil {
			return Patch{}, fmt.Errorf("%s: %w", c.Path, err)
		}
		pf := PatchFile{Path: c.Path, Changed: len(added)}
		p.Changed += len(added)
		var f *File
		if r != nil {
			f = r.Files[c.Path]
		}
		if f == nil || len(added) == 0 {
			continue
		}
		for _, n := range added {
			l, ok := f.Line(n)
			if !ok {
				continue
			}
			pf.Coverable++
			switch {
			case l.Covered():
				pf.Covered++
			case l.Partial():
				pf.Partial = append(pf.Partial, n)
				pf.Missed = append(pf.Missed, n)
			default:
				pf.Missed = append(pf.Missed, n)
			}
		}
		if pf.Coverable == 0 {
			continue
		}
		pf.Percent = percent(int64(pf.Covered), int64(pf.Coverable))
		p.Coverable += pf.Coverable
		p.Covered += pf.Covered
		p.Files = append(p.Files, pf)
	}
	slices.SortFunc(p.Files, func(a, b PatchFile) int { return cmp.Compare(a.Path, b.Path) })
	p.Percent = percent(int64(p.Covered), int64(p.Coverable))
	return p, nil
}

// LeastCovered returns up to n changed files with the most uncovered
// coverable lines first (ties: lower percent, then path). Fully covered
// files are left out.
func (p Patch) LeastCovered(n int) []PatchFile {
	var out []PatchFile
	for _, f := range p.Files {
		if f.Covered < f.Coverable {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b PatchFile) int {
		return cmp.Or(
			cmp.Compare(b.Coverable-b.Covered, a.Coverable-a.Covered),
			cmp.Compare(a.Percent, b.Percent),
			cmp.Compare(a.Path, b.Path))
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Runs folds sorted line numbers into [first, last] runs of consecutive
// lines, as a report names them ("12-15, 20").
func Runs(lines []int) [][2]int {
	var out [][2]int
	for _, n := range lines {
		if k := len(out); k > 0 && out[k-1][1]+1 == n {
			out[k-1][1] = n
			continue
		}
		out = append(out, [2]int{n, n})
	}
	return out
}
