package audit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestListParsesItsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		filter  patchpanda.AuditFilter
		limit   int
		wantErr string
	}{
		{name: "the last 50", limit: 50},
		{name: "by action and subject", args: []string{"--action", "key.created", "--subject", "api_key:3", "-L", "2"},
			filter: patchpanda.AuditFilter{Action: "key.created", Subject: "api_key:3"}, limit: 2},
		{name: "an argument", args: []string{"key.created"}, wantErr: "usage: ppctl audit list"},
		{name: "a zero limit", args: []string{"--limit", "0"}, wantErr: "--limit 0: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newList, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.filter, opts.Filter); diff != "" || opts.Limit != tt.limit {
				t.Errorf("limit %d, want %d; filter (-want +got):\n%s", opts.Limit, tt.limit, diff)
			}
		})
	}
}

func TestVerifyParsesItsHead(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		args    []string
		want    *patchpanda.AuditHead
		wantErr string
	}{
		{name: "no head"},
		{name: "a head from the log", args: []string{"--head", "12:" + hash}, want: &patchpanda.AuditHead{ID: 12, Hash: hash}},
		{name: "a head that is not hex", args: []string{"--head", "6:nothex"}, wantErr: "6:nothex"},
		{name: "an argument", args: []string{"12"}, wantErr: "usage: ppctl audit verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newVerify, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, opts.Head); diff != "" {
				t.Errorf("head (-want +got):\n%s", diff)
			}
		})
	}
}
