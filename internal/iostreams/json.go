package iostreams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/cli/go-gh/v2/pkg/jq"
	"github.com/cli/go-gh/v2/pkg/template"
)

// Export says how to print a command's data as JSON, as gh's --json,
// --jq and --template do. The zero value prints every field.
type Export struct {
	// Fields, when not empty, keeps only these top-level keys of an object,
	// or of each object of an array.
	Fields []string
	// JQ filters the JSON with a jq expression.
	JQ string
	// Template formats the JSON with a Go template (go-gh's functions:
	// tablerow, timeago, color, join, pluck…).
	Template string
}

// Fields returns the JSON field names of v's type: the keys of a struct,
// or of the elements of a slice of structs, sorted. It returns nil for
// anything else (a map has no fixed fields).
func Fields(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	collectFields(t, &out)
	slices.Sort(out)
	return slices.Compact(out)
}

func collectFields(t reflect.Type, out *[]string) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		*out = append(*out, name)
	}
}

// PrintJSON prints v as e asks: every field as indented JSON, or the
// fields chosen, then filtered through jq or formatted by a template. It
// returns an error naming an unknown field, or the jq or template error.
func (s *IO) PrintJSON(v any, e Export) error {
	if len(e.Fields) > 0 {
		known := Fields(v)
		for _, f := range e.Fields {
			if !slices.Contains(known, f) {
				return fmt.Errorf("unknown JSON field %q; available fields:\n  %s", f, strings.Join(known, "\n  "))
			}
		}
		var err error
		if v, err = pick(v, e.Fields); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	switch {
	case e.JQ != "":
		if err := jq.Evaluate(bytes.NewReader(b), s.Out, e.JQ); err != nil {
			return fmt.Errorf("--jq: %w", err)
		}
		return nil
	case e.Template != "":
		t := template.New(s.Out, s.Width, s.OutTTY && s.Color())
		if err := t.Parse(e.Template); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		if err := t.Execute(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		return t.Flush()
	}
	_, err = fmt.Fprintf(s.Out, "%s\n", b)
	return err
}

// pick keeps only fields of v's JSON object, or of each object of its
// array.
func pick(v any, fields []string) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	keep := func(o any) any {
		m, ok := o.(map[string]any)
		if !ok {
			return o
		}
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			out[f] = m[f]
		}
		return out
	}
	if arr, ok := generic.([]any); ok {
		for i := range arr {
			arr[i] = keep(arr[i])
		}
		return arr, nil
	}
	return keep(generic), nil
}
