package config

import (
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// setting is one key's value as a file set it, with where it was set.
// value is a bool, int, float64, string, []string, or nil (null).
type setting struct {
	value  any
	line   int
	column int
}

// RepoConfig is one parsed .testbot.yml (or the defaults section of a
// server config): only the keys the file sets. A nil *RepoConfig stands for
// a missing file. It is not changed after parsing.
type RepoConfig struct {
	// File is the name used in problems and violations.
	File     string
	settings map[string]setting
}

// ParseRepoConfig parses a .testbot.yml strictly: unknown keys, wrong types,
// duplicate keys and out-of-range values are all reported, each with file,
// line, column and key path. An empty file (or one holding only comments)
// sets nothing, so the defaults apply. On failure it returns a nil config
// and a ValidationErrors listing every problem found. It never panics.
func ParseRepoConfig(file string, data []byte) (*RepoConfig, error) {
	d := &decoder{file: file}
	c := &RepoConfig{File: file, settings: map[string]setting{}}
	if root := d.document(data); root != nil {
		d.object(schema, root, nil, "", c.settings)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// object reads the mapping n against the object field f into out. at is
// the key whose value n is (nil for the root); errPrefix goes before every
// key path in problems (for a server config's "defaults" section).
func (d *decoder) object(f *field, n, at *yaml.Node, errPrefix string, out map[string]setting) {
	where := joinPath(errPrefix, f.path)
	if at == nil {
		at = n
	}
	r := resolve(n)
	if r != nil && r.Kind != yaml.MappingNode && !isNull(r) {
		d.add(at, where, "must be a mapping, got %s", describe(r))
		return
	}
	d.mapping(n, where, func(key string, k, v *yaml.Node) {
		c := f.child(key)
		if c == nil {
			d.add(k, joinPath(where, key), "unknown key; the keys here are %s", strings.Join(f.childNames(), ", "))
			return
		}
		if c.leaf() {
			if val, ok := d.leaf(c, v, k, joinPath(errPrefix, c.path)); ok {
				out[c.path] = setting{value: val, line: k.Line, column: k.Column}
			}
			return
		}
		d.object(c, v, k, errPrefix, out)
	})
}

// leaf reads the value n of the leaf field f, reporting problems at the key
// node at under path.
func (d *decoder) leaf(f *field, n, at *yaml.Node, path string) (any, bool) {
	if f.nullable && isNull(n) {
		return nil, true
	}
	switch f.kind {
	case kindBool:
		return d.boolean(n, at, path)
	case kindInt, kindNumber:
		v, ok := d.number(n, at, path, f.kind == kindInt)
		if !ok {
			return nil, false
		}
		if v < f.min || v > f.max {
			got := resolve(n).Value // as written: 1e30 rather than 1000000000000000000000000000000
			if f.min == f.max {
				d.add(at, path, "must be %s, got %s", formatNumber(f.min), got)
			} else {
				d.add(at, path, "must be between %s and %s, got %s", formatNumber(f.min), formatNumber(f.max), got)
			}
			return nil, false
		}
		if f.kind == kindInt {
			return int(v), true
		}
		return v, true
	case kindString:
		s, ok := d.str(n, at, path)
		if !ok {
			return nil, false
		}
		if utf8.RuneCountInString(s) > f.maxLen && f.maxLen > 0 {
			d.add(at, path, "must be at most %d characters, got %d", f.maxLen, utf8.RuneCountInString(s))
			return nil, false
		}
		if msg := f.checkString(s); msg != "" {
			d.add(at, path, "%s, got %q", msg, s)
			return nil, false
		}
		return s, true
	case kindStringList:
		return d.strList(n, at, path, false, f.maxLen, f.checkString)
	case kindActions:
		if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!bool" {
			b, ok := d.boolean(n, at, path)
			if b {
				return slices.Clone(defaultPullRequestActions), ok
			}
			return []string{}, ok
		}
		if r := resolve(n); r == nil || r.Kind != yaml.SequenceNode {
			d.add(at, path, "must be true, false or a list of %s; got %s", strings.Join(f.enum, ", "), describe(r))
			return nil, false
		}
		return d.strList(n, at, path, false, len(f.enum), f.checkString)
	}
	d.add(at, path, "unsupported key type")
	return nil, false
}

// checkString returns what is wrong with s as a value (or list item) of f,
// or "". The message does not repeat s.
func (f *field) checkString(s string) string {
	if len(f.enum) > 0 && !slices.Contains(f.enum, s) {
		return "must be one of " + strings.Join(f.enum, ", ")
	}
	if f.item != nil {
		if msg := f.item(s); msg != "" {
			return msg
		}
	}
	return ""
}

// Keys returns the leaf key paths c sets, in schema order. It returns nil
// for a nil c.
func (c *RepoConfig) Keys() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, f := range leaves() {
		if _, ok := c.settings[f.path]; ok {
			out = append(out, f.path)
		}
	}
	return out
}

// Position returns the line and column of the key at path in c's file, and
// false when c does not set it.
func (c *RepoConfig) Position(path string) (line, column int, ok bool) {
	if c == nil {
		return 0, 0, false
	}
	s, ok := c.settings[path]
	return s.line, s.column, ok
}

// Config returns the built-in defaults overlaid with the keys c sets, with
// no server config involved. A nil c gives the defaults.
func (c *RepoConfig) Config() Config {
	vals := defaultValues()
	if c != nil {
		for p, s := range c.settings {
			vals[p] = s.value
		}
	}
	return build(vals)
}

// Defaults returns the built-in default configuration.
func Defaults() Config { return build(defaultValues()) }

func defaultValues() map[string]any {
	vals := map[string]any{}
	for _, f := range leaves() {
		vals[f.path] = f.def
	}
	return vals
}

// build makes a Config from leaf values keyed by path. Every schema leaf
// has a field in Config at the same JSON path (a test checks it), so build
// cannot fail on values the parser produced.
func build(vals map[string]any) Config {
	var c Config
	for _, f := range leaves() {
		setPath(reflect.ValueOf(&c).Elem(), strings.Split(f.path, "."), vals[f.path])
	}
	return c
}

// setPath stores v in the struct field reached by following JSON names.
// It reports whether it found a field of a fitting type.
func setPath(s reflect.Value, names []string, v any) bool {
	if s.Kind() != reflect.Struct || len(names) == 0 {
		return false
	}
	t := s.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag != names[0] {
			continue
		}
		fv := s.Field(i)
		if len(names) > 1 {
			return setPath(fv, names[1:], v)
		}
		return setValue(fv, v)
	}
	return false
}

func setValue(fv reflect.Value, v any) bool {
	switch x := v.(type) {
	case bool:
		if fv.Kind() == reflect.Bool {
			fv.SetBool(x)
			return true
		}
	case int:
		if fv.Kind() == reflect.Int {
			fv.SetInt(int64(x))
			return true
		}
	case float64:
		switch fv.Kind() {
		case reflect.Float64:
			fv.SetFloat(x)
			return true
		case reflect.Pointer:
			if fv.Type().Elem().Kind() == reflect.Float64 {
				p := reflect.New(fv.Type().Elem())
				p.Elem().SetFloat(x)
				fv.Set(p)
				return true
			}
		}
	case string:
		if fv.Kind() == reflect.String {
			fv.SetString(x)
			return true
		}
	case []string:
		if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
			fv.Set(reflect.ValueOf(append([]string{}, x...)))
			return true
		}
	case nil:
		if fv.Kind() == reflect.Pointer {
			fv.Set(reflect.Zero(fv.Type()))
			return true
		}
	}
	return false
}
