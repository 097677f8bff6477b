package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

const (
	sessionCookie = "pp_session"
	loginCookie   = "pp_login"
	// loginWindow is how long a sign-in may take at the identity provider.
	loginWindow = 10 * time.Minute
)

// pendingLogin is what the browser keeps between /auth/login and
// /auth/callback: the state to compare, the nonce the ID token must carry,
// the PKCE verifier, and where to go afterwards. It lives in an HttpOnly
// cookie scoped to /auth/, so nothing is stored server-side for people who
// never finish signing in.
type pendingLogin struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
}

func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// safeReturn keeps only paths inside the dashboard, so a crafted link
// cannot send someone elsewhere after signing in.
func safeReturn(s string) string {
	if strings.HasPrefix(s, "/ui/") && !strings.HasPrefix(s, "//") && !strings.ContainsAny(s, "\\\r\n") {
		return s
	}
	return "/ui/"
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	p := pendingLogin{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), ReturnTo: safeReturn(r.URL.Query().Get("return_to"))}
	url, err := d.idp.authURL(r.Context(), p)
	if err != nil {
		d.log.ErrorContext(r.Context(), "single sign-on unavailable", "err", err)
		d.render(w, r, http.StatusBadGateway, "error", nil, errorPage{Title: "Sign-in unavailable",
			Message: "The identity provider could not be reached. Try again in a moment."})
		return
	}
	b, _ := json.Marshal(p)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/auth/",
		MaxAge: int(loginWindow / time.Second), HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, url, http.StatusFound)
}

// signInError answers a failed sign-in: the person sees a safe message,
// the log the cause.
func (d *Dashboard) signInError(w http.ResponseWriter, r *http.Request, status int, msg string, cause error) {
	d.log.WarnContext(r.Context(), "sign-in refused", "reason", msg, "err", cause)
	d.render(w, r, status, "error", nil, errorPage{Title: "Sign-in failed", Message: msg, Retry: true})
}

func (d *Dashboard) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The pending login is single-use whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	var p pendingLogin
	c, err := r.Cookie(loginCookie)
	if err == nil {
		var b []byte
		if b, err = base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			err = json.Unmarshal(b, &p)
		}
	}
	q := r.URL.Query()
	switch {
	case err != nil || p.State == "":
		d.signInError(w, r, http.StatusBadRequest, "This sign-in was not started here, or took longer than 10 minutes.", err)
		return
	case !equal(q.Get("state"), p.State):
		d.signInError(w, r, http.StatusBadRequest, "The sign-in answer does not belong to this sign-in (state mismatch).", nil)
		return
	case q.Get("error") != "":
		e := q.Get("error")
		if len(e) > 100 {
			e = e[:100]
		}
		d.signInError(w, r, http.StatusForbidden, "The identity provider refused the sign-in: "+e+".", nil)
		return
	case q.Get("code") == "":
		d.signInError(w, r, http.StatusBadRequest, "The sign-in answer carries no code.", nil)
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id, refused := d.idp.identify(tctx, q.Get("code"), p)
	if refused != nil {
		d.signInError(w, r, refused.Status, refused.Message, refused.Cause)
		return
	}
	now := d.opts.Now().UTC()
	s := store.Session{Subject: id.Subject, Email: id.Email, Name: id.Name, Login: id.Login, Groups: id.Groups,
		CSRFToken: random(), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(d.opts.MaxAge)}
	// Rotation: a sign-in always gets a new id, and the session the
	// browser held before (if any) ends.
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		_ = d.opts.Sessions.DeleteSession(ctx, hashID(old.Value))
	}
	sid := random()
	if err := d.opts.Sessions.CreateSession(ctx, hashID(sid), s); err != nil {
		d.log.ErrorContext(ctx, "store session", "err", err)
		d.render(w, r, http.StatusInternalServerError, "error", nil, errorPage{Title: "Sign-in failed", Message: "The session could not be stored."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, Secure: d.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(d.opts.MaxAge / time.Second)})
	d.log.InfoContext(ctx, "signed in", "subject", s.Subject, "email", s.Email, "grants", len(d.grantsFor(s)))
	http.Redirect(w, r, p.ReturnTo, http.StatusSeeOther)
}

// session returns the request's live session, or nil. An expired or idle
// session is deleted.
func (d *Dashboard) session(r *http.Request) *user {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	ctx := r.Context()
	h := hashID(c.Value)
	s, err := d.opts.Sessions.SessionByHash(ctx, h)
	if err != nil {
		if patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			d.log.ErrorContext(ctx, "read session", "err", err)
		}
		return nil
	}
	now := d.opts.Now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= d.opts.IdleTimeout {
		_ = d.opts.Sessions.DeleteSession(ctx, h)
		return nil
	}
	// Writing on every request would make SQLite's one writer the
	// dashboard's bottleneck; a minute's precision is plenty for idling.
	if now.Sub(s.LastSeenAt) > time.Minute {
		_ = d.opts.Sessions.TouchSession(ctx, h, now)
	}
	return &user{Session: s, idHash: h, grants: d.grantsFor(s)}
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	u := d.session(r)
	if u != nil {
		if !equal(r.PostFormValue("csrf"), u.CSRFToken) {
			d.render(w, r, http.StatusForbidden, "error", u, errorPage{Title: "Forbidden", Message: "The form's CSRF token is missing or wrong; reload the page and try again."})
			return
		}
		if err := d.opts.Sessions.DeleteSession(r.Context(), u.idHash); err != nil {
			d.log.ErrorContext(r.Context(), "end session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	d.render(w, r, http.StatusOK, "error", nil, errorPage{Title: "Signed out", Message: "You are signed out.", Retry: true})
}

// pageFunc renders one page for a signed-in person.
type pageFunc func(w http.ResponseWriter, r *http.Request, u *user) error

// page runs h for a signed-in person holding at least min somewhere; it
// sends anyone else to sign in, and checks the CSRF token of every POST.
func (d *Dashboard) page(min config.DashboardRole, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := d.session(r)
		if u == nil {
			if r.Method != http.MethodGet {
				d.render(w, r, http.StatusUnauthorized, "error", nil, errorPage{Title: "Signed out", Message: "Your session ended; sign in again.", Retry: true})
				return
			}
			http.Redirect(w, r, "/auth/login?return_to="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !equal(r.PostFormValue("csrf"), u.CSRFToken) {
				d.render(w, r, http.StatusForbidden, "error", u, errorPage{Title: "Forbidden", Message: "The form's CSRF token is missing or wrong; reload the page and try again."})
				return
			}
		}
		if u.Best().Rank() < min.Rank() {
			msg := "Your account has no dashboard role. Ask an admin to add you under dashboard.roles in the server config."
			if u.Best() != "" {
				msg = fmt.Sprintf("This page needs the %s role; you have %s.", min, u.Best())
			}
			d.render(w, r, http.StatusForbidden, "error", u, errorPage{Title: "Forbidden", Message: msg})
			return
		}
		if err := h(w, r, u); err != nil {
			d.fail(w, r, u, err)
		}
	})
}

// fail renders err as an error page with the status its code maps to.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, u *user, err error) {
	status := http.StatusInternalServerError
	title := "Something went wrong"
	msg := "The relay could not answer; the log has the details."
	switch patchpanda.ErrorCode(err) {
	case patchpanda.ENOTFOUND:
		status, title, msg = http.StatusNotFound, "Not found", patchpanda.ErrorMessage(err)
	case patchpanda.EFORBIDDEN:
		status, title, msg = http.StatusForbidden, "Forbidden", patchpanda.ErrorMessage(err)
	case patchpanda.EINVALID:
		status, title, msg = http.StatusBadRequest, "Bad request", patchpanda.ErrorMessage(err)
	case patchpanda.ECONFLICT:
		status, title, msg = http.StatusConflict, "Conflict", patchpanda.ErrorMessage(err)
	default:
		d.log.ErrorContext(r.Context(), "dashboard page failed", "path", r.URL.Path, "err", err)
	}
	d.render(w, r, status, "error", u, errorPage{Title: title, Message: msg})
}
