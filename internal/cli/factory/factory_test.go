package factory_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func TestJoinJSONValue(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"attaches a field list", []string{"ppctl", "jobs", "list", "--json", "id,state"}, []string{"ppctl", "jobs", "list", "--json=id,state"}},
		{"attaches one field with an underscore", []string{"ppctl", "--json", "created_at", "x"}, []string{"ppctl", "--json=created_at", "x"}},
		{"leaves --json alone at the end", []string{"ppctl", "jobs", "list", "--json"}, []string{"ppctl", "jobs", "list", "--json"}},
		{"leaves a path as an argument", []string{"ppctl", "coverage", "summary", "--json", "lcov.info"}, []string{"ppctl", "coverage", "summary", "--json", "lcov.info"}},
		{"leaves an id as an argument", []string{"ppctl", "jobs", "show", "--json", "42"}, []string{"ppctl", "jobs", "show", "--json", "42"}},
		{"leaves upper case as an argument", []string{"ppctl", "--json", "ID"}, []string{"ppctl", "--json", "ID"}},
		{"leaves an empty name as an argument", []string{"ppctl", "--json", "id,,state"}, []string{"ppctl", "--json", "id,,state"}},
		{"leaves a trailing comma as an argument", []string{"ppctl", "--json", "id,"}, []string{"ppctl", "--json", "id,"}},
		{"leaves an empty word as an argument", []string{"ppctl", "--json", ""}, []string{"ppctl", "--json", ""}},
		{"leaves a multi-line word as an argument", []string{"ppctl", "--json", "id\n"}, []string{"ppctl", "--json", "id\n"}},
		{"stops at --", []string{"ppctl", "--", "--json", "id"}, []string{"ppctl", "--", "--json", "id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, factory.JoinJSONValue(tt.args)); diff != "" {
				t.Errorf("JoinJSONValue(%q) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}
