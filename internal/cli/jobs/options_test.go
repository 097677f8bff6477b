package jobs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestListParsesItsFlags(t *testing.T) {
	tests := []struct {
		name        string
		defaultRepo string
		args        []string
		want        patchpanda.JobFilter
		all, json   bool
		wantErr     string
	}{
		{name: "defaults", want: patchpanda.JobFilter{Limit: 30}},
		{name: "every filter", args: []string{"-R", "acme/app", "--state", "failed", "--trigger", "replay", "--since", "2026-01-02", "-L", "5", "--all", "--json"},
			want: patchpanda.JobFilter{Repository: "acme/app", State: patchpanda.JobFailed, Trigger: patchpanda.TriggerReplay,
				Since: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Limit: 5}, all: true, json: true},
		{name: "the gh repository is the default", defaultRepo: "octo/cat", want: patchpanda.JobFilter{Repository: "octo/cat", Limit: 30}},
		{name: "--repo wins over the gh repository", defaultRepo: "octo/cat", args: []string{"--repo", "acme/app"}, want: patchpanda.JobFilter{Repository: "acme/app", Limit: 30}},
		{name: "a bad repository", args: []string{"--repo", "acme"}, wantErr: `--repo "acme" is not of the form owner/name`},
		{name: "a bad state", args: []string{"--state", "done"}, wantErr: "--state"},
		{name: "a bad trigger", args: []string{"--trigger", "cron"}, wantErr: "--trigger"},
		{name: "a bad since", args: []string{"--since", "yesterday"}, wantErr: `--since "yesterday"`},
		{name: "a limit too large", args: []string{"--limit", "501"}, wantErr: "--limit 501 must be between 1 and 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := factorytest.New(t)
			f.DefaultRepo = func() string { return tt.defaultRepo }
			opts, err := factorytest.Parse(t, f, newList, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, opts.Filter); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			if opts.All != tt.all || (opts.Exporter != nil) != tt.json {
				t.Errorf("all %v, json %v; want %v, %v", opts.All, opts.Exporter != nil, tt.all, tt.json)
			}
		})
	}
}

func TestListReadsSinceAsADurationBackFromNow(t *testing.T) {
	opts, err := factorytest.Parse(t, factorytest.New(t), newList, "--since", "7d")
	if err != nil {
		t.Fatal(err)
	}
	if ago := time.Since(opts.Filter.Since); ago < 7*24*time.Hour || ago > 7*24*time.Hour+time.Hour {
		t.Errorf("--since 7d is %s ago", ago)
	}
}

func TestShowAndReplayTakeOneID(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"an id", []string{"j_1"}, "j_1", ""},
		{"spaces around the id", []string{" j_2 "}, "j_2", ""},
		{"no id", nil, "", "usage: ppctl jobs VERB ID"},
		{"two ids", []string{"j_1", "j_2"}, "", "usage: ppctl jobs VERB ID"},
		{"a blank id", []string{" "}, "", "usage: ppctl jobs VERB ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			show, err := factorytest.Parse(t, factorytest.New(t), newShow, tt.args...)
			if factorytest.Parsed(t, err, strings.Replace(tt.wantErr, "VERB", "show", 1)) && show.ID != tt.want {
				t.Errorf("show: id %q, want %q", show.ID, tt.want)
			}
			replay, err := factorytest.Parse(t, factorytest.New(t), newReplay, append([]string{"--json"}, tt.args...)...)
			if factorytest.Parsed(t, err, strings.Replace(tt.wantErr, "VERB", "replay", 1)) && (replay.ID != tt.want || replay.Exporter == nil) {
				t.Errorf("replay: id %q (json %v), want %q with JSON", replay.ID, replay.Exporter != nil, tt.want)
			}
		})
	}
}

func TestWatchParsesItsFlags(t *testing.T) {
	tests := []struct {
		name        string
		defaultRepo string
		args        []string
		want        WatchOptions
		wantErr     string
	}{
		{name: "the active jobs every 2s", want: WatchOptions{Interval: 2 * time.Second}},
		{name: "one job", args: []string{"-i", "500ms", "j_9"}, want: WatchOptions{ID: "j_9", Interval: 500 * time.Millisecond}},
		{name: "the active jobs of a repository", args: []string{"-R", "acme/app"}, want: WatchOptions{Repo: "acme/app", Interval: 2 * time.Second}},
		{name: "the gh repository without an id", defaultRepo: "octo/cat", want: WatchOptions{Repo: "octo/cat", Interval: 2 * time.Second}},
		{name: "no gh repository with an id", defaultRepo: "octo/cat", args: []string{"j_1"}, want: WatchOptions{ID: "j_1", Interval: 2 * time.Second}},
		{name: "two ids", args: []string{"a", "b"}, wantErr: "usage: ppctl jobs watch [ID]"},
		{name: "a zero interval", args: []string{"--interval", "0s"}, wantErr: "--interval 0s must be positive"},
		{name: "a bad repository", args: []string{"--repo", "x"}, wantErr: `--repo "x" is not of the form owner/name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := factorytest.New(t)
			f.DefaultRepo = func() string { return tt.defaultRepo }
			opts, err := factorytest.Parse(t, f, newWatch, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			got := WatchOptions{ID: opts.ID, Repo: opts.Repo, Interval: opts.Interval}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// exporter is a fake factory.Exporter that keeps what it is given.
type exporter struct{ got []any }

func (e *exporter) Write(v any) error {
	e.got = append(e.got, v)
	return nil
}

func TestReplayRunsAgainstAFakeRelay(t *testing.T) {
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/jobs/j_1/replay" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id": "j_2", "attempt": 2, "state": "queued"}`)
	}))
	defer relay.Close()
	client := func() (*httpapi.Client, error) { return httpapi.NewClient(relay.URL, "ppk_test"), nil }

	t.Run("for a person", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		if err := replayRun(context.Background(), &ReplayOptions{IO: ios, Client: client, ID: "j_1"}); err != nil {
			t.Fatal(err)
		}
		if out.String() != "j_2\n" || !strings.Contains(errOut.String(), "Replayed j_1 as j_2 (attempt 2)") {
			t.Errorf("stdout %q, stderr %q", out, errOut)
		}
	})
	t.Run("as JSON", func(t *testing.T) {
		ios, _, out, _ := iostreams.Test()
		e := &exporter{}
		if err := replayRun(context.Background(), &ReplayOptions{IO: ios, Client: client, Exporter: e, ID: "j_1"}); err != nil {
			t.Fatal(err)
		}
		if len(e.got) != 1 || e.got[0].(*patchpanda.Job).ID != "j_2" || out.Len() != 0 {
			t.Errorf("exported %+v, stdout %q; want the new attempt alone", e.got, out)
		}
	})
}
