package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func gitBlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// wrap64 breaks base64 text into lines of 60 characters, as GitHub does.
func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "contents:read")
	if !ok {
		return
	}
	key := strings.ToLower(repo.FullName())
	path := strings.Trim(r.PathValue("path"), "/")
	s.mu.Lock()
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = s.defaultRef[key]
	}
	if ref == "" {
		ref = "main"
	}
	content, found := s.files[fileKey{key, ref, path}]
	var dir []string
	if !found {
		for k := range s.files {
			if k.repo == key && k.ref == ref && strings.HasPrefix(k.path, path+"/") {
				dir = append(dir, k.path)
			}
		}
	}
	s.mu.Unlock()
	base := apiBase(r, s.prefix)
	entry := func(p, typ string, size int, sha string) map[string]any {
		u := base + "/repos/" + repo.FullName() + "/contents/" + p + "?ref=" + url.QueryEscape(ref)
		html := "https://github.com/" + repo.FullName() + "/blob/" + ref + "/" + p
		return map[string]any{
			"type": typ, "size": size, "name": p[strings.LastIndex(p, "/")+1:], "path": p, "sha": sha,
			"url": u, "git_url": base + "/repos/" + repo.FullName() + "/git/blobs/" + sha, "html_url": html,
			"download_url": "https://raw.githubusercontent.com/" + repo.FullName() + "/" + ref + "/" + p,
			"_links":       map[string]any{"self": u, "git": base + "/repos/" + repo.FullName() + "/git/blobs/" + sha, "html": html},
		}
	}
	switch {
	case found:
		e := entry(path, "file", len(content), gitBlobSHA(content))
		e["encoding"] = "base64"
		e["content"] = wrap64(base64.StdEncoding.EncodeToString(content))
		writeJSON(w, http.StatusOK, e)
	case len(dir) > 0:
		slices.Sort(dir)
		out := []map[string]any{}
		seen := map[string]bool{}
		for _, p := range dir {
			child, rest, isDir := strings.Cut(strings.TrimPrefix(p, path+"/"), "/")
			_ = rest
			if seen[child] {
				continue
			}
			seen[child] = true
			if isDir {
				out = append(out, entry(path+"/"+child, "dir", 0, gitBlobSHA([]byte(child))))
			} else {
				out = append(out, entry(path+"/"+child, "file", 0, gitBlobSHA([]byte(p))))
			}
		}
		writeJSON(w, http.StatusOK, out)
	default:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/repos/contents#get-repository-content")
	}
}

func (s *Server) getPermission(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "metadata:read")
	if !ok {
		return
	}
	user := r.PathValue("username")
	s.mu.Lock()
	role := s.permissions[strings.ToLower(repo.FullName())][strings.ToLower(user)]
	s.mu.Unlock()
	if role == "" {
		role = "none"
	}
	perm := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}[role]
	if perm == "" {
		perm = "none"
	}
	u := s.userObject(apiBase(r, s.prefix), user, "User")
	writeJSON(w, http.StatusOK, map[string]any{"permission": perm, "role_name": role, "user": u})
}

func (s *Server) getTeamMembership(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	org, slug, user := r.PathValue("org"), r.PathValue("team_slug"), r.PathValue("username")
	if a.kind == AuthInstallation {
		s.mu.Lock()
		inst := s.installations[a.token.InstallationID]
		s.mu.Unlock()
		if inst == nil || !strings.EqualFold(inst.Account, org) {
			writeError(w, http.StatusNotFound, "Not Found", docsRoot)
			return
		}
		if !permissionCovers(a.token.Permissions["members"], "read") {
			writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsRoot)
			return
		}
	}
	s.mu.Lock()
	m, ok := s.teams[strings.ToLower(org+"/"+slug)][strings.ToLower(user)]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user")
		return
	}
	base := apiBase(r, s.prefix)
	writeJSON(w, http.StatusOK, map[string]any{
		"url":   fmt.Sprintf("%s/organizations/%d/team/%d/memberships/%s", base, userID(org), userID(org+"/"+slug), user),
		"role":  m.role,
		"state": m.state,
	})
}

func (s *Server) pullObject(base string, repo patchpanda.Repository, pr *PullRequest) map[string]any {
	state := pr.State
	if state == "" {
		state = "open"
	}
	assoc := pr.AuthorAssociation
	if assoc == "" {
		assoc = "CONTRIBUTOR"
	}
	baseRef := pr.BaseRef
	if baseRef == "" {
		baseRef = "main"
	}
	headRepo := repo
	if pr.HeadRepo != "" && !strings.EqualFold(pr.HeadRepo, repo.FullName()) {
		owner, name, _ := strings.Cut(pr.HeadRepo, "/")
		headRepo = patchpanda.Repository{Owner: owner, Name: name, ID: userID(pr.HeadRepo)}
	}
	adds, dels := 0, 0
	for _, f := range pr.Files {
		adds += f.Additions
		dels += f.Deletions
	}
	n := strconv.Itoa(pr.Number)
	id := userID(repo.FullName() + "#" + n)
	return map[string]any{
		"url":                   base + "/repos/" + repo.FullName() + "/pulls/" + n,
		"id":                    id,
		"node_id":               "PR_" + strconv.FormatInt(id, 36),
		"html_url":              "https://github.com/" + repo.FullName() + "/pull/" + n,
		"number":                pr.Number,
		"state":                 state,
		"locked":                false,
		"title":                 pr.Title,
		"user":                  s.userObject(base, pr.Author, "User"),
		"body":                  pr.Body,
		"created_at":            "2024-01-01T00:00:00Z",
		"updated_at":            "2024-01-01T00:00:00Z",
		"closed_at":             nil,
		"merged_at":             nil,
		"draft":                 pr.Draft,
		"head":                  map[string]any{"label": headRepo.Owner + ":" + pr.HeadRef, "ref": pr.HeadRef, "sha": pr.HeadSHA, "user": s.userObject(base, headRepo.Owner, "User"), "repo": s.repoObject(base, headRepo)},
		"base":                  map[string]any{"label": repo.Owner + ":" + baseRef, "ref": baseRef, "sha": pr.BaseSHA, "user": s.userObject(base, repo.Owner, "Organization"), "repo": s.repoObject(base, repo)},
		"author_association":    assoc,
		"merged":                pr.Merged,
		"mergeable":             nil,
		"comments":              0,
		"review_comments":       0,
		"commits":               1,
		"additions":             adds,
		"deletions":             dels,
		"changed_files":         len(pr.Files),
		"maintainer_can_modify": false,
	}
}

func (s *Server) findPull(w http.ResponseWriter, r *http.Request, repo patchpanda.Repository) (*PullRequest, bool) {
	n, _ := pathInt(r, "pull_number")
	s.mu.Lock()
	pr := s.pulls[strings.ToLower(repo.FullName())][int(n)]
	var cp PullRequest
	if pr != nil {
		cp = *pr
		cp.Files = slices.Clone(pr.Files)
	}
	s.mu.Unlock()
	if pr == nil {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
		return nil, false
	}
	return &cp, true
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "pull_requests:read")
	if !ok {
		return
	}
	pr, ok := s.findPull(w, r, repo)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.pullObject(apiBase(r, s.prefix), repo, pr))
}

func (s *Server) listPullFiles(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "pull_requests:read")
	if !ok {
		return
	}
	pr, ok := s.findPull(w, r, repo)
	if !ok {
		return
	}
	lo, hi := paginate(w, r, s.prefix, len(pr.Files))
	base := apiBase(r, s.prefix)
	out := []map[string]any{}
	for _, f := range pr.Files[lo:hi] {
		status := f.Status
		if status == "" {
			status = "modified"
		}
		sha := gitBlobSHA([]byte(f.Filename + f.Patch))
		o := map[string]any{
			"sha":          sha,
			"filename":     f.Filename,
			"status":       status,
			"additions":    f.Additions,
			"deletions":    f.Deletions,
			"changes":      f.Additions + f.Deletions,
			"blob_url":     "https://github.com/" + repo.FullName() + "/blob/" + pr.HeadSHA + "/" + f.Filename,
			"raw_url":      "https://github.com/" + repo.FullName() + "/raw/" + pr.HeadSHA + "/" + f.Filename,
			"contents_url": base + "/repos/" + repo.FullName() + "/contents/" + f.Filename + "?ref=" + pr.HeadSHA,
		}
		if f.Patch != "" {
			o["patch"] = f.Patch
		}
		if f.PreviousFilename != "" {
			o["previous_filename"] = f.PreviousFilename
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, out)
}
