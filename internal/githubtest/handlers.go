package githubtest

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
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
	for i, f := range s.failures {
		if f.Route != "" && f.Route != pattern && f.Route != path {
			continue
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

func (s *Server) installationObject(base string, inst *Installation) map[string]any {
	sel := "selected"
	if inst.AllRepositories {
		sel = "all"
	}
	id := strconv.FormatInt(inst.ID, 10)
	account := s.userObject(base, inst.Account, inst.AccountType)
	account["id"] = inst.AccountID
	return map[string]any{
		"id":                   inst.ID,
		"account":              account,
		"repository_selection": sel,
		"access_tokens_url":    base + "/app/installations/" + id + "/access_tokens",
		"repositories_url":     base + "/installation/repositories",
		"html_url":             "https://github.com/organizations/" + inst.Account + "/settings/installations/" + id,
		"app_id":               s.AppID,
		"app_slug":             s.AppSlug,
		"target_id":            inst.AccountID,
		"target_type":          inst.AccountType,
		"permissions":          inst.Permissions,
		"events":               inst.Events,
		"created_at":           "2024-01-01T00:00:00Z",
		"updated_at":           "2024-01-01T00:00:00Z",
		"single_file_name":     nil,
		"suspended_by":         nil,
		"suspended_at":         ts(inst.SuspendedAt),
	}
}

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

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	id, _ := pathInt(r, "installation_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	writeJSON(w, http.StatusOK, s.installationObject(apiBase(r, s.prefix), inst))
}

func deliveryObject(d HookDelivery) map[string]any {
	var inst, repo any
	if d.InstallationID != 0 {
		inst = d.InstallationID
	}
	if d.RepositoryID != 0 {
		repo = d.RepositoryID
	}
	return map[string]any{
		"id":              d.ID,
		"guid":            d.GUID,
		"delivered_at":    ts(d.DeliveredAt),
		"redelivery":      d.Redelivery,
		"duration":        d.Duration,
		"status":          d.Status,
		"status_code":     d.StatusCode,
		"event":           d.Event,
		"action":          nullable(d.Action),
		"installation_id": inst,
		"repository_id":   repo,
		"throttled_at":    nil,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listDeliveries lists newest first with GitHub's cursor pagination: the
// cursor names the first delivery of the next page.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	_, perPage := page(r)
	s.mu.Lock()
	all := slices.Clone(s.deliveries)
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b HookDelivery) int { return int(b.ID - a.ID) })
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(c, "v1_"), 10, 64)
		if err != nil || !strings.HasPrefix(c, "v1_") {
			writeError(w, http.StatusBadRequest, "Invalid cursor", docsRoot)
			return
		}
		start = slices.IndexFunc(all, func(d HookDelivery) bool { return d.ID <= id })
		if start < 0 {
			start = len(all)
		}
	}
	end := min(start+perPage, len(all))
	if end < len(all) {
		q := url.Values{"per_page": {strconv.Itoa(perPage)}, "cursor": {"v1_" + strconv.FormatInt(all[end].ID, 10)}}
		w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", apiBase(r, s.prefix), r.URL.Path, q.Encode()))
	}
	out := []map[string]any{}
	for _, d := range all[start:end] {
		out = append(out, deliveryObject(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, _ auth, _ []byte) {
	id, _ := pathInt(r, "delivery_id")
	s.mu.Lock()
	i := slices.IndexFunc(s.deliveries, func(d HookDelivery) bool { return d.ID == id })
	if i < 0 {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", docsRoot)
		return
	}
	d := s.deliveries[i]
	d.ID = s.id()
	d.Redelivery = true
	d.DeliveredAt = s.now().UTC().Truncate(time.Second)
	d.Status, d.StatusCode = "OK", 200
	target, secret := s.hookURL, s.hookSecret
	s.mu.Unlock()
	if target != "" && d.Payload != nil {
		// Resend the original body, as GitHub does, and record the answer.
		wh := Webhook{URL: target, Secret: secret, Event: d.Event, DeliveryID: d.GUID, TargetID: s.AppID, Payload: d.Payload}
		resp, err := wh.Send(r.Context(), nil)
		switch {
		case err != nil:
			d.Status, d.StatusCode = "We couldn't deliver this payload: "+err.Error(), 0
		default:
			resp.Body.Close()
			d.StatusCode = resp.StatusCode
			if resp.StatusCode >= 300 {
				d.Status = "Invalid HTTP Response: " + strconv.Itoa(resp.StatusCode)
			}
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{})
}

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
	var req struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	if req.Body == "" {
		writeValidation(w, "IssueComment", "body", "body wasn't supplied")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC().Truncate(time.Second)
	c := &Comment{ID: s.id(), Repo: repo.FullName(), Number: int(n), Body: req.Body, User: s.botLogin(), UserType: "Bot", CreatedAt: now, UpdatedAt: now}
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
	var req struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsRoot)
		return
	}
	if req.Body == "" {
		writeValidation(w, "IssueComment", "body", "body wasn't supplied")
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
	c.Body = req.Body
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

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a auth, _ []byte) {
	o := s.userObject(apiBase(r, s.prefix), a.user.Login, "User")
	o["id"] = a.user.ID
	o["name"] = nullable(a.user.Name)
	writeJSON(w, http.StatusOK, o)
}
