package githubtest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, _ auth, body []byte) {
	id, _ := pathInt(r, "installation_id")
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if len(body) > 0 && json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	if !inst.SuspendedAt.IsZero() {
		writeError(w, http.StatusForbidden, "This installation has been suspended", docsRoot)
		return
	}
	var repos []patchpanda.Repository
	for _, name := range req.Repositories {
		i := slices.IndexFunc(inst.Repositories, func(x patchpanda.Repository) bool { return strings.EqualFold(x.Name, name) })
		if i < 0 {
			writeError(w, http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.", docsRoot)
			return
		}
		repos = append(repos, inst.Repositories[i])
	}
	for _, rid := range req.RepositoryIDs {
		i := slices.IndexFunc(inst.Repositories, func(x patchpanda.Repository) bool { return x.ID == rid })
		if i < 0 {
			writeError(w, http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.", docsRoot)
			return
		}
		if !slices.Contains(repos, inst.Repositories[i]) {
			repos = append(repos, inst.Repositories[i])
		}
	}
	perms := cloneMap(inst.Permissions)
	if len(req.Permissions) > 0 {
		perms = map[string]string{}
		for k, v := range req.Permissions {
			if !permissionCovers(inst.Permissions[k], v) {
				writeError(w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.", docsRoot)
				return
			}
			perms[k] = v
		}
		if m, ok := inst.Permissions["metadata"]; ok && perms["metadata"] == "" {
			perms["metadata"] = m
		}
	}
	issued := &IssuedToken{
		Token:          "ghs_" + randomAlnum(36),
		InstallationID: inst.ID,
		Permissions:    perms,
		ExpiresAt:      s.now().Add(time.Hour).UTC().Truncate(time.Second),
	}
	base := apiBase(r, s.prefix)
	resp := map[string]any{
		"token":                issued.Token,
		"expires_at":           ts(issued.ExpiresAt),
		"permissions":          perms,
		"repository_selection": "all",
	}
	listed := repos
	if repos != nil {
		for _, x := range repos {
			issued.Repositories = append(issued.Repositories, x.FullName())
		}
	} else if !inst.AllRepositories {
		listed = inst.Repositories
	}
	if repos != nil || !inst.AllRepositories {
		resp["repository_selection"] = "selected"
		objs := []map[string]any{}
		for _, x := range listed {
			objs = append(objs, s.repoObject(base, x))
		}
		resp["repositories"] = objs
	}
	s.tokens[issued.Token] = issued
	s.tokenOrder = append(s.tokenOrder, issued.Token)
	writeJSON(w, http.StatusCreated, resp)
}

func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
