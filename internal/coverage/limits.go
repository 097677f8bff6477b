package coverage

import (
	"fmt"
	"hash/maphash"
)

// Limits is the budget of one report: what a parser may build from it
// before giving up with a *LimitError. Every count is taken before the
// thing counted is built, so a small hostile input is refused before it
// costs memory. A zero field means no limit.
type Limits struct {
	// MaxFiles bounds the distinct file paths of a report.
	MaxFiles int
	// MaxLines bounds the line records built. A Go block counts every
	// line it spans when it is first read (g.go:1.1,1000000.2 counts
	// 1,000,000 before it is expanded); an LCOV record counts its distinct
	// DA lines (a line given a million times in one record counts once);
	// an XML <line> or an Istanbul statement line counts once per file.
	MaxLines int64
	// MaxDepth bounds the nesting of XML elements, counted per start
	// element (real coverage XML nests about 8 deep).
	MaxDepth int
	// MaxElements bounds the XML start elements of a report.
	MaxElements int64
}

// DefaultLimits returns the budget Parse and Collect apply: room for the
// largest real reports (a monorepo has thousands of files and a few
// million lines), refusing what would take gigabytes to hold.
//
//   - 100,000 files;
//   - 10,000,000 lines, about 320 MB once collected (a Line is 32 bytes);
//   - XML depth 32;
//   - 100,000,000 XML elements.
func DefaultLimits() Limits {
	return Limits{MaxFiles: 100_000, MaxLines: 10_000_000, MaxDepth: 32, MaxElements: 100_000_000}
}

// LimitError is returned (possibly wrapped) when a report exceeds one of
// its Limits. Limit is "files", "lines", "depth" or "elements"; Max is the
// limit that was exceeded. Its message is safe to show to the uploader.
type LimitError struct {
	Limit string
	Max   int64
}

// Error returns e.g. "coverage: report exceeds the limit of 10000000 lines".
func (e *LimitError) Error() string {
	switch e.Limit {
	case "depth":
		return fmt.Sprintf("coverage: report nests XML elements more than %d deep (limit depth)", e.Max)
	case "elements":
		return fmt.Sprintf("coverage: report has more than %d XML elements (limit elements)", e.Max)
	}
	return fmt.Sprintf("coverage: report has more than %d %s (limit %s)", e.Max, e.Limit, e.Limit)
}

// budget counts what a parser builds against Limits.
type budget struct {
	lim      Limits
	lines    int64
	elements int64
	seed     maphash.Seed
	paths    map[uint64]struct{}
}

func newBudget(lim Limits) *budget {
	return &budget{lim: lim, seed: maphash.MakeSeed(), paths: map[uint64]struct{}{}}
}

// file counts path when it has not been seen before.
func (b *budget) file(path string) error {
	if b.lim.MaxFiles <= 0 {
		return nil
	}
	return b.fileHash(maphash.String(b.seed, path))
}

// fileBytes is file for a path not yet copied out of the input.
func (b *budget) fileBytes(path []byte) error {
	if b.lim.MaxFiles <= 0 {
		return nil
	}
	return b.fileHash(maphash.Bytes(b.seed, path))
}

// fileHash counts the path hashed to h when it has not been seen before.
func (b *budget) fileHash(h uint64) error {
	if _, ok := b.paths[h]; ok {
		return nil
	}
	if len(b.paths) >= b.lim.MaxFiles {
		return &LimitError{Limit: "files", Max: int64(b.lim.MaxFiles)}
	}
	b.paths[h] = struct{}{}
	return nil
}

// addLines counts n lines about to be built.
func (b *budget) addLines(n int64) error {
	b.lines += n
	if b.lim.MaxLines > 0 && (b.lines > b.lim.MaxLines || b.lines < 0) {
		return &LimitError{Limit: "lines", Max: b.lim.MaxLines}
	}
	return nil
}

// element counts an XML start element at the given depth (the root is 1).
func (b *budget) element(depth int) error {
	if b.lim.MaxDepth > 0 && depth > b.lim.MaxDepth {
		return &LimitError{Limit: "depth", Max: int64(b.lim.MaxDepth)}
	}
	b.elements++
	if b.lim.MaxElements > 0 && b.elements > b.lim.MaxElements {
		return &LimitError{Limit: "elements", Max: b.lim.MaxElements}
	}
	return nil
}
