package coverage

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// istanbulPos is a position in an Istanbul location.
type istanbulPos struct {
	Line int `json:"line"`
}

type istanbulLoc struct {
	Start istanbulPos `json:"start"`
}

type istanbulBranch struct {
	Loc       *istanbulLoc  `json:"loc"`
	Locations []istanbulLoc `json:"locations"`
	Line      int           `json:"line"`
}

// istanbulFile is one value of coverage-final.json.
type istanbulFile struct {
	Path         string                     `json:"path"`
	StatementMap map[string]istanbulLoc     `json:"statementMap"`
	FnMap        map[string]json.RawMessage `json:"fnMap"`
	BranchMap    map[string]istanbulBranch  `json:"branchMap"`
	S            map[string]float64         `json:"s"`
	F            map[string]float64         `json:"f"`
	B            map[string][]float64       `json:"b"`
}

// parseIstanbul reads Istanbul's coverage-final.json (nyc, c8, jest,
// vitest), one file's object at a time. Totals follow istanbul's own
// summary: a line's hits are the largest count of the statements starting
// on it, and every location of a branch is one branch.
func parseIstanbul(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	d := json.NewDecoder(br)
	bad := func(key, format string, args ...any) error {
		return &ParseError{Format: Istanbul, Element: key, Msg: fmt.Sprintf("at byte %d: ", d.InputOffset()) + fmt.Sprintf(format, args...)}
	}
	tok, err := d.Token()
	if err != nil {
		return Totals{}, bad("", "malformed JSON: %v", jsonErr(err))
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return Totals{}, bad("", "want a JSON object of files, got %v", tok)
	}
	t := Totals{}
	seen := map[string]struct{}{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return Totals{}, bad("", "malformed JSON: %v", jsonErr(err))
		}
		key, _ := tok.(string)
		if _, dup := seen[key]; dup {
			return Totals{}, bad(key, "file given twice")
		}
		seen[key] = struct{}{}
		if err := bud.file(key); err != nil {
			return Totals{}, err
		}
		var fc istanbulFile
		if err := d.Decode(&fc); err != nil {
			return Totals{}, bad(key, "malformed file coverage: %v", jsonErr(err))
		}
		f, err := istanbulToFile(key, &fc, bud)
		var le *LimitError
		if errors.As(err, &le) {
			return Totals{}, err
		}
		if err != nil {
			return Totals{}, bad(key, "%v", err)
		}
		t.Files++
		t.LinesFound += f.LinesFound()
		t.LinesHit += f.LinesHit()
		t.BranchesFound += f.BranchesFound
		t.BranchesHit += f.BranchesHit
		t.StatementsFound += f.StatementsFound
		t.StatementsHit += f.StatementsHit
		t.FunctionsFound += f.FunctionsFound
		t.FunctionsHit += f.FunctionsHit
		if err := emit(f); err != nil {
			return Totals{}, fmt.Errorf("coverage: istanbul: %w", err)
		}
	}
	if _, err := d.Token(); err != nil {
		return Totals{}, bad("", "malformed JSON: %v", jsonErr(err))
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return Totals{}, bad("", "data after the top-level object")
	}
	return t, nil
}

func jsonErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func istanbulToFile(key string, fc *istanbulFile, bud *budget) (*File, error) {
	p := fc.Path
	if p == "" {
		p = key
	}
	f := &File{Path: filepathSlash(p)}
	// count returns a JSON count as an int64, refusing what no counter
	// holds: a negative count or one beyond int64.
	var countErr error
	count := func(what, id string, v float64) int64 {
		switch {
		case countErr != nil:
		case v < 0:
			countErr = fmt.Errorf("%s %s: count %v is negative", what, strconv.Quote(id), v)
		case v >= 9223372036854775807:
			countErr = fmt.Errorf("%s %s: count %v is beyond the largest count (2^63-1)", what, strconv.Quote(id), v)
		case v > 0:
			return int64(v)
		}
		return 0
	}
	hits := map[int]int64{}
	for id, loc := range fc.StatementMap {
		h, ok := fc.S[id]
		if !ok {
			return nil, fmt.Errorf("statement %s has no count in s", strconv.Quote(id))
		}
		if loc.Start.Line <= 0 {
			return nil, fmt.Errorf("statement %s starts on line %d", strconv.Quote(id), loc.Start.Line)
		}
		c := count("statement", id, h)
		f.StatementsFound++
		if c > 0 {
			f.StatementsHit++
		}
		old, ok := hits[loc.Start.Line]
		if !ok {
			if err := bud.addLines(1); err != nil {
				return nil, err
			}
		}
		if !ok || c > old {
			hits[loc.Start.Line] = c
		}
	}
	if countErr != nil {
		return nil, countErr
	}
	f.Lines = make([]Line, 0, len(hits))
	for n, h := range hits {
		f.Lines = append(f.Lines, Line{Number: n, Hits: h})
	}
	slices.SortFunc(f.Lines, func(a, b Line) int { return cmpInt(a.Number, b.Number) })
	for id := range fc.FnMap {
		f.FunctionsFound++
		if count("function", id, fc.F[id]) > 0 {
			f.FunctionsHit++
		}
	}
	if countErr != nil {
		return nil, countErr
	}
	for id, br := range fc.BranchMap {
		counts, ok := fc.B[id]
		if !ok {
			return nil, fmt.Errorf("branch %s has no counts in b", strconv.Quote(id))
		}
		line := br.Line
		if br.Loc != nil && br.Loc.Start.Line > 0 {
			line = br.Loc.Start.Line
		} else if len(br.Locations) > 0 {
			line = br.Locations[0].Start.Line
		}
		var hit int
		for _, c := range counts {
			if count("branch", id, c) > 0 {
				hit++
			}
		}
		if countErr != nil {
			return nil, countErr
		}
		f.BranchesFound += int64(len(counts))
		f.BranchesHit += int64(hit)
		if i, ok := slices.BinarySearchFunc(f.Lines, line, func(l Line, n int) int { return cmpInt(l.Number, n) }); ok {
			f.Lines[i].BranchesFound += len(counts)
			f.Lines[i].BranchesHit += hit
		}
	}
	return f, nil
}
