package coveragesvc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/actionsoidc"
	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/coveragesvc"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/keys"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

const (
	repo = "acme/widgets"
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
)

// fakeGitHub serves no files and pull requests based on baseSHA.
type fakeGitHub struct{ files map[string]string }

func (f fakeGitHub) Contents(ctx context.Context, inst int64, owner, name, path, ref string) (*githubapp.File, error) {
	if c, ok := f.files[path]; ok {
		return &githubapp.File{Path: path, Content: []byte(c)}, nil
	}
	return nil, fmt.Errorf("fake: %s: %w", path, githubapp.ErrNotFound)
}

func (f fakeGitHub) PullRequest(ctx context.Context, inst int64, owner, name string, number int) (*githubapp.PullRequest, error) {
	return &githubapp.PullRequest{Number: number, BaseSHA: shaA}, nil
}

type env struct {
	url      string
	key      string // coverage:write and coverage:read
	readOnly string
	issuer   *actionsoidctest.Issuer
	db       *store.DB
}

func setup(t *testing.T, db *store.DB, opts coveragesvc.Options, gh coveragesvc.GitHub) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertInstallation(ctx, 100, "acme", []patchpanda.Repository{{Owner: "acme", Name: "widgets", ID: 1}, {Owner: "acme", Name: "other", ID: 2}}); err != nil {
		t.Fatal(err)
	}
	if opts.BlobURL == "" {
		opts.BlobDir = t.TempDir()
	}
	if opts.MaxUploadBytes == 0 {
		opts.MaxUploadBytes = 1 << 20
	}
	opts.TempDir = t.TempDir()
	if gh == nil {
		gh = fakeGitHub{}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := coveragesvc.New(ctx, db, gh, logger, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ks := keys.NewService(db)
	_, key, err := ks.Create(ctx, "ci", []patchpanda.Scope{patchpanda.ScopeCoverageWrite, patchpanda.ScopeCoverageRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, ro, err := ks.Create(ctx, "reader", []patchpanda.Scope{patchpanda.ScopeCoverageRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	iss := actionsoidctest.New(t)
	v, err := actionsoidc.New(actionsoidc.Options{Issuer: iss.URL(), Audience: "patchpanda", HTTPClient: iss.Client()})
	if err != nil {
		t.Fatal(err)
	}
	api := &httpapi.Server{Logger: logger, Auth: actionsoidc.Chain{Keys: ks, Actions: v},
		Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.CoverageRoutes(svc)}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, key: key, readOnly: ro, issuer: iss, db: db}
}

type upload struct {
	query    string // without repo= when it starts with "&"
	body     []byte
	token    string
	encoding string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) post(t *testing.T, u upload) answer {
	t.Helper()
	q := u.query
	if !strings.Contains(q, "repo=") {
		q = "repo=" + repo + "&" + q
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/api/coverage?"+q, bytes.NewReader(u.body))
	req.Header.Set("Authorization", "Bearer "+u.token)
	if u.encoding != "" {
		req.Header.Set("Content-Encoding", u.encoding)
	}
	return do(t, req)
}

func (e *env) get(t *testing.T, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	a := do(t, req)
	if a.status == 200 && out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			t.Fatal(err)
		}
	}
	return a.status
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// lcov returns an LCOV report of one file with the given hits per line.
func lcov(path string, hits ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "TN:\nSF:%s\n", path)
	for i, h := range hits {
		fmt.Fprintf(&b, "DA:%d,%d\n", i+1, h)
	}
	b.WriteString("end_of_record\n")
	return b.String()
}

func withFiles(report string, files ...string) []byte {
	return []byte(coverage.FilesHeader + strings.Join(files, "\n") + "\n" + coverage.ReportHeader + report)
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
	return v
}

func TestUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db, coveragesvc.Options{UploadsPerMinute: 1000}, nil)
		report := lcov("/home/runner/work/widgets/widgets/pkg/a.go", 1, 0, 3, 0)
		good := e.issuer.Token(t, repo, "patchpanda", time.Hour, actionsoidctest.IDs(1, 99))
		bomb := gz(t, bytes.Repeat([]byte("DA:1,1\n"), 3<<20/7)) // 3 MiB of LCOV from ~10 KiB
		tests := []struct {
			name       string
			up         upload
			wantStatus int
			wantMsg    string
		}{
			{"an API key uploads a report", upload{query: "sha=" + shaA + "&flag=unit", body: withFiles(report, "pkg/a.go", "go.mod"), token: e.key}, 201, ""},
			{"a gzip body is read", upload{query: "sha=" + shaA + "&flag=gz", body: gz(t, []byte(report)), token: e.key, encoding: "gzip"}, 201, ""},
			{"gzip without the header is read too", upload{query: "sha=" + shaA + "&flag=gz2", body: gz(t, []byte(report)), token: e.key}, 201, ""},
			{"an Actions token for the repository uploads", upload{query: "sha=" + shaA + "&flag=oidc", body: []byte(report), token: good}, 201, ""},
			{"an Actions token for another repository is refused", upload{query: "repo=acme/other&sha=" + shaA, body: []byte(report), token: good}, 403, "is for acme/widgets"},
			{"an expired Actions token is refused", upload{query: "sha=" + shaA, body: []byte(report), token: e.issuer.Token(t, repo, "patchpanda", -time.Minute, nil)}, 401, "expired"},
			{"an Actions token for another audience is refused", upload{query: "sha=" + shaA, body: []byte(report), token: e.issuer.Token(t, repo, "someone-else", time.Hour, nil)}, 401, "audience"},
			{"a key without coverage:write is refused", upload{query: "sha=" + shaA, body: []byte(report), token: e.readOnly}, 403, "coverage:write"},
			{"an oversize body is refused", upload{query: "sha=" + shaA, body: []byte(report + strings.Repeat("# padding\n", 120<<10)), token: e.key}, 413, "larger than"},
			{"a gzip bomb is refused", upload{query: "sha=" + shaA, body: bomb, token: e.key, encoding: "gzip"}, 413, "after decompression"},
			{"a malformed report names the format and line", upload{query: "sha=" + shaA, body: []byte("TN:\nSF:a.go\nDA:1,x\nend_of_record\n"), token: e.key}, 400, "lcov: line 3"},
			{"an unknown format is refused", upload{query: "sha=" + shaA, body: []byte("hello\n"), token: e.key}, 400, "unknown report format"},
			{"a short sha is refused", upload{query: "sha=abc", body: []byte(report), token: e.key}, 400, "sha"},
			{"broken gzip is refused", upload{query: "sha=" + shaA, body: []byte{0x1f, 0x8b, 1, 2, 3}, token: e.key, encoding: "gzip"}, 400, "gzip"},
			{"an unterminated file list is refused", upload{query: "sha=" + shaA, body: []byte(coverage.FilesHeader + "a.go\n"), token: e.key}, 400, "file list"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := e.post(t, tt.up)
				if a.status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.body)
				}
				if tt.wantMsg != "" && !strings.Contains(string(a.body), tt.wantMsg) {
					t.Errorf("answer %s does not mention %q", a.body, tt.wantMsg)
				}
			})
		}
		var list coverage.List
		if st := e.get(t, "/api/coverage?sha="+shaA, e.key, &list); st != 200 {
			t.Fatalf("list: %d", st)
		}
		if len(list.Reports) != 4 {
			t.Errorf("%d reports stored, want the 4 good uploads (refused ones store nothing)", len(list.Reports))
		}
	})
}

func TestUploadAnswerMapsPathsAndDetectsReuploads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db, coveragesvc.Options{UploadsPerMinute: 1000}, nil)
		report := lcov("/ci/src/pkg/a.go", 1, 0) + lcov("/ci/vendor/gen.go", 1)
		body := withFiles(report, "pkg/a.go", "cmd/main.go")
		first := e.post(t, upload{query: "sha=" + shaA + "&branch=main&flag=unit", body: body, token: e.key})
		if first.status != 201 {
			t.Fatalf("first upload: %d %s", first.status, first.body)
		}
		got := decode[coverage.Upload](t, first)
		want := coverage.Upload{ID: got.ID, URL: e.url + fmt.Sprintf("/api/coverage/%d", got.ID), Repository: repo, SHA: shaA,
			Branch: "main", Flag: "unit", Format: "lcov", Totals: got.Totals, Mapped: 1, Unmapped: []string{"/ci/vendor/gen.go"},
			UnmappedCount: 1, CreatedAt: got.CreatedAt}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("answer (-want +got):\n%s", diff)
		}
		if got.Totals.LinesFound != 3 || got.Totals.LinesHit != 2 {
			t.Errorf("totals %+v, want the report's own 2/3 lines", got.Totals)
		}
		again := e.post(t, upload{query: "sha=" + shaA + "&branch=main&flag=unit", body: gz(t, body), token: e.key, encoding: "gzip"})
		dup := decode[coverage.Upload](t, again)
		if again.status != 200 || !dup.Duplicate || dup.ID != got.ID {
			t.Errorf("re-upload: status %d, duplicate %v, id %d; want 200, true, %d", again.status, dup.Duplicate, dup.ID, got.ID)
		}
		var rep coverage.StoredReport
		if st := e.get(t, fmt.Sprintf("/api/coverage/%d?lines=1", got.ID), e.key, &rep); st != 200 {
			t.Fatalf("get: %d", st)
		}
		wantFiles := []coverage.StoredFile{{Path: "pkg/a.go", Totals: rep.Files[0].Totals, Lines: rep.Files[0].Lines}}
		if diff := cmp.Diff(wantFiles, rep.Files); diff != "" || len(rep.Files[0].Lines) != 2 || rep.Files[0].Lines[0].Hits != 1 {
			t.Errorf("files (-want +got):\n%s\nlines %+v", diff, rep.Files[0].Lines)
		}
		var noLines coverage.StoredReport
		e.get(t, fmt.Sprintf("/api/coverage/%d", got.ID), e.key, &noLines)
		if len(noLines.Files) != 1 || noLines.Files[0].Lines != nil || noLines.Files[0].Totals.LinesFound != 2 {
			t.Errorf("without lines=1: %+v", noLines.Files)
		}
		if st := e.get(t, "/api/coverage/999999", e.key, nil); st != 404 {
			t.Errorf("unknown id: %d, want 404", st)
		}
	})
}

func TestCommitsMergeFlagsAndCompareWithTheirBase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db, coveragesvc.Options{UploadsPerMinute: 1000}, nil)
		files := []string{"a.go"}
		up := func(sha, q, report string) {
			t.Helper()
			if a := e.post(t, upload{query: "sha=" + sha + "&" + q, body: withFiles(report, files...), token: e.key}); a.status != 201 {
				t.Fatalf("upload: %d %s", a.status, a.body)
			}
		}
		up(shaA, "branch=main", lcov("a.go", 1, 0, 0, 0))            // 25%
		up(shaB, "branch=main&flag=unit", lcov("a.go", 1, 1, 0, 0))  // unit: lines 1-2
		up(shaB, "branch=main&flag=integ", lcov("a.go", 0, 0, 1, 0)) // integration: line 3
		up(shaC, "branch=feature&pr=7", lcov("a.go", 1, 1, 1, 1))    // PR #7, base from the PR: shaA

		var list coverage.List
		e.get(t, "/api/coverage?repo="+repo+"&sha="+shaB, e.key, &list)
		if len(list.Commits) != 1 {
			t.Fatalf("commits %+v", list.Commits)
		}
		c := list.Commits[0]
		if c.Sessions != 2 || c.Totals.LinesHit != 3 || c.Totals.LinesFound != 4 || c.BaseSHA != shaA || c.Delta == nil || *c.Delta != 50 {
			t.Errorf("commit B: %+v (delta %v); want 2 sessions merged to 3/4 lines, base A, +50 points", c, c.Delta)
		}
		if diff := cmp.Diff([]string{"unit", "integ"}, c.Flags); diff != "" {
			t.Errorf("flags (-want +got):\n%s", diff)
		}
		e.get(t, "/api/coverage?sha="+shaC, e.key, &list)
		if c := list.Commits[0]; c.BaseSHA != shaA || c.Delta == nil || *c.Delta != 75 {
			t.Errorf("PR commit: base %q delta %v; want the PR's base A and +75", c.BaseSHA, c.Delta)
		}
		e.get(t, "/api/coverage?repo="+repo+"&flag=unit", e.key, &list)
		if len(list.Reports) != 1 || list.Reports[0].Flag != "unit" {
			t.Errorf("flag filter: %+v", list.Reports)
		}
		// Keyset pagination walks every report once.
		var ids []int64
		cursor := ""
		for range 10 {
			var page coverage.List
			e.get(t, "/api/coverage?limit=1&cursor="+url.QueryEscape(cursor), e.key, &page)
			for _, r := range page.Reports {
				ids = append(ids, r.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if len(ids) != 4 || ids[0] < ids[3] {
			t.Errorf("pages gave ids %v, want 4 newest first", ids)
		}
	})
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	e := setup(t, storetest.SQLite(t), coveragesvc.Options{UploadsPerMinute: 1}, nil)
	body := []byte(lcov("a.go", 1))
	if a := e.post(t, upload{query: "sha=" + shaA, body: body, token: e.key}); a.status != 201 {
		t.Fatalf("first: %d %s", a.status, a.body)
	}
	a := e.post(t, upload{query: "sha=" + shaB, body: body, token: e.key})
	if a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Fatalf("second: %d, Retry-After %q; want 429 with Retry-After", a.status, a.header.Get("Retry-After"))
	}
}

func TestGoPathsAreMappedWithTheModulePath(t *testing.T) {
	gh := fakeGitHub{files: map[string]string{"go.mod": "module github.com/acme/widgets\n\ngo 1.26\n"}}
	e := setup(t, storetest.SQLite(t), coveragesvc.Options{UploadsPerMinute: 1000}, gh)
	profile := "mode: set\ngithub.com/acme/widgets/pkg/a.go:1.1,2.2 1 1\ngithub.com/acme/widgets/a.go:1.1,2.2 1 0\n"
	for name, body := range map[string][]byte{
		"read from go.mod at the commit": withFiles(profile, "go.mod", "pkg/a.go", "a.go"),
		"without a file list":            []byte(profile),
	} {
		t.Run(name, func(t *testing.T) {
			a := e.post(t, upload{query: "sha=" + shaA + "&flag=" + strings.ReplaceAll(name, " ", "-")[:8], body: body, token: e.key})
			got := decode[coverage.Upload](t, a)
			if a.status != 201 || got.Mapped != 2 || got.UnmappedCount != 0 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var rep coverage.StoredReport
			e.get(t, fmt.Sprintf("/api/coverage/%d", got.ID), e.key, &rep)
			if len(rep.Files) != 2 || rep.Files[0].Path != "a.go" || rep.Files[1].Path != "pkg/a.go" {
				t.Errorf("files %+v", rep.Files)
			}
		})
	}
}
