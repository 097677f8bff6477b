package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestLineDataRoundTrips(t *testing.T) {
	tests := []struct {
		name  string
		lines []coverage.Line
	}{
		{"no lines", nil},
		{"sparse lines with branches", []coverage.Line{{Number: 1, Hits: 3}, {Number: 900, Hits: 0, BranchesFound: 2, BranchesHit: 1}, {Number: 901, Hits: 1 << 40}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.DecodeLines(store.EncodeLines(tt.lines))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.lines, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorruptLineDataIsAnError(t *testing.T) {
	for name, b := range map[string][]byte{"empty": nil, "unknown version": {9}, "cut short": {1, 2}, "overlong varint": {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, err := store.DecodeLines(b); err == nil {
			t.Errorf("%s: DecodeLines(%v) succeeded", name, b)
		}
	}
}

// The merged files kept per commit equal coverage.Merge over every
// session, whether each report was merged as it arrived or (stored before
// merging existed) on the first read.
func TestCommitCoverageIsMergedIncrementallyAndEqualsAFullMerge(t *testing.T) {
	sessions := []*coverage.Report{
		{Files: map[string]*coverage.File{
			"a.go": {Path: "a.go", Lines: []coverage.Line{{Number: 1, Hits: 1}, {Number: 2}, {Number: 3, BranchesFound: 2, BranchesHit: 1}}},
			"b.go": {Path: "b.go", Lines: []coverage.Line{{Number: 10}}},
		}},
		{Files: map[string]*coverage.File{
			"a.go": {Path: "a.go", Lines: []coverage.Line{{Number: 2, Hits: 4}, {Number: 3, BranchesFound: 2, BranchesHit: 2, Hits: 1}, {Number: 7}}},
		}},
		{Files: map[string]*coverage.File{
			"c.go": {Path: "c.go", Lines: []coverage.Line{{Number: 5, Hits: 1}}, FunctionsFound: 1, FunctionsHit: 1},
		}},
	}
	want := coverage.Merge(sessions...)
	for _, legacy := range []bool{false, true} {
		name := "merged as each report arrives"
		if legacy {
			name = "reports stored before merging are merged on first read"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				const repo, sha = "acme/widgets", "0123456789012345678901234567890123456789"
				for i, s := range sessions {
					files := make([]*coverage.File, 0, len(s.Files))
					for _, p := range s.Paths() {
						files = append(files, s.Files[p])
					}
					err := db.InTx(ctx, func(q *store.Queries) error {
						r := &store.CoverageReport{Repository: repo, SHA: sha, Flag: strconv.Itoa(i), ContentSHA256: strconv.Itoa(i)}
						if err := q.AddCoverageReport(ctx, r, files); err != nil {
							return err
						}
						if legacy {
							return nil
						}
						return q.MergeCommitCoverage(ctx, r.ID, repo, sha, files)
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				c, err := db.CommitCoverage(ctx, repo, sha)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.Totals(), c.Totals); diff != "" {
					t.Errorf("totals (-full merge +stored):\n%s", diff)
				}
				got, err := db.CommitFiles(ctx, repo, sha, []string{"a.go", "c.go", "missing.go"})
				if err != nil {
					t.Fatal(err)
				}
				wantFiles := map[string]*coverage.File{"a.go": want.Files["a.go"], "c.go": want.Files["c.go"]}
				if diff := cmp.Diff(wantFiles, got.Files); diff != "" {
					t.Errorf("files (-full merge +stored):\n%s", diff)
				}
				n, err := db.CommitCoverageLines(ctx, repo, sha)
				if err != nil {
					t.Fatal(err)
				}
				if n != 6 { // a.go 1, 2, 3, 7; b.go 10; c.go 5
					t.Errorf("line records held = %d; want 6", n)
				}
			})
		})
	}
}

// Pages of ?lines=1 stay within their line budget, cut a long file and go
// on with it, and together give every line once.
func TestCoverageLinesPagesAreBoundedAndComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		long := &coverage.File{Path: "b.go"}
		for n := 1; n <= 7; n++ {
			long.Lines = append(long.Lines, coverage.Line{Number: n, Hits: int64(n)})
		}
		files := []*coverage.File{
			{Path: "a.go", Lines: []coverage.Line{{Number: 1}, {Number: 2, Hits: 1}}},
			long,
			{Path: "c.go", Lines: nil},
			{Path: "d.go", Lines: []coverage.Line{{Number: 9}}},
		}
		r := &store.CoverageReport{Repository: "acme/widgets", SHA: "0123456789012345678901234567890123456789", ContentSHA256: "x"}
		if err := db.InTx(ctx, func(q *store.Queries) error { return q.AddCoverageReport(ctx, r, files) }); err != nil {
			t.Fatal(err)
		}
		got := map[string][]coverage.Line{}
		from, skip, pages := "", 0, 0
		for {
			page, err := db.CoverageLinesPage(ctx, r.ID, from, skip, 3, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			n := 0
			for _, f := range page.Files {
				n += len(f.File.Lines)
				got[f.Path] = append(got[f.Path], f.File.Lines...)
			}
			if n > 3 || len(page.Files) > 2 {
				t.Errorf("page %d holds %d lines in %d files; want at most 3 in 2", pages, n, len(page.Files))
			}
			if page.NextPath == "" {
				break
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			from, skip = page.NextPath, page.NextSkip
		}
		want := map[string][]coverage.Line{"a.go": files[0].Lines, "b.go": long.Lines, "c.go": nil, "d.go": files[3].Lines}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("lines over all pages (-want +got):\n%s", diff)
		}
	})
}
