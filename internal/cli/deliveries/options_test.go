package deliveries

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
)

func TestListParsesItsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		state   string
		limit   int
		json    bool
		wantErr string
	}{
		{name: "failed ones by default", state: "failed", limit: 30},
		{name: "all of them", args: []string{"--state", "all", "-L", "500", "--json"}, state: "", limit: 500, json: true},
		{name: "pending ones", args: []string{"--state", "pending"}, state: "pending", limit: 30},
		{name: "an unknown state", args: []string{"--state", "lost"}, wantErr: `--state "lost" is not one of pending, done, failed, all`},
		{name: "a zero limit", args: []string{"--limit", "0"}, wantErr: "--limit 0 is not between 1 and 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newList, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if opts.State != tt.state || opts.Limit != tt.limit || (opts.Exporter != nil) != tt.json {
				t.Errorf("state %q, limit %d, json %v; want %q, %d, %v", opts.State, opts.Limit, opts.Exporter != nil, tt.state, tt.limit, tt.json)
			}
		})
	}
}

func TestRetryParsesItsIDs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []int64
		wantErr string
	}{
		{"one id", []string{"4"}, []int64{4}, ""},
		{"several ids in order", []string{"9", " 2 ", "5"}, []int64{9, 2, 5}, ""},
		{"none", nil, nil, "usage: ppctl deliveries retry ID…"},
		{"a guid instead of an id", []string{"72d3162e-cc78"}, nil, `"72d3162e-cc78" is not a delivery id`},
		{"a negative id", []string{"-3"}, nil, "not a delivery id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 {
				args = append([]string{"--"}, args...)
			}
			opts, err := factorytest.Parse(t, factorytest.New(t), newRetry, args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, opts.IDs); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}
