package httpapi_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// specPath is the OpenAPI description of the routes this package serves.
const specPath = "../../docs/openapi.yaml"

// TestOpenAPISpecIsWellFormed checks what a reader of docs/openapi.yaml
// relies on before any route: it parses, names its version, every $ref
// points at something, and every path template has its parameters.
func TestOpenAPISpecIsWellFormed(t *testing.T) {
	doc := loadSpec(t)

	if v := scalar(lookup(doc, "openapi")); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("%s: openapi is %q, want 3.1.x", specPath, v)
	}
	info := lookup(doc, "info")
	if info == nil {
		t.Fatalf("%s: no info object", specPath)
	}
	for _, field := range []string{"title", "version"} {
		if scalar(lookup(info, field)) == "" {
			t.Errorf("%s: info.%s is missing or empty", specPath, field)
		}
	}

	walk(doc, func(key, value *yaml.Node) {
		if key.Value != "$ref" {
			return
		}
		if value.Kind != yaml.ScalarNode || !strings.HasPrefix(value.Value, "#/") {
			t.Errorf("%s:%d: $ref %q is not a local reference (#/…)", specPath, value.Line, value.Value)
			return
		}
		if _, err := resolve(doc, value.Value); err != nil {
			t.Errorf("%s:%d: $ref %q does not resolve: %v", specPath, value.Line, value.Value, err)
		}
	})

	for _, op := range specOperations(t, doc) {
		want := templateParams(op.path)
		got := map[string]bool{}
		for _, params := range []*yaml.Node{lookup(op.pathItem, "parameters"), lookup(op.node, "parameters")} {
			if params == nil {
				continue
			}
			for _, p := range params.Content {
				if ref := scalar(lookup(p, "$ref")); ref != "" {
					if p, _ = resolve(doc, ref); p == nil {
						continue // reported above
					}
				}
				if scalar(lookup(p, "in")) == "path" {
					got[scalar(lookup(p, "name"))] = true
				}
			}
		}
		for name := range want {
			if !got[name] {
				t.Errorf("%s:%d: %s has {%s} in its path but no path parameter named %q", specPath, op.node.Line, op.key, name, name)
			}
		}
		for name := range got {
			if !want[name] {
				t.Errorf("%s:%d: %s declares path parameter %q that its path does not have", specPath, op.node.Line, op.key, name)
			}
		}
	}
}

// TestOpenAPIDescribesEveryRoute fails for each route registered in this
// package's source that docs/openapi.yaml lacks, for each operation there
// that no route serves, and for each operation whose scope differs from
// the one the route requires.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadSpec(t)
	routes := sourceRoutes(t)
	if len(routes) == 0 {
		t.Fatal("found no mux.Handle/mux.HandleFunc routes in internal/httpapi; has the registration style changed?")
	}
	ops := map[string]specOperation{}
	for _, op := range specOperations(t, doc) {
		ops[op.key] = op
	}

	for _, key := range sortedKeys(routes) {
		r := routes[key]
		op, ok := ops[key]
		if !ok {
			t.Errorf("route %q (registered at %s) is missing from %s: add the operation", key, r.pos, specPath)
			continue
		}
		specScope := scalar(lookup(op.node, "x-scope"))
		if specScope != r.scope {
			t.Errorf("%s:%d: %s has x-scope %q, but the route (registered at %s) requires %q", specPath, op.node.Line, key, specScope, r.pos, r.scope)
		}
		security := lookup(op.node, "security")
		switch {
		case security == nil:
			t.Errorf("%s:%d: %s has no security requirement; use security: [] for a public route", specPath, op.node.Line, key)
		case r.scope == "" && len(security.Content) != 0:
			t.Errorf("%s:%d: %s lists a security requirement, but the route (registered at %s) is public", specPath, op.node.Line, key, r.pos)
		case r.scope != "" && len(security.Content) == 0:
			t.Errorf("%s:%d: %s has security: [], but the route (registered at %s) requires the %q scope", specPath, op.node.Line, key, r.pos, r.scope)
		}
		if r.scope != "" && security != nil {
			for _, req := range security.Content {
				for i := 0; i+1 < len(req.Content); i += 2 {
					if !slices.Contains(scalars(req.Content[i+1]), r.scope) {
						t.Errorf("%s:%d: %s: security scheme %q does not list the %q scope the route requires", specPath, req.Line, key, req.Content[i].Value, r.scope)
					}
				}
			}
			responses := lookup(op.node, "responses")
			for _, status := range []string{"401", "403"} {
				if lookup(responses, status) == nil {
					t.Errorf("%s:%d: %s requires a scope but documents no %s response", specPath, op.node.Line, key, status)
				}
			}
		}
	}
	for _, key := range sortedKeys(ops) {
		if _, ok := routes[key]; !ok {
			t.Errorf("%s:%d: %s is documented, but no route in internal/httpapi serves it", specPath, ops[key].node.Line, key)
		}
	}
}

// route is one mux registration found in the source.
type route struct {
	pos   string // file:line
	scope string // the scope Server.Require checks; "" for a public route
}

// sourceRoutes parses this package's non-test files and returns their
// mux.Handle and mux.HandleFunc registrations, keyed "METHOD /path",
// skipping the catch-all "/". A pattern it cannot evaluate to a constant
// string fails the test, so that no route is skipped silently.
func sourceRoutes(t *testing.T) map[string]route {
	t.Helper()
	scopes := scopeValues(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]route{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		consts := stringConsts(f)
		wrappers := scopeWrappers(f)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isMuxRegistration(call) || len(call.Args) != 2 {
				return true
			}
			pos := fset.Position(call.Pos())
			where := fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)
			pattern, ok := evalString(call.Args[0], consts)
			if !ok {
				t.Errorf("%s: cannot read the route pattern as a constant string; keep patterns to literals and constants joined with +", where)
				return true
			}
			if pattern == "/" {
				return true // the catch-all answering 404
			}
			method, path, ok := strings.Cut(pattern, " ")
			if !ok || strings.HasPrefix(method, "/") {
				t.Errorf("%s: route %q has no method, so it serves every method; give it one", where, pattern)
				return true
			}
			key := method + " " + strings.TrimSpace(path)
			if prev, dup := routes[key]; dup {
				t.Errorf("%s: route %q is registered again (first at %s)", where, key, prev.pos)
			}
			routes[key] = route{pos: where, scope: requiredScope(t, where, call.Args[1], wrappers, scopes)}
			return true
		})
	}
	return routes
}

func isMuxRegistration(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "mux"
}

// requiredScope returns the scope constant's value that handler h is
// wrapped in (s.Require(patchpanda.ScopeX, …) or a local wrapper such as
// admin(…) that calls it), or "" for a handler without one.
func requiredScope(t *testing.T, where string, h ast.Expr, wrappers map[string]string, scopes map[string]string) string {
	t.Helper()
	call, ok := h.(*ast.CallExpr)
	if !ok {
		return ""
	}
	var name string
	switch fun := call.Fun.(type) {
	case *ast.SelectorExpr:
		if fun.Sel.Name != "Require" || len(call.Args) == 0 {
			return ""
		}
		name = scopeName(call.Args[0])
	case *ast.Ident:
		if name = wrappers[fun.Name]; name == "" {
			return ""
		}
	default:
		return ""
	}
	v, ok := scopes[name]
	if !ok {
		t.Errorf("%s: the route requires scope %q, which is not a Scope constant of internal/patchpanda", where, name)
	}
	return v
}

// scopeName returns X of patchpanda.X, or "".
func scopeName(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return ""
}

// scopeWrappers finds local helpers of the form
// name := func(…) … { return s.Require(patchpanda.ScopeX, …) } and maps
// name to ScopeX.
func scopeWrappers(f *ast.File) map[string]string {
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return true
		}
		id, ok1 := as.Lhs[0].(*ast.Ident)
		lit, ok2 := as.Rhs[0].(*ast.FuncLit)
		if !ok1 || !ok2 || len(lit.Body.List) != 1 {
			return true
		}
		ret, ok := lit.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return true
		}
		if call, ok := ret.Results[0].(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Require" && len(call.Args) > 0 {
				out[id.Name] = scopeName(call.Args[0])
			}
		}
		return true
	})
	return out
}

// scopeValues reads the Scope constants of internal/patchpanda, so that
// patchpanda.ScopeAdmin in a route becomes "admin".
func scopeValues(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../patchpanda/*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for k, v := range stringConsts(f) {
			if strings.HasPrefix(k, "Scope") {
				out[k] = v
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Scope constants in internal/patchpanda")
	}
	return out
}

// stringConsts returns the file's string constants, package-level or
// local, whose values are constant string expressions. A name declared
// twice with different values is left out, so using it fails loudly.
func stringConsts(f *ast.File) map[string]string {
	out := map[string]string{}
	clash := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		gd, ok := n.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			return true
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if i >= len(vs.Values) {
					break
				}
				v, ok := evalString(vs.Values[i], out)
				if !ok {
					continue
				}
				if prev, seen := out[id.Name]; seen && prev != v {
					clash[id.Name] = true
				}
				out[id.Name] = v
			}
		}
		return true
	})
	for name := range clash {
		delete(out, name)
	}
	return out
}

// evalString evaluates string literals, known constants and + between
// them.
func evalString(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	case *ast.ParenExpr:
		return evalString(e.X, consts)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, ok1 := evalString(e.X, consts)
		r, ok2 := evalString(e.Y, consts)
		return l + r, ok1 && ok2
	}
	return "", false
}

// specOperation is one operation of the spec, keyed "METHOD /path" as a
// ServeMux pattern is.
type specOperation struct {
	key      string
	path     string
	pathItem *yaml.Node
	node     *yaml.Node
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func specOperations(t *testing.T, doc *yaml.Node) []specOperation {
	t.Helper()
	paths := lookup(doc, "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		t.Fatalf("%s: no paths object", specPath)
	}
	var out []specOperation
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			m := item.Content[j].Value
			if !slices.Contains(httpMethods, m) {
				continue
			}
			out = append(out, specOperation{key: strings.ToUpper(m) + " " + path, path: path, pathItem: item, node: item.Content[j+1]})
		}
	}
	return out
}

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

func templateParams(path string) map[string]bool {
	out := map[string]bool{}
	for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
		out[m[1]] = true
	}
	return out
}

func loadSpec(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatalf("read the API description: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s does not parse as YAML: %v", specPath, err)
	}
	// Decoding into a generic value also rejects duplicate keys, which a
	// yaml.Node keeps silently.
	var generic any
	if err := yaml.Unmarshal(b, &generic); err != nil {
		t.Fatalf("%s does not parse as YAML: %v", specPath, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: the document is not a mapping", specPath)
	}
	return doc.Content[0]
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func scalars(n *yaml.Node) []string {
	var out []string
	if n != nil {
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
	}
	return out
}

// walk calls fn for every key and value of every mapping under n.
func walk(n *yaml.Node, fn func(key, value *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			fn(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		walk(c, fn)
	}
}

// resolve follows a local JSON pointer ("#/components/schemas/Job").
func resolve(doc *yaml.Node, ref string) (*yaml.Node, error) {
	n := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n.Kind {
		case yaml.MappingNode:
			next := lookup(n, tok)
			if next == nil {
				return nil, fmt.Errorf("no %q", tok)
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil, fmt.Errorf("no item %q", tok)
			}
			n = n.Content[i]
		default:
			return nil, fmt.Errorf("%q is inside a scalar", tok)
		}
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
