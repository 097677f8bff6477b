package githubtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkRunRequest is the body of create and update; pointers tell what an
// update changes.
type checkRunRequest struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	annotationLevels = []string{"notice", "warning", "failure"}
)

// apply validates req and applies it to cr, returning GitHub's validation
// message when it is refused.
func (req *checkRunRequest) apply(cr *CheckRun) string {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	if req.Name != nil && *req.Name == "" {
		return "name wasn't supplied"
	}
	set(&cr.Name, req.Name)
	set(&cr.HeadSHA, req.HeadSHA)
	set(&cr.DetailsURL, req.DetailsURL)
	set(&cr.ExternalID, req.ExternalID)
	if req.Status != nil {
		if !slices.Contains(checkStatuses, *req.Status) {
			return "status is not included in the list"
		}
		cr.Status = *req.Status
	}
	if req.Conclusion != nil {
		if !slices.Contains(checkConclusions, *req.Conclusion) {
			return "conclusion is not included in the list"
		}
		cr.Conclusion = *req.Conclusion
		cr.Status = "completed"
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		return "conclusion wasn't supplied"
	}
	for _, p := range []struct {
		src *string
		dst *time.Time
	}{{req.StartedAt, &cr.StartedAt}, {req.CompletedAt, &cr.CompletedAt}} {
		if p.src == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *p.src)
		if err != nil {
			return "time is not ISO 8601"
		}
		*p.dst = t.UTC()
	}
	if o := req.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return "output requires title and summary"
		}
		if len(o.Annotations) > 50 {
			return "annotations are limited to 50 per request"
		}
		for _, an := range o.Annotations {
			if an.Path == "" || an.StartLine <= 0 || an.EndLine <= 0 || an.Message == "" || !slices.Contains(annotationLevels, an.AnnotationLevel) {
				return "annotation requires path, start_line, end_line, annotation_level and message"
			}
		}
		set(&cr.Output.Title, o.Title)
		set(&cr.Output.Summary, o.Summary)
		set(&cr.Output.Text, o.Text)
		cr.Output.Annotations = append(cr.Output.Annotations, o.Annotations...)
	}
	return ""
}

func (s *Server) checkRunObject(base string, cr *CheckRun) map[string]any {
	id := strconv.FormatInt(cr.ID, 10)
	return map[string]any{
		"id":           cr.ID,
		"node_id":      "CR_" + strconv.FormatInt(cr.ID, 36),
		"head_sha":     cr.HeadSHA,
		"external_id":  cr.ExternalID,
		"url":          base + "/repos/" + cr.Repo + "/check-runs/" + id,
		"html_url":     "https://github.com/" + cr.Repo + "/runs/" + id,
		"details_url":  nullable(cr.DetailsURL),
		"status":       cr.Status,
		"conclusion":   nullable(cr.Conclusion),
		"started_at":   ts(cr.StartedAt),
		"completed_at": ts(cr.CompletedAt),
		"output": map[string]any{
			"title":             nullable(cr.Output.Title),
			"summary":           nullable(cr.Output.Summary),
			"text":              nullable(cr.Output.Text),
			"annotations_count": len(cr.Output.Annotations),
			"annotations_url":   base + "/repos/" + cr.Repo + "/check-runs/" + id + "/annotations",
		},
		"name":          cr.Name,
		"check_suite":   map[string]any{"id": userID(cr.Repo + cr.HeadSHA)},
		"app":           map[string]any{"id": s.AppID, "slug": s.AppSlug, "name": s.AppSlug},
		"pull_requests": []any{},
	}
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	repo, ok := s.repoAccess(w, r, a, "checks:write")
	if !ok {
		return
	}
	var req checkRunRequest
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	if req.Name == nil || req.HeadSHA == nil || *req.HeadSHA == "" {
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" and \"head_sha\" are required.", docsRoot)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := &CheckRun{Repo: repo.FullName(), Status: "queued"}
	if msg := req.apply(cr); msg != "" {
		writeValidation(w, "CheckRun", "", msg)
		return
	}
	cr.ID = s.id()
	if cr.StartedAt.IsZero() {
		cr.StartedAt = s.now().UTC().Truncate(time.Second)
	}
	if cr.Status == "completed" && cr.CompletedAt.IsZero() {
		cr.CompletedAt = s.now().UTC().Truncate(time.Second)
	}
	cr.History = []CheckRun{snapshot(cr)}
	s.checkRuns = append(s.checkRuns, cr)
	writeJSON(w, http.StatusCreated, s.checkRunObject(apiBase(r, s.prefix), cr))
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request, a auth, body []byte) {
	repo, ok := s.repoAccess(w, r, a, "checks:write")
	if !ok {
		return
	}
	id, _ := pathInt(r, "check_run_id")
	var req checkRunRequest
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.checkRuns, func(c *CheckRun) bool { return c.ID == id && strings.EqualFold(c.Repo, repo.FullName()) })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	next := cloneCheckRun(s.checkRuns[i])
	if msg := req.apply(&next); msg != "" {
		writeValidation(w, "CheckRun", "", msg)
		return
	}
	if next.Status == "completed" && next.CompletedAt.IsZero() {
		next.CompletedAt = s.now().UTC().Truncate(time.Second)
	}
	next.History = append(next.History, snapshot(&next))
	*s.checkRuns[i] = next
	writeJSON(w, http.StatusOK, s.checkRunObject(apiBase(r, s.prefix), &next))
}

func snapshot(cr *CheckRun) CheckRun {
	out := *cr
	out.History = nil
	out.Output.Annotations = slices.Clone(cr.Output.Annotations)
	return out
}
