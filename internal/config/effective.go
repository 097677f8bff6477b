package config

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// origin is where an effective value came from.
type origin struct {
	value        any
	layer        string
	file         string
	line, column int
}

// Effective merges, for the repository repo ("owner/name"): the built-in
// defaults, the server config's defaults (top level, then each matching
// rule in order), the default branch's .testbot.yml (base) and the pull
// request head's .testbot.yml (head). Any of server, base and head may be
// nil.
//
// The head may change only keys that the last matching allowed_overrides
// list allows, and never a protected key; it may repeat the value already in
// force, which is not a change. Neither file may set a key a matching rule
// locks. Numeric values above a matching limit are clamped to it.
//
// Effective never fails: every rejected or clamped value gives a Violation
// (position in the file that set it, Rule naming what rejected it) and the
// returned Config is what applies without it. The dispatcher fails the
// check run when there are violations.
func Effective(server *Server, base, head *RepoConfig, repo string) (Config, []Violation) {
	vals := map[string]origin{}
	for _, f := range leaves() {
		vals[f.path] = origin{value: f.def}
	}
	rules := server.Matching(repo)
	file := ""
	if server != nil {
		file = server.File
	}

	allowed, allowedBy := []string{"*"}, ""
	type lock struct {
		path string
		rule Rule
	}
	var locked []lock
	limits := map[string]limitFrom{}
	for _, r := range rules {
		overlay(vals, r.Defaults)
		if r.AllowedOverrides != nil {
			allowed, allowedBy = r.AllowedOverrides, r.Name
		}
		for _, l := range r.Locked {
			locked = append(locked, lock{l, r})
		}
		for _, l := range r.Limits {
			limits[l.Path] = limitFrom{Limit: l, rule: r.Name}
		}
	}

	var out []Violation
	lockedBy := func(p string) (Rule, bool) {
		for _, l := range locked {
			if covers(l.path, p) {
				return l.rule, true
			}
		}
		return Rule{}, false
	}
	for i, c := range []*RepoConfig{base, head} {
		if c == nil {
			continue
		}
		isHead := i == 1
		layer := LayerBase
		if isHead {
			layer = LayerHead
		}
		for _, p := range c.Keys() {
			s := c.settings[p]
			v := func(rule, format string, args ...any) {
				out = append(out, Violation{Rule: rule, Layer: layer, ValidationError: ValidationError{
					File: c.File, Line: s.line, Column: s.column, Path: p, Message: fmt.Sprintf(format, args...)}})
			}
			if isHead && reflect.DeepEqual(vals[p].value, s.value) {
				continue // repeating what is in force is not a change
			}
			if r, ok := lockedBy(p); ok {
				v(r.Name, "locked by %s; only the server config sets it", ruleRef(r.Name))
				continue
			}
			if isHead && Protected(p) {
				v(RuleProtected, "a pull request cannot change a protected key; it comes only from the default branch or the server config")
				continue
			}
			if isHead && !allows(allowed, p) {
				what := "allows no overrides"
				if len(allowed) > 0 {
					what = "allows overriding only " + strings.Join(allowed, ", ")
				}
				v(allowedBy, "a pull request cannot change this key: %s %s", ruleRef(allowedBy), what)
				continue
			}
			vals[p] = origin{value: s.value, layer: layer, file: c.File, line: s.line, column: s.column}
		}
	}

	for _, f := range leaves() {
		l, ok := limits[f.path]
		if !ok {
			continue
		}
		o := vals[f.path]
		n, isNum := asFloat(o.value)
		if !isNum || n <= l.Max {
			continue
		}
		if o.file == "" { // a built-in default above the limit: point at the limit
			o.layer, o.file, o.line, o.column = LayerServer, file, l.Line, l.Column
		}
		out = append(out, Violation{Rule: l.rule, Layer: o.layer, ValidationError: ValidationError{
			File: o.file, Line: o.line, Column: o.column, Path: f.path,
			Message: fmt.Sprintf("%s is above the limit %s set by %s; %s is used", formatNumber(n), formatNumber(l.Max), ruleRef(l.rule), formatNumber(l.Max)),
		}})
		if f.kind == kindInt {
			o.value = int(l.Max)
		} else {
			o.value = l.Max
		}
		vals[f.path] = o
	}

	layerRank := map[string]int{LayerServer: 0, LayerBase: 1, LayerHead: 2}
	slices.SortStableFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(layerRank[a.Layer], layerRank[b.Layer]), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	plain := map[string]any{}
	for p, o := range vals {
		plain[p] = o.value
	}
	return build(plain), out
}

type limitFrom struct {
	Limit
	rule string
}

func overlay(vals map[string]origin, c *RepoConfig) {
	if c == nil {
		return
	}
	for p, s := range c.settings {
		vals[p] = origin{value: s.value, layer: LayerServer, file: c.File, line: s.line, column: s.column}
	}
}

// covers reports whether the key path pattern l ("*", "generate",
// "generate.paths") covers the leaf path p.
func covers(l, p string) bool {
	return l == "*" || l == p || strings.HasPrefix(p, l+".")
}

// allows reports whether a pull request may change p under the list.
// Protected keys are never allowed, whatever the list says.
func allows(list []string, p string) bool {
	if Protected(p) {
		return false
	}
	for _, l := range list {
		if covers(l, p) {
			return true
		}
	}
	return false
}

func ruleRef(name string) string {
	if name == "" {
		return "the built-in rules"
	}
	if name == ServerRule {
		return "the server config's top level"
	}
	return fmt.Sprintf("server rule %q", name)
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
