package githubtest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
)

// Routes for revoking a job's token and for finding a job's check run
// before creating one.
const (
	RouteRevokeToken         = "DELETE /installation/token"
	RouteListCheckRunsForRef = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"
)

// trustState is the fake's state for the routes of this file.
type trustState struct {
	drops map[string]int // route → responses still to drop
}

func (s *Server) trustRoutes(mux *http.ServeMux) {
	s.handle(mux, RouteRevokeToken, needInstallation, s.revokeToken)
	s.handle(mux, RouteListCheckRunsForRef, needInstallation, s.listCheckRunsForRef)
}

// DropResponseNext makes the next n requests to route take effect but
// lose their answer: the fake does what was asked, then answers 502, as
// when a response is lost between GitHub and the caller.
func (s *Server) DropResponseNext(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trust.drops == nil {
		s.trust.drops = map[string]int{}
	}
	s.trust.drops[route] += n
}

// takeDrop reports whether the answer to a request to route is to be
// dropped, counting it.
func (s *Server) takeDrop(route string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trust.drops[route] > 0 {
		s.trust.drops[route]--
		return true
	}
	return false
}

// dropping runs h for a route whose answer is to be dropped: h's answer
// goes nowhere, and the caller gets a 502.
func dropping(w http.ResponseWriter, r *http.Request, a auth, body []byte, h handlerFunc) {
	h(httptest.NewRecorder(), r, a, body)
	writeError(w, http.StatusBadGateway, "Server Error", docsRoot)
}

// revokeToken revokes the installation token the request authenticates
// with, as GitHub's DELETE /installation/token does.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	s.mu.Lock()
	if t := s.tokens[a.token.Token]; t != nil {
		t.Revoked = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// listCheckRunsForRef lists the check runs on a commit, filtered by
// check_name, newest first, as GitHub does.
func (s *Server) listCheckRunsForRef(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	repo, ok := s.repoAccess(w, r, a, "checks:read", "checks:write")
	if !ok {
		return
	}
	ref, name := r.PathValue("ref"), r.URL.Query().Get("check_name")
	s.mu.Lock()
	var runs []*CheckRun
	for _, cr := range s.checkRuns {
		if strings.EqualFold(cr.Repo, repo.FullName()) && cr.HeadSHA == ref && (name == "" || cr.Name == name) {
			runs = append(runs, cr)
		}
	}
	slices.Reverse(runs)
	s.mu.Unlock()
	lo, hi := paginate(w, r, s.prefix, len(runs))
	base := apiBase(r, s.prefix)
	out := make([]any, 0, hi-lo)
	s.mu.Lock()
	for _, cr := range runs[lo:hi] {
		out = append(out, s.checkRunObject(base, cr))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": out})
}

// RevokedTokens returns the tokens revoked so far (by DELETE
// /installation/token or RevokeTokens), oldest first.
func (s *Server) RevokedTokens() []string {
	var out []string
	for _, t := range s.IssuedTokens() {
		if t.Revoked {
			out = append(out, t.Token)
		}
	}
	return out
}
