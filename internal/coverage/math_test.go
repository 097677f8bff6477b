package coverage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func report(files ...*File) *Report {
	r := &Report{Files: map[string]*File{}}
	for _, f := range files {
		r.Files[f.Path] = f
	}
	return r
}

func TestMergeSessions(t *testing.T) {
	unit := report(&File{Path: "a.go", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2}, {Number: 3, Hits: 1, BranchesFound: 2, BranchesHit: 1}}, BranchesFound: 2, BranchesHit: 1})
	integ := report(
		&File{Path: "a.go", Lines: []Line{{Number: 2, Hits: 5}, {Number: 3, Hits: 1, BranchesFound: 2, BranchesHit: 2}, {Number: 4}}, BranchesFound: 2, BranchesHit: 2},
		&File{Path: "b.go", Lines: []Line{{Number: 1}}},
	)
	got := Merge(unit, nil, integ)
	want := report(
		&File{Path: "a.go", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2, Hits: 5}, {Number: 3, Hits: 2, BranchesFound: 2, BranchesHit: 2}, {Number: 4}}, BranchesFound: 2, BranchesHit: 2},
		&File{Path: "b.go", Lines: []Line{{Number: 1}}},
	)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a line hit in any session is hit (-want +got):\n%s", diff)
	}
	if unit.Files["a.go"].Lines[1].Hits != 0 {
		t.Error("Merge modified its input")
	}
	wantTot := Totals{Files: 2, LinesFound: 5, LinesHit: 3, BranchesFound: 2, BranchesHit: 2, Percent: 60}
	if diff := cmp.Diff(wantTot, got.Totals()); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestPartlyCoveredBranchLineCountsAsNotCovered(t *testing.T) {
	r := report(&File{Path: "a.c", Lines: []Line{{Number: 1, Hits: 3, BranchesFound: 2, BranchesHit: 1}, {Number: 2, Hits: 1}}})
	if got := r.Totals(); got.LinesHit != 1 || got.LinesFound != 2 {
		t.Errorf("totals %+v, want 1 of 2 lines hit", got)
	}
}

func TestCompare(t *testing.T) {
	base := report(
		&File{Path: "a", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2}}},
		&File{Path: "gone", Lines: []Line{{Number: 1, Hits: 1}}},
		&File{Path: "same", Lines: []Line{{Number: 1, Hits: 1}}},
	)
	head := report(
		&File{Path: "a", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2, Hits: 1}}},
		&File{Path: "new", Lines: []Line{{Number: 1}}},
		&File{Path: "same", Lines: []Line{{Number: 1, Hits: 1}}},
	)
	d := Compare(base, head)
	if d.Base.Percent != 75 || d.Head.Percent != 75 || d.Delta != 0 {
		t.Errorf("totals: base %v head %v delta %v", d.Base.Percent, d.Head.Percent, d.Delta)
	}
	var paths []string
	var deltas []float64
	for _, f := range d.Files {
		paths = append(paths, f.Path)
		deltas = append(deltas, f.Delta)
	}
	if diff := cmp.Diff([]string{"gone", "new", "a"}, paths); diff != "" {
		t.Errorf("changed files, largest drop first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{-100, 0, 50}, deltas); diff != "" {
		t.Errorf("deltas (-want +got):\n%s", diff)
	}
	if d := Compare(nil, nil); d.Delta != 0 || len(d.Files) != 0 {
		t.Errorf("empty compare = %+v", d)
	}
}

func TestAddedLines(t *testing.T) {
	tests := []struct {
		name  string
		patch string
		want  []int
	}{
		{"empty patch adds nothing", "", nil},
		{"one hunk with context, removals and additions",
			"@@ -1,4 +1,5 @@\n package a\n-old\n+new1\n+new2\n ctx\n\\ No newline at end of file", []int{2, 3}},
		{"two hunks", "@@ -1 +1 @@\n-a\n+b\n@@ -10,2 +10,3 @@ func f() {\n x\n+y\n z", []int{1, 11}},
		{"new file", "@@ -0,0 +1,2 @@\n+a\n+b\n", []int{1, 2}},
		{"context line whose space was stripped", "@@ -1,3 +1,4 @@\n a\n\n+c\n d", []int{3}},
		{"full git diff headers are skipped", "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b", []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddedLines(tc.patch)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"@@ -1 +x @@\n+a", "+a outside", "@@ -1 +1\n+a", "@@ -1 +1 @@\n?odd"} {
		if _, err := AddedLines(bad); err == nil {
			t.Errorf("AddedLines(%q): no error", bad)
		}
	}
}

func TestPatchCoverage(t *testing.T) {
	head := report(
		&File{Path: "a.go", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2}, {Number: 3, Hits: 2, BranchesFound: 2, BranchesHit: 1}, {Number: 4, Hits: 1}}},
		&File{Path: "b.go", Lines: []Line{{Number: 1, Hits: 1}}},
		&File{Path: "c.go", Lines: []Line{{Number: 1}, {Number: 2}}},
	)
	changes := []FileChange{
		{Path: "a.go", Patch: "@@ -0,0 +1,5 @@\n+1\n+2\n+3\n+4\n+5"},
		{Path: "b.go", Patch: "@@ -1 +1 @@\n-x\n+y"},
		{Path: "c.go", Patch: "@@ -1 +1 @@\n-x\n+y"},
		{Path: "README.md", Patch: "@@ -1 +1,2 @@\n x\n+y"},
	}
	got, err := PatchCoverage(head, changes)
	if err != nil {
		t.Fatal(err)
	}
	want := Patch{Changed: 8, Coverable: 6, Covered: 3, Percent: 50, Files: []PatchFile{
		{Path: "a.go", Changed: 5, Coverable: 4, Covered: 2, Percent: 50, Missed: []int{2, 3}, Partial: []int{3}},
		{Path: "b.go", Changed: 1, Coverable: 1, Covered: 1, Percent: 100},
		{Path: "c.go", Changed: 1, Coverable: 1, Covered: 0, Percent: 0, Missed: []int{1}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	least := got.LeastCovered(5)
	if len(least) != 2 || least[0].Path != "a.go" || least[1].Path != "c.go" {
		t.Errorf("LeastCovered = %+v, want a.go (2 missed) then c.go", least)
	}
	if _, err := PatchCoverage(head, []FileChange{{Path: "x", Patch: "garbage"}}); err == nil {
		t.Error("malformed patch: no error")
	}
}

func TestMapper(t *testing.T) {
	files := []string{"go.mod", "cmd/app/main.go", "internal/store/db.go", "web/src/app.js", "lib/util.py", "other/lib/util.py", "sub/mod/x.go"}
	tests := []struct {
		name   string
		opts   MapperOptions
		in     string
		want   string
		wantOK bool
	}{
		{"exact path", MapperOptions{}, "internal/store/db.go", "internal/store/db.go", true},
		{"dot slash and backslashes", MapperOptions{}, `.\internal\store\db.go`, "internal/store/db.go", true},
		{"go module path is stripped", MapperOptions{ModulePath: "github.com/o/r"}, "github.com/o/r/cmd/app/main.go", "cmd/app/main.go", true},
		{"go module in a subdirectory", MapperOptions{ModulePath: "example.com/m", ModuleDir: "sub/mod"}, "example.com/m/x.go", "sub/mod/x.go", true},
		{"absolute CI path by suffix", MapperOptions{}, "/home/runner/work/r/r/web/src/app.js", "web/src/app.js", true},
		{"root is stripped", MapperOptions{Root: "/build/"}, "/build/cmd/app/main.go", "cmd/app/main.go", true},
		{"prefix is added to relative paths", MapperOptions{Prefix: "web"}, "src/app.js", "web/src/app.js", true},
		{"longest suffix wins", MapperOptions{}, "/ci/other/lib/util.py", "other/lib/util.py", true},
		{"equally good matches are ambiguous", MapperOptions{}, "/elsewhere/util.py", "", false},
		{"no such file", MapperOptions{}, "vendor/x/y.go", "", false},
		{"windows absolute path", MapperOptions{}, `C:\a\repo\internal\store\db.go`, "internal/store/db.go", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NewMapper(files, tc.opts).Map(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Map(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	t.Run("MapReport reports unmapped files and merges collisions", func(t *testing.T) {
		r := report(
			&File{Path: "/a/internal/store/db.go", Lines: []Line{{Number: 1, Hits: 1}}},
			&File{Path: "internal/store/db.go", Lines: []Line{{Number: 2}}},
			&File{Path: "gen/zz.go", Lines: []Line{{Number: 1}}},
		)
		got, unmapped := NewMapper(files, MapperOptions{}).MapReport(r)
		want := report(&File{Path: "internal/store/db.go", Lines: []Line{{Number: 1, Hits: 1}, {Number: 2}}})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"gen/zz.go"}, unmapped); diff != "" {
			t.Errorf("unmapped (-want +got):\n%s", diff)
		}
	})
}

func TestModulePath(t *testing.T) {
	got, err := ModulePath([]byte("// comment\nmodule github.com/o/r // trailing\n\ngo 1.22\n"))
	if err != nil || got != "github.com/o/r" {
		t.Errorf("ModulePath = %q, %v", got, err)
	}
	if got, err := ModulePath([]byte("module \"example.com/q\"\n")); err != nil || got != "example.com/q" {
		t.Errorf("quoted: %q, %v", got, err)
	}
	if _, err := ModulePath([]byte("go 1.22\n")); err == nil {
		t.Error("no module directive: no error")
	}
}
