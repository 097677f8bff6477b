package coverage

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// MapperOptions tunes how a Mapper turns report paths into repository
// paths.
type MapperOptions struct {
	// ModulePath is the Go module path from go.mod ("" when none); report
	// paths under it (as Go coverprofiles write them) are made relative to
	// ModuleDir.
	ModulePath string
	// ModuleDir is the repository directory holding that go.mod, "" for
	// the root.
	ModuleDir string
	// Root is stripped from the front of report paths (ppctl's --root),
	// such as the CI checkout directory of absolute paths.
	Root string
	// Prefix is put in front of relative report paths after Root is
	// stripped (ppctl's --prefix), for reports made in a subdirectory.
	Prefix string
}

// Mapper maps report paths to the repository's files. Build one with
// NewMapper; it is safe for concurrent use.
type Mapper struct {
	opts   MapperOptions
	files  map[string]struct{}
	byBase map[string][]string
}

// NewMapper returns a Mapper over the repository's file list (as `git
// ls-files` prints it, one path per element).
func NewMapper(files []string, opts MapperOptions) *Mapper {
	m := &Mapper{opts: opts, files: map[string]struct{}{}, byBase: map[string][]string{}}
	m.opts.Root = strings.TrimSuffix(cleanSlash(opts.Root), "/")
	m.opts.Prefix = strings.Trim(cleanSlash(opts.Prefix), "/")
	m.opts.ModuleDir = strings.Trim(cleanSlash(opts.ModuleDir), "/")
	for _, f := range files {
		f = strings.TrimPrefix(cleanSlash(f), "/")
		if f == "" || f == "." {
			continue
		}
		if _, ok := m.files[f]; ok {
			continue
		}
		m.files[f] = struct{}{}
		b := path.Base(f)
		m.byBase[b] = append(m.byBase[b], f)
	}
	return m
}

// cleanSlash turns backslashes into slashes and cleans the path, keeping
// "" as "".
func cleanSlash(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	p = strings.TrimPrefix(strings.ReplaceAll(p, `\`, "/"), "file://")
	return path.Clean(p)
}

// Map returns the repository path for a report path, and false when no
// file matches or several match equally well. Matching tries, in order:
// the path after stripping Root, adding Prefix and replacing the Go module
// path; then the repository file sharing the longest run of trailing path
// elements (at least the file name) with it.
func (m *Mapper) Map(reportPath string) (string, bool) {
	p := cleanSlash(reportPath)
	if p == "" || p == "." {
		return "", false
	}
	if r := m.opts.Root; r != "" && r != "." {
		if rest, ok := strings.CutPrefix(p, r+"/"); ok {
			p = rest
		}
	}
	if mp := m.opts.ModulePath; mp != "" {
		if rest, ok := strings.CutPrefix(p, mp+"/"); ok {
			p = joinRel(m.opts.ModuleDir, rest)
		}
	}
	if m.opts.Prefix != "" && m.opts.Prefix != "." && !path.IsAbs(p) && !hasDrive(p) {
		if _, ok := m.files[strings.TrimPrefix(p, "./")]; !ok {
			p = joinRel(m.opts.Prefix, p)
		}
	}
	p = strings.TrimPrefix(p, "./")
	if _, ok := m.files[p]; ok {
		return p, true
	}
	// Suffix match on whole path elements.
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	best, bestScore, tie := "", 0, false
	for _, cand := range m.byBase[parts[len(parts)-1]] {
		cp := strings.Split(cand, "/")
		s := 0
		for s < len(cp) && s < len(parts) && cp[len(cp)-1-s] == parts[len(parts)-1-s] {
			s++
		}
		switch {
		case s > bestScore:
			best, bestScore, tie = cand, s, false
		case s == bestScore:
			tie = true
		}
	}
	if bestScore == 0 || tie {
		return "", false
	}
	return best, true
}

func joinRel(dir, p string) string {
	if dir == "" || dir == "." {
		return p
	}
	return dir + "/" + p
}

func hasDrive(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

// MapReport returns r with every path mapped to a repository path, and the
// report paths that matched no file (sorted). Files mapping to the same
// repository path are merged as Merge does.
func (m *Mapper) MapReport(r *Report) (mapped *Report, unmapped []string) {
	out := &Report{Files: map[string]*File{}}
	for _, p := range r.Paths() {
		f := r.Files[p]
		rp, ok := m.Map(p)
		if !ok {
			unmapped = append(unmapped, p)
			continue
		}
		c := *f
		c.Path = rp
		if old, dup := out.Files[rp]; dup {
			out.Files[rp] = mergeFiles(old, &c)
			continue
		}
		out.Files[rp] = &c
	}
	return out, unmapped
}

// ModulePath returns the module path declared by a go.mod file's content,
// or an error when there is no module directive.
func ModulePath(gomod []byte) (string, error) {
	s := bufio.NewScanner(bytes.NewReader(gomod))
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "module" {
			continue
		}
		if len(f) != 2 {
			return "", fmt.Errorf("coverage: go.mod line %d: want \"module PATH\"", n)
		}
		mp := f[1]
		if strings.HasPrefix(mp, `"`) || strings.HasPrefix(mp, "`") {
			u, err := strconv.Unquote(mp)
			if err != nil {
				return "", fmt.Errorf("coverage: go.mod line %d: module path %s: %w", n, mp, err)
			}
			mp = u
		}
		return mp, nil
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("coverage: go.mod: %w", err)
	}
	return "", fmt.Errorf("coverage: go.mod: no module directive")
}
