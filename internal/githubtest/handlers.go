package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const docsRoot = "https://docs.github.com/rest"

// need is the kind of credential a route takes.
type need int

const (
	needApp need = iota
	needInstallation
	needUser
	needInstallationOrUser
	needNone // the route takes no credentials (manifest conversion)
)

// auth is what a request's Authorization header turned out to be.
type auth struct {
	kind  AuthKind
	token *IssuedToken // for AuthInstallation; a copy
	user  User         // for AuthUser
	err   string       // for AuthInvalid: the 401 message
}

func (a auth) identity(r *http.Request) string {
	switch a.kind {
	case AuthApp:
		return "app"
	case AuthInstallation:
		return "installation:" + strconv.FormatInt(a.token.InstallationID, 10)
	case AuthUser:
		return "user:" + a.user.Login
	}
	host, _, _ := strings.Cut(r.RemoteAddr, ":")
	return "ip:" + host
}

// handler routes every endpoint the fake serves. The handlers live by
// resource, as in internal/githubapp: app.go (installations, hook
// deliveries), tokens.go, repos.go (contents, permissions, team membership,
// pull requests), issues.go (comments, reactions), checks.go, users.go.
// This file keeps the routing, authentication and the shared helpers.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	s.handle(mux, RouteCreateToken, needApp, s.createToken)
	s.handle(mux, RouteGetInstallation, needApp, s.getInstallation)
	s.handle(mux, RouteListDeliveries, needApp, s.listDeliveries)
	s.handle(mux, RouteRedeliver, needApp, s.redeliver)
	s.handle(mux, RouteGetContents, needInstallation, s.getContents)
	s.handle(mux, RouteGetPermission, needInstallation, s.getPermission)
	s.handle(mux, RouteGetTeamMembership, needInstallationOrUser, s.getTeamMembership)
	s.handle(mux, RouteGetPull, needInstallation, s.getPull)
	s.handle(mux, RouteListPullFiles, needInstallation, s.listPullFiles)
	s.handle(mux, RouteCreateReaction, needInstallation, s.createReaction)
	s.handle(mux, RouteCreateComment, needInstallation, s.createComment)
	s.handle(mux, RouteUpdateComment, needInstallation, s.updateComment)
	s.handle(mux, RouteListComments, needInstallation, s.listComments)
	s.handle(mux, RouteCreateCheckRun, needInstallation, s.createCheckRun)
	s.handle(mux, RouteUpdateCheckRun, needInstallation, s.updateCheckRun)
	s.handle(mux, RouteGetUser, needUser, s.getUser)
	s.trustRoutes(mux)
	s.handle(mux, RouteConvertManifest, needNone, s.convertManifest)
	web := mux // github.com's pages: outside the API prefix on Enterprise
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body := readBody(r)
		a := s.authenticate(r)
		s.record(r, "", a, body)
		s.commonHeaders(w, r, a, nil)
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
	})
	if s.prefix != "" {
		web = http.NewServeMux()
	}
	web.HandleFunc(RouteNewApp, s.newApp)
	web.HandleFunc(RouteNewOrgApp, s.newApp)
	web.HandleFunc(RouteOAuthAuthorize, s.oauthAuthorize)
	web.HandleFunc(RouteOAuthAccessToken, s.oauthAccessToken)
	if s.prefix == "" {
		return mux
	}
	outer := web
	outer.Handle(s.prefix+"/", http.StripPrefix(s.prefix, mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
	})
	return outer
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, a auth, body []byte)

func (s *Server) handle(mux *http.ServeMux, pattern string, n need, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body := readBody(r)
		a := s.authenticate(r)
		f := s.record(r, pattern, a, body)
		s.commonHeaders(w, r, a, f)
		if f != nil {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			msg := f.Message
			if msg == "" {
				msg = http.StatusText(f.Status)
			}
			docs := f.DocumentationURL
			if docs == "" {
				docs = docsRoot
			}
			writeError(w, f.Status, msg, docs)
			return
		}
		if a.kind == AuthInvalid {
			writeError(w, http.StatusUnauthorized, a.err, docsRoot)
			return
		}
		switch {
		case n == needNone:
		case n == needApp && a.kind != AuthApp:
			writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docsRoot)
			return
		case a.kind == AuthNone:
			writeError(w, http.StatusUnauthorized, "Requires authentication", docsRoot)
			return
		case n == needInstallation && a.kind != AuthInstallation,
			n == needUser && a.kind != AuthUser,
			n == needInstallationOrUser && a.kind != AuthInstallation && a.kind != AuthUser:
			writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsRoot)
			return
		}
		if s.takeDrop(pattern) {
			dropping(w, r, a, body, h)
			return
		}
		h(w, r, a, body)
	})
}

// record stores the call and takes the failure to inject for it, if any.
func (s *Server) record(r *http.Request, pattern string, a auth, body []byte) *Failure {
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, Route: pattern, Auth: a.kind}
	if a.kind == AuthInstallation {
		c.InstallationID = a.token.InstallationID
	}
	if a.kind == AuthUser {
		c.User = a.user.Login
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	if pattern == "" {
		return nil
	}
	_, path, _ := strings.Cut(pattern, " ")
	now := s.now()
	s.failures = slices.DeleteFunc(s.failures, func(f *Failure) bool { return !f.Until.IsZero() && !now.Before(f.Until) })
	for i, f := range s.failures {
		if f.Route != "" && f.Route != pattern && f.Route != path {
			continue
		}
		if !f.Until.IsZero() {
			cp := *f
			return &cp
		}
		f.Times--
		if f.Times <= 0 {
			s.failures = slices.Delete(s.failures, i, i+1)
		}
		cp := *f
		return &cp
	}
	return nil
}

func (s *Server) commonHeaders(w http.ResponseWriter, r *http.Request, a auth, f *Failure) {
	now := s.now()
	s.mu.Lock()
	if !now.Before(s.rateReset) {
		s.rateReset = now.Add(time.Hour).Truncate(time.Second)
		clear(s.rate)
	}
	id := a.identity(r)
	s.rate[id]++
	used, reset := s.rate[id], s.rateReset
	s.mu.Unlock()
	limit := 5000
	if a.kind == AuthNone || a.kind == AuthInvalid {
		limit = 60
	}
	remaining := max(limit-used, 0)
	if f != nil && f.RateLimitExhausted {
		remaining, used = 0, limit
		if !f.RateLimitReset.IsZero() {
			reset = f.RateLimitReset
		}
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Request-Id", strings.ToUpper(randomHex(4)+":"+randomHex(6)))
}

// authenticate classifies the Authorization header as GitHub would.
func (s *Server) authenticate(r *http.Request) auth {
	h := r.Header.Get("Authorization")
	if h == "" {
		return auth{kind: AuthNone}
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return auth{kind: AuthInvalid, err: "Bad credentials"}
	}
	tok = strings.TrimSpace(tok)
	if strings.Count(tok, ".") == 2 {
		if msg := s.checkJWT(tok); msg != "" {
			return auth{kind: AuthInvalid, err: msg}
		}
		return auth{kind: AuthApp}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		if t.Revoked || !s.now().Before(t.ExpiresAt) {
			return auth{kind: AuthInvalid, err: "Bad credentials"}
		}
		cp := *t
		return auth{kind: AuthInstallation, token: &cp}
	}
	if u, ok := s.users[tok]; ok {
		return auth{kind: AuthUser, user: u}
	}
	return auth{kind: AuthInvalid, err: "Bad credentials"}
}

// checkJWT returns "" for a JWT GitHub would take from this App, or the
// message of GitHub's 401 answer.
func (s *Server) checkJWT(tok string) string {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	switch {
	case err != nil && strings.Contains(err.Error(), "expired"):
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	case err != nil && strings.Contains(err.Error(), "issued"):
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	case err != nil:
		return "A JSON web token could not be decoded"
	case claims.IssuedAt == nil:
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	case claims.ExpiresAt.Sub(s.now()) > 10*time.Minute:
		return "'Expiration time' claim ('exp') is too far in the future"
	case claims.Issuer != strconv.FormatInt(s.AppID, 10):
		return "'Issuer' claim ('iss') must be an Integer or the App's client ID"
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with GitHub's error shape.
func writeError(w http.ResponseWriter, status int, message, docs string) {
	writeJSON(w, status, map[string]any{"message": message, "documentation_url": docs, "status": strconv.Itoa(status)})
}

func writeValidation(w http.ResponseWriter, resource, field, message string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]any{{"resource": resource, "code": "custom", "field": field, "message": message}},
		"documentation_url": docsRoot,
		"status":            "422",
	})
}

func apiBase(r *http.Request, prefix string) string { return "http://" + r.Host + prefix }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func userID(login string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(login)))
	return int64(h.Sum32()%90_000_000) + 1_000_000
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) userObject(base, login, typ string) map[string]any {
	return map[string]any{
		"login":      login,
		"id":         userID(login),
		"node_id":    "U_" + strconv.FormatInt(userID(login), 36),
		"avatar_url": "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(userID(login), 10),
		"url":        base + "/users/" + login,
		"html_url":   "https://github.com/" + login,
		"type":       typ,
		"site_admin": false,
	}
}

func (s *Server) repoObject(base string, r patchpanda.Repository) map[string]any {
	return map[string]any{
		"id":             r.ID,
		"node_id":        "R_" + strconv.FormatInt(r.ID, 36),
		"name":           r.Name,
		"full_name":      r.FullName(),
		"private":        true,
		"owner":          s.userObject(base, r.Owner, "Organization"),
		"html_url":       "https://github.com/" + r.FullName(),
		"url":            base + "/repos/" + r.FullName(),
		"default_branch": "main",
	}
}

// permissionCovers reports whether granted access level covers wanted.
func permissionCovers(granted, wanted string) bool {
	rank := map[string]int{"read": 1, "write": 2, "admin": 3}
	return rank[granted] > 0 && rank[wanted] > 0 && rank[granted] >= rank[wanted]
}

// repoAccess checks that token a reaches repository owner/repo with one of
// the permissions wanted ("name:level"), writes GitHub's answer when it
// does not, and returns the repository.
func (s *Server) repoAccess(w http.ResponseWriter, r *http.Request, a auth, wanted ...string) (patchpanda.Repository, bool) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	s.mu.Lock()
	repo, known := s.repos[strings.ToLower(full)]
	inst := s.installations[a.token.InstallationID]
	s.mu.Unlock()
	reach := known && inst != nil && slices.ContainsFunc(inst.Repositories, func(x patchpanda.Repository) bool { return x.ID == repo.ID })
	if reach && a.token.Repositories != nil {
		reach = slices.ContainsFunc(a.token.Repositories, func(n string) bool { return strings.EqualFold(n, full) })
	}
	if !reach {
		// GitHub hides private repositories a token cannot reach.
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return repo, false
	}
	for _, wnt := range wanted {
		name, level, _ := strings.Cut(wnt, ":")
		if permissionCovers(a.token.Permissions[name], level) {
			return repo, true
		}
	}
	writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsRoot)
	return repo, false
}

func pathInt(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil && n > 0
}

// page reads GitHub's page/per_page parameters.
func page(r *http.Request) (pageNo, perPage int) {
	pageNo, _ = strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	pageNo = max(pageNo, 1)
	if perPage <= 0 {
		perPage = 30
	}
	return pageNo, min(perPage, 100)
}

// paginate returns the slice of n items on the page and sets the Link
// header GitHub sends for page-numbered lists.
func paginate(w http.ResponseWriter, r *http.Request, prefix string, n int) (lo, hi int) {
	pageNo, perPage := page(r)
	last := max((n+perPage-1)/perPage, 1)
	lo = min((pageNo-1)*perPage, n)
	hi = min(lo+perPage, n)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", apiBase(r, prefix), r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if pageNo > 1 {
		links = append(links, link(pageNo-1, "prev"), link(1, "first"))
	}
	if pageNo < last {
		links = append(links, link(pageNo+1, "next"), link(last, "last"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return lo, hi
}
