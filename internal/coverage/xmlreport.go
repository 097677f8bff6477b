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

// xmlFormat describes one XML format to parseXML: its root element,
// what the start and the end of each of its elements mean, what a
// finished file adds to the totals, and the totals at the end. The walk
// keeps the rest: the open elements, the root check, the file being
// read, the budget and the errors' positions. start and end return a
// *ParseError made with w.errAt for what the format refuses.
//
// These are function fields, not an interface's methods: an interface
// would put the walker, and with it encoding/xml's Decoder, in the
// binary's reflection data, and so link the Decoder's unmarshalling code
// into ppctl and the relay. That code moves the XML parsers' hot loops
// and costs them several percent.
type xmlFormat struct {
	root xmlRoot
	// start handles a start element; w.depth() counts it.
	start func(w *xmlWalker, se *xml.StartElement) error
	// end handles the end of the element named; w.depth() no longer
	// counts it. Nil when ends mean nothing to the format.
	end func(w *xmlWalker, name string) error
	// file takes a finished file before it is emitted.
	file func(f *File)
	// totals returns the report's totals once the document has been read.
	totals func() Totals
}

// xmlRoot is a format's root element. When first is set, the document's
// first element must be it; otherwise other elements may come first (the
// report is refused at the end without a root) but the root may not be
// nested.
type xmlRoot struct {
	name  string
	first bool
}

// parseXML reads the XML report in br as format f, with x describing its
// elements, emitting each file as it is finished. It returns a
// *ParseError for malformed XML, a missing or misplaced root and what x
// refuses, a *LimitError past the budget, and emit's error wrapped.
func parseXML(br *bufio.Reader, f Format, bud *budget, emit func(*File) error, x *xmlFormat) (Totals, error) {
	w := newXMLWalker(br, f, bud, emit, x.file)
	for {
		se, end, err := w.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Totals{}, err
		}
		switch {
		case se == nil:
			if x.end != nil {
				err = x.end(w, end)
			}
		case len(w.stack) == 1 || se.Name.Local == x.root.name:
			if err = w.checkRoot(se, x.root); err == nil {
				err = x.start(w, se)
			}
		default:
			err = x.start(w, se)
		}
		if err != nil {
			return Totals{}, err
		}
	}
	if !w.sawRoot {
		return Totals{}, &ParseError{Format: f, Msg: "no <" + x.root.name + "> root element"}
	}
	// A format whose files end on their element's end has none open
	// here; Cobertura's last file is, as its files end when a class of
	// another file starts.
	if err := w.closeFile(); err != nil {
		return Totals{}, err
	}
	return x.totals(), nil
}

// xmlWalker drives an encoding/xml token stream, keeping only the stack of
// open element names and the file being read, so that memory stays with
// that file.
type xmlWalker struct {
	d       *xml.Decoder
	f       Format
	stack   []string
	bud     *budget
	emit    func(*File) error
	onFile  func(*File)
	cur     *xmlFile
	sawRoot bool
}

func newXMLWalker(br *bufio.Reader, f Format, bud *budget, emit func(*File) error, onFile func(*File)) *xmlWalker {
	d := xml.NewDecoder(br)
	d.Strict = true
	// Reports declare encodings such as ISO-8859-1 now and then; bytes
	// outside ASCII only occur in paths, which we pass through.
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) { return input, nil }
	return &xmlWalker{d: d, f: f, bud: bud, emit: emit, onFile: onFile}
}

// checkRoot notes the root element and refuses a misplaced one; only a
// first-level element or one named as the root can be either.
func (w *xmlWalker) checkRoot(se *xml.StartElement, root xmlRoot) error {
	name := se.Name.Local
	switch {
	case len(w.stack) == 1 && name == root.name:
		w.sawRoot = true
	case len(w.stack) == 1 && root.first:
		return w.errAt(name, "root element must be <%s>", root.name)
	case name == root.name && !root.first:
		return w.errAt(name, "nested <%s>", root.name)
	}
	return nil
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

// text reads the character data of the element just started, through
// its end; a child element is an error. The element's end is not handed
// to the format.
func (w *xmlWalker) text() (string, error) {
	el := w.parent(0)
	var b strings.Builder
	for {
		tok, err := w.d.Token()
		if err != nil {
			return "", w.errAt(el, "malformed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			w.stack = w.stack[:len(w.stack)-1]
			return b.String(), nil
		case xml.StartElement:
			return "", w.errAt(t.Name.Local, "unexpected element inside <%s>", el)
		}
	}
}

// depth returns the number of open elements, the current one included.
func (w *xmlWalker) depth() int { return len(w.stack) }

// parent returns the name of the element n levels above the current one
// (0 = the current element), or "".
func (w *xmlWalker) parent(n int) string {
	if i := len(w.stack) - 1 - n; i >= 0 {
		return w.stack[i]
	}
	return ""
}

// openFile starts reading the file at path p, counting it against the
// budget. A file still open is dropped, not emitted: only a report that
// nests its file elements leaves one open.
func (w *xmlWalker) openFile(p string) error {
	x, err := newXMLFile(p, w.bud)
	w.cur = x
	return err
}

// closeFile finishes the file being read, if any: the format takes it,
// then it is emitted.
func (w *xmlWalker) closeFile() error {
	if w.cur == nil {
		return nil
	}
	f := w.cur.done()
	w.cur = nil
	w.onFile(f)
	if err := w.emit(f); err != nil {
		return fmt.Errorf("coverage: %s: %w", w.f, err)
	}
	return nil
}

// namedCount is an attribute read as a count into dst.
type namedCount struct {
	name string
	dst  *int64
}

// intAttrs reads each attribute with intAttr.
func (w *xmlWalker) intAttrs(se *xml.StartElement, counts ...namedCount) error {
	for _, c := range counts {
		var err error
		if *c.dst, err = w.intAttr(se, c.name); err != nil {
			return err
		}
	}
	return nil
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
	c := &cobertura{set: newFileSet()}
	return parseXML(br, Cobertura, bud, emit, &xmlFormat{root: xmlRoot{name: "coverage", first: true}, start: c.start, file: c.file, totals: c.totals})
}

// cobertura is what Cobertura XML's walk keeps; a class's file stays open
// for the classes of the same file that follow it, so no end matters.
type cobertura struct {
	set     *fileSet
	root    *Totals
	sources []string
}

func (c *cobertura) start(w *xmlWalker, se *xml.StartElement) error {
	switch {
	case w.depth() == 1:
		if _, ok := attr(se, "lines-valid"); ok {
			t := &Totals{}
			if err := w.intAttrs(se, namedCount{"lines-valid", &t.LinesFound}, namedCount{"lines-covered", &t.LinesHit}, namedCount{"branches-valid", &t.BranchesFound}, namedCount{"branches-covered", &t.BranchesHit}); err != nil {
				return err
			}
			c.root = t
		}
	case se.Name.Local == "source" && w.parent(1) == "sources":
		s, err := w.text()
		if err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s != "" {
			c.sources = append(c.sources, s)
		}
	case se.Name.Local == "class":
		name, ok := attr(se, "filename")
		if !ok || name == "" {
			return w.errAt("class", "missing filename attribute")
		}
		p := name
		if len(c.sources) > 0 && !path.IsAbs(filepathSlash(name)) {
			p = joinSource(c.sources[0], name)
		}
		if w.cur != nil && w.cur.f.Path == p {
			return nil
		}
		if err := w.closeFile(); err != nil {
			return err
		}
		return w.openFile(p)
	case se.Name.Local == "line" && w.parent(1) == "lines" && w.parent(2) == "class":
		if w.cur == nil {
			return w.errAt("line", "<line> outside <class>")
		}
		l, err := coberturaLine(w, se)
		if err != nil {
			return err
		}
		return w.cur.line(l)
	}
	return nil
}

func (c *cobertura) file(f *File) { c.set.add(f) }

func (c *cobertura) totals() Totals {
	t := c.set.ta.t
	t.FunctionsFound, t.FunctionsHit = 0, 0
	if c.root != nil {
		r := *c.root
		r.Files = t.Files
		t = r
	}
	return t
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
	j := &jacoco{seen: map[string]struct{}{}}
	return parseXML(br, JaCoCo, bud, emit, &xmlFormat{root: xmlRoot{name: "report"}, start: j.start, end: j.end, file: j.file, totals: j.totals})
}

// jacoco is what JaCoCo XML's walk keeps.
type jacoco struct {
	t    Totals
	pkg  string
	seen map[string]struct{}
}

func (j *jacoco) start(w *xmlWalker, se *xml.StartElement) error {
	switch se.Name.Local {
	case "package":
		j.pkg, _ = attr(se, "name")
	case "sourcefile":
		name, ok := attr(se, "name")
		if !ok || name == "" {
			return w.errAt("sourcefile", "missing name attribute")
		}
		if w.parent(1) != "package" {
			return w.errAt("sourcefile", "<sourcefile> outside <package>")
		}
		p := name
		if j.pkg != "" {
			p = strings.TrimSuffix(j.pkg, "/") + "/" + name
		}
		return w.openFile(p)
	case "line":
		if w.parent(1) != "sourcefile" || w.cur == nil {
			return nil
		}
		return jacocoLine(w, se)
	case "counter":
		typ, _ := attr(se, "type")
		missed, err := w.intAttr(se, "missed")
		if err != nil {
			return err
		}
		covered, err := w.intAttr(se, "covered")
		if err != nil {
			return err
		}
		switch w.parent(1) {
		case "report":
			switch typ {
			case "LINE":
				j.t.LinesFound, j.t.LinesHit = missed+covered, covered
			case "BRANCH":
				j.t.BranchesFound, j.t.BranchesHit = missed+covered, covered
			case "METHOD":
				j.t.FunctionsFound, j.t.FunctionsHit = missed+covered, covered
			}
		case "sourcefile":
			if w.cur != nil && typ == "METHOD" {
				w.cur.f.FunctionsFound, w.cur.f.FunctionsHit = missed+covered, covered
			}
		}
	}
	return nil
}

// jacocoLine adds a <line> to the file being read.
func jacocoLine(w *xmlWalker, se *xml.StartElement) error {
	nr, _ := attr(se, "nr")
	n, ok := atoiPos([]byte(strings.TrimSpace(nr)))
	if !ok {
		return w.errAt("line", "nr=%q is not a positive line number", clipS(nr))
	}
	var v [4]int64
	for i, a := range []string{"mi", "ci", "mb", "cb"} {
		var err error
		if v[i], err = w.intAttr(se, a); err != nil {
			return err
		}
	}
	if v[0]+v[1] == 0 && v[2]+v[3] == 0 {
		return nil
	}
	if v[2]+v[3] > 1<<20 {
		return w.errAt("line", "branch counts mb=%d cb=%d are implausibly large", v[2], v[3])
	}
	if err := w.cur.line(Line{Number: n, Hits: v[1], BranchesFound: int(v[2] + v[3]), BranchesHit: int(v[3])}); err != nil {
		return err
	}
	w.cur.f.BranchesFound += v[2] + v[3]
	w.cur.f.BranchesHit += v[3]
	return nil
}

func (j *jacoco) end(w *xmlWalker, name string) error {
	if name == "sourcefile" {
		return w.closeFile()
	}
	return nil
}

// file counts the distinct paths: the totals are otherwise the report's.
func (j *jacoco) file(f *File) {
	if _, ok := j.seen[f.Path]; !ok {
		j.seen[f.Path] = struct{}{}
		j.t.Files++
	}
}

func (j *jacoco) totals() Totals { return j.t }

// parseClover reads Clover XML (OpenClover, istanbul's clover reporter,
// PHPUnit). The totals are the <project>'s <metrics>: statements,
// conditionals as branches, methods as functions; lines are counted from
// the stmt and cond <line> elements.
func parseClover(br *bufio.Reader, bud *budget, emit func(*File) error) (Totals, error) {
	c := &clover{set: newFileSet()}
	return parseXML(br, Clover, bud, emit, &xmlFormat{root: xmlRoot{name: "coverage"}, start: c.start, end: c.end, file: c.file, totals: c.totals})
}

// clover is what Clover XML's walk keeps.
type clover struct {
	set    *fileSet
	proj   *Totals
	inProj bool
}

func (c *clover) start(w *xmlWalker, se *xml.StartElement) error {
	switch se.Name.Local {
	case "project":
		// Only the first project: a <testproject> may follow and
		// describes the tests themselves.
		c.inProj = c.proj == nil
	case "metrics":
		if w.parent(1) == "project" && c.inProj && c.proj == nil {
			p := &Totals{Statements: true}
			if err := w.intAttrs(se, namedCount{"statements", &p.StatementsFound}, namedCount{"coveredstatements", &p.StatementsHit}, namedCount{"conditionals", &p.BranchesFound}, namedCount{"coveredconditionals", &p.BranchesHit}, namedCount{"methods", &p.FunctionsFound}, namedCount{"coveredmethods", &p.FunctionsHit}); err != nil {
				return err
			}
			c.proj = p
		}
	case "file":
		if !c.inProj {
			return nil
		}
		p, _ := attr(se, "path")
		if p == "" {
			p, _ = attr(se, "name")
		}
		if p == "" {
			return w.errAt("file", "missing name and path attributes")
		}
		return w.openFile(filepathSlash(p))
	case "line":
		if w.cur == nil || w.parent(1) != "file" {
			return nil
		}
		return cloverLine(w, se)
	}
	return nil
}

// cloverLine adds a stmt, cond or method <line> to the file being read.
func cloverLine(w *xmlWalker, se *xml.StartElement) error {
	num, _ := attr(se, "num")
	n, ok := atoiPos([]byte(strings.TrimSpace(num)))
	if !ok {
		return w.errAt("line", "num=%q is not a positive line number", clipS(num))
	}
	count, err := w.intAttr(se, "count")
	if err != nil {
		return err
	}
	f := w.cur.f
	switch typ, _ := attr(se, "type"); typ {
	case "stmt":
		if err := w.cur.line(Line{Number: n, Hits: count}); err != nil {
			return err
		}
		f.StatementsFound++
		if count > 0 {
			f.StatementsHit++
		}
	case "cond":
		tc, err := w.intAttr(se, "truecount")
		if err != nil {
			return err
		}
		fc, err := w.intAttr(se, "falsecount")
		if err != nil {
			return err
		}
		l := Line{Number: n, Hits: max(count, tc+fc), BranchesFound: 2}
		if tc > 0 {
			l.BranchesHit++
		}
		if fc > 0 {
			l.BranchesHit++
		}
		if err := w.cur.line(l); err != nil {
			return err
		}
		f.BranchesFound += 2
		f.BranchesHit += int64(l.BranchesHit)
	case "method":
		f.FunctionsFound++
		if count > 0 {
			f.FunctionsHit++
		}
	default:
		return w.errAt("line", "type=%q is not stmt, cond or method", clipS(typ))
	}
	return nil
}

func (c *clover) end(w *xmlWalker, name string) error {
	switch name {
	case "file":
		return w.closeFile()
	case "project":
		c.inProj = false
	}
	return nil
}

func (c *clover) file(f *File) { c.set.add(f) }

func (c *clover) totals() Totals {
	t := c.set.ta.t
	t.Statements = true
	t.StatementsFound, t.StatementsHit = c.set.stmtFound, c.set.stmtHit
	t.FunctionsFound, t.FunctionsHit = c.set.funcFound, c.set.funcHit
	if c.proj != nil {
		t.StatementsFound, t.StatementsHit = c.proj.StatementsFound, c.proj.StatementsHit
		t.BranchesFound, t.BranchesHit = c.proj.BranchesFound, c.proj.BranchesHit
		t.FunctionsFound, t.FunctionsHit = c.proj.FunctionsFound, c.proj.FunctionsHit
	}
	return t
}
