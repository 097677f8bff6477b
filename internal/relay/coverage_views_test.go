package relay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// TestCoverageViewsOverREST reads the commit, file and pull request views
// the dashboard shows, over the REST API.
func TestCoverageViewsOverREST(t *testing.T) {
	w := sqliteWorld(t)
	seedDashboard(t, w)
	ctx := context.Background()
	_, reader, err := w.relay.Keys.Create(ctx, "reader", []patchpanda.Scope{patchpanda.ScopeCoverageRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, jobsOnly, err := w.relay.Keys.Create(ctx, "jobs", []patchpanda.Scope{patchpanda.ScopeJobsRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	get := func(key, path string, into any) int {
		t.Helper()
		req, _ := http.NewRequest("GET", w.relay.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK && into != nil {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	commit := "/api/coverage/commits/acme/widgets/" + mainSHAs[2]

	var c coverage.CommitFiles
	if code := get(reader, commit, &c); code != http.StatusOK || len(c.Files) != 2 || c.Files[0].Path != "pkg/a.go" || c.Sessions != 1 {
		t.Errorf("commit files: %d %+v", code, c)
	}
	var f coverage.FileView
	if code := get(reader, commit+"/file?path="+url.QueryEscape("pkg/a.go"), &f); code != http.StatusOK {
		t.Fatalf("file: %d", code)
	}
	if len(f.Source) != 8 || f.Source[2] != "func Add(a, b int) int {" || f.SourceError != "" {
		t.Errorf("file source %q (%s), want pkg/a.go at the commit", f.Source, f.SourceError)
	}
	if i := slices.IndexFunc(f.Lines, func(l coverage.Line) bool { return l.Number == 4 }); i < 0 || f.Lines[i].Hits != 0 {
		t.Errorf("line 4 of %+v, want it missed", f.Lines)
	}
	var p coverage.PullRequest
	if code := get(reader, "/api/coverage/pulls/acme/widgets/7", &p); code != http.StatusOK || p.Patch == nil {
		t.Fatalf("pull: %d %+v", code, p)
	}
	if p.Patch.Coverable != 3 || p.Patch.Covered != 1 || len(p.Patch.Files) != 1 || !slices.Equal(p.Patch.Files[0].Missed, []int{5, 6}) || p.Title != "Handle negative numbers" {
		t.Errorf("pull request patch coverage %+v", *p.Patch)
	}
	for _, tt := range []struct {
		name, key, path string
		want            int
	}{
		{"a key without coverage:read", jobsOnly, commit, http.StatusForbidden},
		{"a short sha", reader, "/api/coverage/commits/acme/widgets/abc123", http.StatusBadRequest},
		{"a commit without coverage", reader, "/api/coverage/commits/acme/widgets/" + baseSHA, http.StatusNotFound},
		{"a file the coverage lacks", reader, commit + "/file?path=nope.go", http.StatusNotFound},
		{"no path", reader, commit + "/file", http.StatusBadRequest},
		{"a pull request without coverage", reader, "/api/coverage/pulls/acme/widgets/8", http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code := get(tt.key, tt.path, nil); code != tt.want {
				t.Errorf("GET %s: %d, want %d", tt.path, code, tt.want)
			}
		})
	}
}
