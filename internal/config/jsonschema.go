package config

import (
	"encoding/json"
)

// JSONSchema returns the JSON Schema (draft 2020-12) of .testbot.yml that
// docs/testbot.schema.json holds, generated from the same schema the parser
// uses. Protected keys carry "x-patchpanda-protected": true and keys the
// server can cap carry "x-patchpanda-limitable": true.
func JSONSchema() []byte {
	root := jsonObject(schema)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = ".testbot.yml"
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		// Only maps, slices, strings, numbers and booleans go in.
		panic("config: marshal JSON Schema: " + err.Error())
	}
	return append(b, '\n')
}

func jsonObject(f *field) map[string]any {
	props := map[string]any{}
	for _, c := range f.children {
		if c.leaf() {
			props[c.name] = jsonLeaf(c)
		} else {
			props[c.name] = jsonObject(c)
		}
	}
	m := map[string]any{
		"type":                 []string{"object", "null"},
		"description":          f.doc,
		"additionalProperties": false,
		"properties":           props,
	}
	if f.protected {
		m["x-patchpanda-protected"] = true
	}
	return m
}

func jsonLeaf(f *field) map[string]any {
	m := map[string]any{"description": f.doc}
	switch f.kind {
	case kindBool:
		m["type"] = "boolean"
	case kindInt, kindNumber:
		typ := "number"
		if f.kind == kindInt {
			typ = "integer"
		}
		if f.nullable {
			m["type"] = []string{typ, "null"}
		} else {
			m["type"] = typ
		}
		if f.min == f.max {
			m["const"] = f.min
		} else {
			m["minimum"], m["maximum"] = f.min, f.max
		}
	case kindString:
		m["type"] = "string"
		if len(f.enum) > 0 {
			m["enum"] = f.enum
		} else {
			m["maxLength"] = f.maxLen
		}
	case kindStringList:
		item := map[string]any{"type": "string", "minLength": 1}
		if f.pattern != "" {
			item["pattern"] = f.pattern
		}
		m["type"] = "array"
		m["items"] = item
		m["maxItems"] = f.maxLen
		m["uniqueItems"] = true
	case kindActions:
		m["anyOf"] = []any{
			map[string]any{"type": "boolean"},
			map[string]any{"type": "array", "items": map[string]any{"enum": f.enum}, "uniqueItems": true},
		}
	}
	switch {
	case f.kind == kindActions:
		m["default"] = false
	default:
		m["default"] = f.def
	}
	if f.protected {
		m["x-patchpanda-protected"] = true
	}
	if f.limitable {
		m["x-patchpanda-limitable"] = true
	}
	return m
}
