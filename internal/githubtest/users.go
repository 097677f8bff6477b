package githubtest

import "net/http"

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	o := s.userObject(apiBase(r, s.prefix), a.user.Login, "User")
	o["id"] = a.user.ID
	o["name"] = nullable(a.user.Name)
	writeJSON(w, http.StatusOK, o)
}
