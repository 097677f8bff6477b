package coverage

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// xmlWalker drives an encoding/xml token stream, keeping only the stack of
// open element names, so that memory stays with the file being read.
type xmlWalker struct {
	d     *xml.Decoder
	f     Format
	stack []string
	bud   *budget
}

func newXMLWalker(br *bufio.Reader, f Format, bud *budget) *xmlWalker {
	d := xml.NewDecoder(br)
	d.Strict = true
	// Reports declare encodings such as ISO-8859-1 now and then; bytes
	// outside ASCII only occur in paths, which we pass through.
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) { return input, nil }
	return &xmlWalker{d: d, f: f, bud: bud}
}

// errAt returns a *ParseError at the decoder's position, naming el.
func (w *xmlWalker) errAt(el string, format string, args ...any) error {
	line, _ := w.d.InputPos()
	return &ParseError{Format: w.f, Line: line, Element: el, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next start or end element; start is nil for an end.
// It returns io.EOF at the end of a well-formed document.
func (w *xmlWalker) next() (start *xml.StartElement, end string, err error) {
	for {
		tok, err := w.d.Token()
		if errors.Is(err, io.EOF) {
			if len(w.stack) > 0 {
				return nil, "", w.errAt(w.stack[len(w.stack)-1], "unexpected end of input inside this element")
			}
			return nil, "", io.EOF
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				el := ""
				if len(w.stack) > 0 {
					el = w.stack[len(w.stack)-1]
				}
				return nil, "", &ParseError{Format: w.f, Line: se.Line, Element: el, Msg: "malformed XML: " + se.Msg}
			}
			return nil, "", fmt.Errorf("coverage: %s: read: %w", w.f, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := w.bud.element(len(w.stack) + 1); err != nil {
				return nil, "", err
			}
			w.stack = append(w.stack, t.Name.Local)
			return &t, "", nil
		case xml.EndElement:
			w.stack = w.stack[:len(w.stack)-1]
			return nil, t.Name.Local, nil
		}
	}
}

// parent returns the name of the element n levels above the current one
// (0 = the current element), or "".
func (w *xmlWalker) parent(n int) string {
	if i := len(w.stack) - 1 - n; i >= 0 {
		return w.stack[i]
	}
	return ""
}

func attr(se *xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// intAttr returns the named attribute as a count; a missing attribute is
// 0, as JaCoCo and Clover omit zero counters.
func (w *xmlWalker) intAttr(se *xml.StartElement, name string) (int64, error) {
	v, ok := attr(se, name)
	if !ok {
		return 0, nil
	}
	n, problem := atoiCount([]byte(strings.TrimSpace(v)))
	if problem != "" {
		return 0, w.errAt(se.Name.Local, "attribute %s=%q %s", name, clipS(v), problem)
	}
	return n, nil
}

func clipS(s string) string { return clip([]byte(s)) }

// xmlFile gathers the lines of the file being read, merging a line given
// twice (one file's classes, several statements on one line) by keeping
// the larger hit count and branch counts.
type xmlFile struct {
	f     *File
	index map[int]int
	bud   *budget
}

// newXMLFile starts the file at path p, counting it against bud.
func newXMLFile(p string, bud *budget) (*xmlFile, error) {
	if err := bud.file(p); err != nil {
		return nil, err
	}
	return &xmlFile{f: &File{Path: p}, index: map[int]int{}, bud: bud}, nil
}

func (x *xmlFile) line(l Line) error {
	if i, ok := x.index[l.Number]; ok {
		o := &x.f.Lines[i]
		o.Hits = max(o.Hits, l.Hits)
		o.BranchesFound = max(o.BranchesFound, l.BranchesFound)
		o.BranchesHit = max(o.BranchesHit, l.BranchesHit)
		return nil
	}
	if err := x.bud.addLines(1); err != nil {
		return err
	}
	x.index[l.Number] = len(x.f.Lines)
	x.f.Lines = append(x.f.Lines, l)
	return nil
}

// done returns the file with its lines sorted.
func (x *xmlFile) done() *File {
	x.f.Lines = sortUniqueLines(x.f.Lines)
	return x.f
}

// fileSet counts distinct paths and, for formats whose root totals may be
// missing, adds up lines (merged per line, as tally does) and branches per
// distinct path; a path seen twice keeps its larger branch counts.
type fileSet struct {
	ta                 *tally
	branches           map[string][2]int64
	stmtFound, stmtHit int64
	funcFound, funcHit int64
}

func newFileSet() *fileSet { return &fileSet{ta: newTally(), branches: map[string][2]int64{}} }

func (s *fileSet) add(f *File) {
	s.ta.add(f.Path, f.Lines, nil, nil)
	var bf, bh int64
	for _, l := range f.Lines {
		bf += int64(l.BranchesFound)
		bh += int64(l.BranchesHit)
	}
	bf, bh = max(bf, f.BranchesFound), max(bh, f.BranchesHit)
	old := s.branches[f.Path]
	s.branches[f.Path] = [2]int64{max(old[0], bf), max(old[1], bh)}
	s.ta.t.BranchesFound += max(old[0], bf) - old[0]
	s.ta.t.BranchesHit += max(old[1], bh) - old[1]
	s.stmtFound += f.StatementsFound
	s.stmtHit += f.StatementsHit
	s.funcFound += f.FunctionsFound
	s.funcHit += f.FunctionsHit
}

// parseCobertura reads Cobertura XML (coverage.py, gcovr, and the many
// tools that copy its shape). Only class-level <lines><line> count: the
// method-level lines repeat them. Classes of one file are merged while
// they come one after another; the root's lines-valid/lines-covered and
// branches-valid/branches-covered are the totals when present.
func parseCobertura(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	w := newXMLWalker(br, Cobertura, bud)
	set := newFileSet()
	var (
		root    *Totals
		sources []string
		cur     *xmlFile
		srcText strings.Builder
		inSrc   bool
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		f := cur.done()
		cur = nil
		set.add(f)
		if err := emit(f); err != nil {
			return fmt.Errorf("coverage: cobertura: %w", err)
		}
		return nil
	}
	sawRoot := false
	for {
		if inSrc {
			tok, err := w.d.Token()
			if err != nil {
				return Totals{}, w.errAt("source", "malformed XML: %v", err)
			}
			switch t := tok.(type) {
			case xml.CharData:
				srcText.Write(t)
			case xml.EndElement:
				w.stack = w.stack[:len(w.stack)-1]
				inSrc = false
				if s := strings.TrimSpace(srcText.String()); s != "" {
					sources = append(sources, s)
				}
			case xml.StartElement:
				return Totals{}, w.errAt(t.Name.Local, "unexpected element inside <source>")
			}
			continue
		}
		se, _, err := w.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Totals{}, err
		}
		if se == nil {
			continue
		}
		switch {
		case len(w.stack) == 1:
			if se.Name.Local != "coverage" {
				return Totals{}, w.errAt(se.Name.Local, "root element must be <coverage>")
			}
			sawRoot = true
			if _, ok := attr(se, "lines-valid"); ok {
				t := &Totals{}
				for _, a := range []struct {
					name string
					dst  *int64
				}{{"lines-valid", &t.LinesFound}, {"lines-covered", &t.LinesHit}, {"branches-valid", &t.BranchesFound}, {"branches-covered", &t.BranchesHit}} {
					if *a.dst, err = w.intAttr(se, a.name); err != nil {
						return Totals{}, err
					}
				}
				root = t
			}
		case se.Name.Local == "source" && w.parent(1) == "sources":
			inSrc = true
			srcText.Reset()
		case se.Name.Local == "class":
			name, ok := attr(se, "filename")
			if !ok || name == "" {
				return Totals{}, w.errAt("class", "missing filename attribute")
			}
			p := name
			if len(sources) > 0 && !path.IsAbs(filepathSlash(name)) {
				p = joinSource(sources[0], name)
			}
			if cur != nil && cur.f.Path != p {
				if err := flush(); err != nil {
					return Totals{}, err
				}
			}
			if cur == nil {
				if cur, err = newXMLFile(p, bud); err != nil {
					return Totals{}, err
				}
			}
		case se.Name.Local == "line" && w.parent(1) == "lines" && w.parent(2) == "class":
			if cur == nil {
				return Totals{}, w.errAt("line", "<line> outside <class>")
			}
			l, err := coberturaLine(w, se)
			if err != nil {
				return Totals{}, err
			}
			if err := cur.line(l); err != nil {
				return Totals{}, err
			}
		}
	}
	if !sawRoot {
		return Totals{}, &ParseError{Format: Cobertura, Msg: "no <coverage> root element"}
	}
	if err := flush(); err != nil {
		return Totals{}, err
	}
	t := set.ta.t
	t.FunctionsFound, t.FunctionsHit = 0, 0
	if root != nil {
		root.Files = t.Files
		t = *root
	}
	return t, nil
}

func coberturaLine(w *xmlWalker, se *xml.StartElement) (Line, error) {
	num, ok := attr(se, "number")
	n, good := atoiPos([]byte(strings.TrimSpace(num)))
	if !ok || !good {
		return Line{}, w.errAt("line", "number=%q is not a positive line number", clipS(num))
	}
	h, err := w.intAttr(se, "hits")
	if err != nil {
		return Line{}, err
	}
	l := Line{Number: n, Hits: h}
	if b, _ := attr(se, "branch"); b == "true" || b == "True" {
		if cc, ok := attr(se, "condition-coverage"); ok {
			// "50% (1/2)"
			i, j := strings.IndexByte(cc, '('), strings.IndexByte(cc, ')')
			if i < 0 || j < i {
				return Line{}, w.errAt("line", "condition-coverage=%q is not \"P%% (hit/found)\"", clipS(cc))
			}
			hs, fs, ok := strings.Cut(cc[i+1:j], "/")
			bh, err1 := strconv.Atoi(strings.TrimSpace(hs))
			bf, err2 := strconv.Atoi(strings.TrimSpace(fs))
			if !ok || err1 != nil || err2 != nil || bh < 0 || bf < bh || bf > 1<<20 {
				return Line{}, w.errAt("line", "condition-coverage=%q is not \"P%% (hit/found)\"", clipS(cc))
			}
			l.BranchesFound, l.BranchesHit = bf, bh
		}
	}
	return l, nil
}

func filepathSlash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// joinSource joins a Cobertura <source> and a class filename with forward
// slashes, whatever the report's platform.
func joinSource(src, name string) string {
	src = strings.TrimRight(filepathSlash(src), "/")
	if src == "" || src == "." {
		return filepathSlash(name)
	}
	return src + "/" + filepathSlash(name)
}

// parseJaCoCo reads JaCoCo XML. A file is <package name>/<sourcefile
// name>; its lines come from <line nr mi ci mb cb> (a line is found when it
// has instructions, hit when one of them ran). The totals are the report's
// own LINE and BRANCH counters; a counter JaCoCo omitted is 0.
func parseJaCoCo(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	w := newXMLWalker(br, JaCoCo, bud)
	var (
		t       Totals
		pkg     string
		cur     *xmlFile
		sawRoot bool
		seen    = map[string]struct{}{}
	)
	for {
		se, end, err := w.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Totals{}, err
		}
		if se == nil {
			if end == "sourcefile" && cur != nil {
				f := cur.done()
				cur = nil
				if _, ok := seen[f.Path]; !ok {
					seen[f.Path] = struct{}{}
					t.Files++
				}
				if err := emit(f); err != nil {
					return Totals{}, fmt.Errorf("coverage: jacoco: %w", err)
				}
			}
			continue
		}
		switch se.Name.Local {
		case "report":
			if len(w.stack) != 1 {
				return Totals{}, w.errAt("report", "nested <report>")
			}
			sawRoot = true
		case "package":
			pkg, _ = attr(se, "name")
		case "sourcefile":
			name, ok := attr(se, "name")
			if !ok || name == "" {
				return Totals{}, w.errAt("sourcefile", "missing name attribute")
			}
			if w.parent(1) != "package" {
				return Totals{}, w.errAt("sourcefile", "<sourcefile> outside <package>")
			}
			p := name
			if pkg != "" {
				p = strings.TrimSuffix(pkg, "/") + "/" + name
			}
			if cur, err = newXMLFile(p, bud); err != nil {
				return Totals{}, err
			}
		case "line":
			if w.parent(1) != "sourcefile" || cur == nil {
				continue
			}
			nr, _ := attr(se, "nr")
			n, ok := atoiPos([]byte(strings.TrimSpace(nr)))
			if !ok {
				return Totals{}, w.errAt("line", "nr=%q is not a positive line number", clipS(nr))
			}
			var v [4]int64
			for i, a := range []string{"mi", "ci", "mb", "cb"} {
				if v[i], err = w.intAttr(se, a); err != nil {
					return Totals{}, err
				}
			}
			if v[0]+v[1] == 0 && v[2]+v[3] == 0 {
				continue
			}
			if v[2]+v[3] > 1<<20 {
				return Totals{}, w.errAt("line", "branch counts mb=%d cb=%d are implausibly large", v[2], v[3])
			}
			if err := cur.line(Line{Number: n, Hits: v[1], BranchesFound: int(v[2] + v[3]), BranchesHit: int(v[3])}); err != nil {
				return Totals{}, err
			}
			cur.f.BranchesFound += v[2] + v[3]
			cur.f.BranchesHit += v[3]
		case "counter":
			typ, _ := attr(se, "type")
			missed, err := w.intAttr(se, "missed")
			if err != nil {
				return Totals{}, err
			}
			covered, err := w.intAttr(se, "covered")
			if err != nil {
				return Totals{}, err
			}
			switch w.parent(1) {
			case "report":
				switch typ {
				case "LINE":
					t.LinesFound, t.LinesHit = missed+covered, covered
				case "BRANCH":
					t.BranchesFound, t.BranchesHit = missed+covered, covered
				case "METHOD":
					t.FunctionsFound, t.FunctionsHit = missed+covered, covered
				}
			case "sourcefile":
				if cur != nil && typ == "METHOD" {
					cur.f.FunctionsFound, cur.f.FunctionsHit = missed+covered, covered
				}
			}
		}
	}
	if !sawRoot {
		return Totals{}, &ParseError{Format: JaCoCo, Msg: "no <report> root element"}
	}
	return t, nil
}

// parseClover reads Clover XML (OpenClover, istanbul's clover reporter,
// PHPUnit). The totals are the <project>'s <metrics>: statements,
// conditionals as branches, methods as functions; lines are counted from
// the stmt and cond <line> elements.
func parseClover(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	w := newXMLWalker(br, Clover, bud)
	set := newFileSet()
	var (
		proj    *Totals
		cur     *xmlFile
		sawRoot bool
		inProj  bool
	)
	for {
		se, end, err := w.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Totals{}, err
		}
		if se == nil {
			switch {
			case end == "file" && cur != nil:
				f := cur.done()
				cur = nil
				set.add(f)
				if err := emit(f); err != nil {
					return Totals{}, fmt.Errorf("coverage: clover: %w", err)
				}
			case end == "project":
				inProj = false
			}
			continue
		}
		switch se.Name.Local {
		case "coverage":
			if len(w.stack) != 1 {
				return Totals{}, w.errAt("coverage", "nested <coverage>")
			}
			sawRoot = true
		case "project":
			// Only the first project: a <testproject> may follow and
			// describes the tests themselves.
			inProj = proj == nil
		case "metrics":
			if w.parent(1) == "project" && inProj && proj == nil {
				p := &Totals{Statements: true}
				for _, a := range []struct {
					name string
					dst  *int64
				}{{"statements", &p.StatementsFound}, {"coveredstatements", &p.StatementsHit}, {"conditionals", &p.BranchesFound}, {"coveredconditionals", &p.BranchesHit}, {"methods", &p.FunctionsFound}, {"coveredmethods", &p.FunctionsHit}} {
					if *a.dst, err = w.intAttr(se, a.name); err != nil {
						return Totals{}, err
					}
				}
				proj = p
			}
		case "file":
			if !inProj {
				continue
			}
			p, _ := attr(se, "path")
			if p == "" {
				p, _ = attr(se, "name")
			}
			if p == "" {
				return Totals{}, w.errAt("file", "missing name and path attributes")
			}
			if cur, err = newXMLFile(filepathSlash(p), bud); err != nil {
				return Totals{}, err
			}
		case "line":
			if cur == nil || w.parent(1) != "file" {
				continue
			}
			num, _ := attr(se, "num")
			n, ok := atoiPos([]byte(strings.TrimSpace(num)))
			if !ok {
				return Totals{}, w.errAt("line", "num=%q is not a positive line number", clipS(num))
			}
			count, err := w.intAttr(se, "count")
			if err != nil {
				return Totals{}, err
			}
			switch typ, _ := attr(se, "type"); typ {
			case "stmt":
				if err := cur.line(Line{Number: n, Hits: count}); err != nil {
					return Totals{}, err
				}
				cur.f.StatementsFound++
				if count > 0 {
					cur.f.StatementsHit++
				}
			case "cond":
				tc, err := w.intAttr(se, "truecount")
				if err != nil {
					return Totals{}, err
				}
				fc, err := w.intAttr(se, "falsecount")
				if err != nil {
					return Totals{}, err
				}
				l := Line{Number: n, Hits: max(count, tc+fc), BranchesFound: 2}
				if tc > 0 {
					l.BranchesHit++
				}
				if fc > 0 {
					l.BranchesHit++
				}
				if err := cur.line(l); err != nil {
					return Totals{}, err
				}
				cur.f.BranchesFound += 2
				cur.f.BranchesHit += int64(l.BranchesHit)
			case "method":
				cur.f.FunctionsFound++
				if count > 0 {
					cur.f.FunctionsHit++
				}
			default:
				return Totals{}, w.errAt("line", "type=%q is not stmt, cond or method", clipS(typ))
			}
		}
	}
	if !sawRoot {
		return Totals{}, &ParseError{Format: Clover, Msg: "no <coverage> root element"}
	}
	t := set.ta.t
	t.Statements = true
	t.StatementsFound, t.StatementsHit = set.stmtFound, set.stmtHit
	t.FunctionsFound, t.FunctionsHit = set.funcFound, set.funcHit
	if proj != nil {
		t.StatementsFound, t.StatementsHit = proj.StatementsFound, proj.StatementsHit
		t.BranchesFound, t.BranchesHit = proj.BranchesFound, proj.BranchesHit
		t.FunctionsFound, t.FunctionsHit = proj.FunctionsFound, proj.FunctionsHit
	}
	return t, nil
}
