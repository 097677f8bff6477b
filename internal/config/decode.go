package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the configuration files this package reads.
const maxFileSize = 512 << 10

// decoder walks yaml.Nodes, collecting every problem with its position.
type decoder struct {
	file string
	errs ValidationErrors
}

// add records a problem at n's position (line 1, column 1 without one).
func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs) > maxErrors {
		return
	}
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	msg := fmt.Sprintf(format, args...)
	if len(d.errs) == maxErrors {
		msg, path = "too many problems; stopped here", ""
	}
	d.errs = append(d.errs, ValidationError{File: d.file, Line: line, Column: col, Path: path, Message: msg})
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	d.errs.sort()
	return d.errs
}

var yamlLineRE = lazyRegexp(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser errors, whose line
// numbers it reports 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// document parses data as a single YAML document and returns its content
// node, or nil for an empty document (nothing, only comments, or null).
// Syntax errors are recorded and give nil. yaml.v3 reports no column for
// them, so they point at column 1 of the line.
func (d *decoder) document(data []byte) (root *yaml.Node) {
	if len(data) > maxFileSize {
		d.add(nil, "", "file is %d bytes; the limit is %d", len(data), maxFileSize)
		return nil
	}
	if !utf8.Valid(data) {
		d.add(nil, "", "file is not valid UTF-8")
		return nil
	}
	defer func() {
		// yaml.v3 has panicked on malformed input before; bad input must
		// give an error, never a crash.
		if r := recover(); r != nil {
			root = nil
			d.add(nil, "", "cannot parse YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.syntax(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.add(&next, "", "only one YAML document is allowed; remove the second \"---\"")
		return nil
	case !errors.Is(err, io.EOF):
		d.syntax(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	root = doc.Content[0]
	if r := resolve(root); r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" {
		return nil
	}
	return root
}

func (d *decoder) syntax(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		if n, perr := strconv.Atoi(m[1]); perr == nil && n > 0 {
			line = n
		}
		msg = m[2]
		if parserProblems[msg] {
			// yaml.v3 prints parser (not scanner) errors with a 0-based
			// line number.
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.errs = append(d.errs, ValidationError{File: d.file, Line: line, Column: 1, Message: "invalid YAML: " + msg})
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// describe names n's type and, for scalars, its value, for messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
	default:
		return "nothing"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "boolean " + v
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!str":
		return strconv.Quote(v)
	case "!!merge":
		return "a merge key (<<), which is not supported"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), v)
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// mapping calls fn for each key of the mapping n, in order, after
// reporting keys that are not strings or that repeat an earlier key. A null
// n is an empty mapping. It reports an error and returns false when n is
// anything else.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) bool {
	r := resolve(n)
	if r == nil || (r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null") {
		return true
	}
	if r.Kind != yaml.MappingNode {
		d.add(n, path, "must be a mapping, got %s", describe(r))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i], r.Content[i+1]
		kr := resolve(k)
		if kr == nil || kr.Kind != yaml.ScalarNode || kr.ShortTag() != "!!str" {
			d.add(k, path, "keys must be strings, got %s", describe(kr))
			continue
		}
		key := kr.Value
		if first, dup := seen[key]; dup {
			d.add(k, joinPath(path, key), "duplicate key (first at line %d)", first)
			continue
		}
		seen[key] = k.Line
		fn(key, k, v)
	}
	return true
}

// sequence returns the items of the list n. It reports an error and
// returns false when n is not a list.
func (d *decoder) sequence(n *yaml.Node, at *yaml.Node, path string) ([]*yaml.Node, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		d.add(at, path, "must be a list, got %s", describe(r))
		return nil, false
	}
	return r.Content, true
}

// str returns the string scalar n, reporting anything else at at.
func (d *decoder) str(n, at *yaml.Node, path string) (string, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		d.add(at, path, "must be a string, got %s", describe(r))
		return "", false
	}
	return r.Value, true
}

// strList returns n as a list of distinct strings; a single string is
// accepted as a list of one when single is true. Each string is checked
// with check (which returns "" when it is fine).
func (d *decoder) strList(n, at *yaml.Node, path string, single bool, maxItems int, check func(string) string) ([]string, bool) {
	r := resolve(n)
	if single && r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		if msg := check(r.Value); msg != "" {
			d.add(at, path, "%s, got %q", msg, r.Value)
			return nil, false
		}
		return []string{r.Value}, true
	}
	items, ok := d.sequence(n, at, path)
	if !ok {
		return nil, false
	}
	if maxItems > 0 && len(items) > maxItems {
		d.add(at, path, "must have at most %d items, got %d", maxItems, len(items))
		return nil, false
	}
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	good := true
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := d.str(it, it, p)
		if !ok {
			good = false
			continue
		}
		if msg := check(s); msg != "" {
			d.add(it, p, "%s, got %q", msg, s)
			good = false
			continue
		}
		if seen[s] {
			d.add(it, p, "%q is listed twice", s)
			good = false
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, good
}

// number returns the numeric scalar n as a float64, requiring a whole
// number when whole is true.
func (d *decoder) number(n, at *yaml.Node, path string, whole bool) (float64, bool) {
	r := resolve(n)
	want := "a number"
	if whole {
		want = "a whole number"
	}
	if r == nil || r.Kind != yaml.ScalarNode {
		d.add(at, path, "must be %s, got %s", want, describe(r))
		return 0, false
	}
	switch tag := r.ShortTag(); {
	case tag == "!!int":
		var i int64
		if err := r.Decode(&i); err != nil {
			d.add(at, path, "must be %s that fits in 64 bits, got %s", want, describe(r))
			return 0, false
		}
		return float64(i), true
	case tag == "!!float":
		var f float64
		if err := r.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.add(at, path, "must be a finite number, got %s", describe(r))
			return 0, false
		}
		if whole && f != math.Trunc(f) {
			d.add(at, path, "must be a whole number, got %s", describe(r))
			return 0, false
		}
		// A whole number written as 1e3 or too large for int64 is still
		// whole; the caller's range check judges its size.
		return f, true
	}
	d.add(at, path, "must be %s, got %s", want, describe(r))
	return 0, false
}

// boolean returns the boolean scalar n (only true and false).
func (d *decoder) boolean(n, at *yaml.Node, path string) (bool, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" {
		d.add(at, path, "must be true or false, got %s", describe(r))
		return false, false
	}
	var b bool
	if err := r.Decode(&b); err != nil {
		d.add(at, path, "must be true or false, got %s", describe(r))
		return false, false
	}
	return b, true
}

func isNull(n *yaml.Node) bool {
	r := resolve(n)
	return r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null"
}

// formatNumber prints a limit or value without a spurious ".0".
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
