package githubtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) botLogin() string { return s.AppSlug + "[bot]" }

func (s *Server) commentObject(base string, c *Comment) map[string]any {
	return map[string]any{
		"id":                 c.ID,
		"node_id":            "IC_" + strconv.FormatInt(c.ID, 36),
		"url":                base + "/repos/" + c.Repo + "/issues/comments/" + strconv.FormatInt(c.ID, 10),
		"html_url":           "https://github.com/" + c.Repo + "/pull/" + strconv.Itoa(c.Number) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url":          base + "/repos/" + c.Repo + "/issues/" + strconv.Itoa(c.Number),
		"body":               c.Body,
		"user":               s.userObject(base, c.User, c.UserType),
		"created_at":         ts(c.CreatedAt),
		"updated_at":         ts(c.UpdatedAt),
		"author_association": "NONE",
	}
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (s *Server) createReaction(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	repo, ok := s.repoAccess(w, r, a, "issues:write", "pull_requests:write")
	if !ok {
		return
	}
	id, _ := pathInt(r, "comment_id")
	var req struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	if !slices.Contains(reactionContents, req.Content) {
		writeValidation(w, "Reaction", "content", "content is not included in the list")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.comments, func(c *Comment) bool { return c.ID == id && strings.EqualFold(c.Repo, repo.FullName()) }) {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	base := apiBase(r, s.prefix)
	status := http.StatusCreated
	i := slices.IndexFunc(s.reactions, func(x Reaction) bool {
		return x.CommentID == id && x.Content == req.Content && x.User == s.botLogin()
	})
	if i >= 0 {
		status = http.StatusOK
	} else {
		s.reactions = append(s.reactions, Reaction{ID: s.id(), Repo: repo.FullName(), CommentID: id, Content: req.Content, User: s.botLogin()})
		i = len(s.reactions) - 1
	}
	x := s.reactions[i]
	writeJSON(w, status, map[string]any{
		"id": x.ID, "node_id": "REA_" + strconv.FormatInt(x.ID, 36), "user": s.userObject(base, x.User, "Bot"),
		"content": x.Content, "created_at": ts(s.now()),
	})
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	repo, ok := s.repoAccess(w, r, a, "issues:write", "pull_requests:write")
	if !ok {
		return
	}
	n, _ := pathInt(r, "issue_number")
	text, ok := commentBody(w, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC().Truncate(time.Second)
	c := &Comment{ID: s.id(), Repo: repo.FullName(), Number: int(n), Body: text, User: s.botLogin(), UserType: "Bot", CreatedAt: now, UpdatedAt: now}
	s.comments = append(s.comments, c)
	w.Header().Set("Location", apiBase(r, s.prefix)+"/repos/"+c.Repo+"/issues/comments/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, s.commentObject(apiBase(r, s.prefix), c))
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	repo, ok := s.repoAccess(w, r, a, "issues:write", "pull_requests:write")
	if !ok {
		return
	}
	id, _ := pathInt(r, "comment_id")
	text, ok := commentBody(w, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.comments, func(c *Comment) bool { return c.ID == id && strings.EqualFold(c.Repo, repo.FullName()) })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	c := s.comments[i]
	c.Body = text
	c.Edits++
	c.UpdatedAt = s.now().UTC().Truncate(time.Second)
	writeJSON(w, http.StatusOK, s.commentObject(apiBase(r, s.prefix), c))
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "issues:read", "pull_requests:read")
	if !ok {
		return
	}
	n, _ := pathInt(r, "issue_number")
	s.mu.Lock()
	var list []Comment
	for _, c := range s.comments {
		if strings.EqualFold(c.Repo, repo.FullName()) && c.Number == int(n) {
			list = append(list, *c)
		}
	}
	s.mu.Unlock()
	lo, hi := paginate(w, r, s.prefix, len(list))
	base := apiBase(r, s.prefix)
	out := []map[string]any{}
	for i := lo; i < hi; i++ {
		out = append(out, s.commentObject(base, &list[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// commentBody reads the body of a comment's create or update request, as
// GitHub checks it; it answers the request itself and returns false when
// the JSON does not parse or the body is missing.
func commentBody(w http.ResponseWriter, body []byte) (string, bool) {
	var req struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return "", false
	}
	if req.Body == "" {
		writeValidation(w, "IssueComment", "body", "body wasn't supplied")
		return "", false
	}
	return req.Body, true
}
