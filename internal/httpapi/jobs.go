package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// JobService is the jobs API and the worker API.
type JobService interface {
	List(ctx context.Context, f patchpanda.JobFilter) ([]*patchpanda.Job, string, error)
	Get(ctx context.Context, id string) (*patchpanda.Job, error)
	Replay(ctx context.Context, id string, who *patchpanda.Principal) (*patchpanda.Job, error)
	Lease(ctx context.Context, wait time.Duration, who *patchpanda.Principal) (*patchpanda.Message, patchpanda.Lease, error)
	Claim(ctx context.Context, id string, who *patchpanda.Principal) (patchpanda.Lease, error)
	Report(ctx context.Context, id, lease string, ev patchpanda.WorkerEvent, who *patchpanda.Principal) (*patchpanda.Job, error)
	Token(ctx context.Context, id, lease string, who *patchpanda.Principal) (*patchpanda.JobToken, error)
}

// LeaseHeader carries the lease_id a worker got from POST
// /api/worker/lease or POST /api/jobs/{id}/claim to /token and /events.
const LeaseHeader = "PatchPanda-Lease"

// JobList answers GET /api/jobs. Next is the cursor of the next page.
type JobList struct {
	Jobs []*patchpanda.Job `json:"jobs"`
	Next string            `json:"next,omitempty"`
}

// Lease answers POST /api/worker/lease (with the job) and POST
// /api/jobs/{id}/claim (without). LeaseID is the receipt to send back in
// the PatchPanda-Lease header.
type Lease struct {
	Job            *patchpanda.Message `json:"job,omitempty"`
	LeaseID        string              `json:"lease_id"`
	LeaseExpiresAt time.Time           `json:"lease_expires_at"`
}

// JobRoutes serves the jobs and worker API over svc.
func JobRoutes(svc JobService) func(*http.ServeMux, *Server) {
	return func(mux *http.ServeMux, s *Server) {
		mux.Handle("GET /api/jobs", s.Require(patchpanda.ScopeJobsRead, func(w http.ResponseWriter, r *http.Request) error {
			f, err := jobFilter(r)
			if err != nil {
				return err
			}
			js, next, err := svc.List(r.Context(), f)
			if err != nil {
				return err
			}
			if js == nil {
				js = []*patchpanda.Job{}
			}
			writeJSON(w, http.StatusOK, JobList{Jobs: js, Next: next})
			return nil
		}))
		mux.Handle("GET /api/jobs/{id}", s.Require(patchpanda.ScopeJobsRead, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathJobID(r)
			if err != nil {
				return err
			}
			j, err := svc.Get(r.Context(), id)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, j)
			return nil
		}))
		mux.Handle("POST /api/jobs/{id}/replay", s.Require(patchpanda.ScopeJobsWrite, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathJobID(r)
			if err != nil {
				return err
			}
			j, err := svc.Replay(r.Context(), id, PrincipalFrom(r.Context()))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusCreated, j)
			return nil
		}))
		mux.Handle("POST /api/worker/lease", s.Require(patchpanda.ScopeWorker, func(w http.ResponseWriter, r *http.Request) error {
			wait := time.Duration(0)
			if v := r.URL.Query().Get("wait"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 60 {
					return patchpanda.Errorf(patchpanda.EINVALID, "wait %q must be a number of seconds from 0 to 60", v)
				}
				wait = time.Duration(n) * time.Second
			}
			if wait > 0 {
				// A long poll holds a connection and a goroutine: cap them per
				// credential, and let this one outlive the server's write
				// timeout by its wait.
				key := credentialOf(PrincipalFrom(r.Context()))
				if !s.polls.acquire(key) {
					s.Limits.Reporter.Hit(r.Context(), limits.LongPolls, key.kind+":"+key.name)
					return retryLater(time.Second, patchpanda.ERATELIMITED,
						"this credential already has %d long polls open (PATCHPANDA_LONG_POLLS_PER_KEY); wait for one to return", s.Limits.LongPollsPerKey)
				}
				defer s.polls.release(key)
				extendDeadlines(w, 0, wait+30*time.Second)
			}
			m, l, err := svc.Lease(r.Context(), wait, PrincipalFrom(r.Context()))
			if err != nil {
				return err
			}
			if m == nil {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			writeJSON(w, http.StatusOK, Lease{Job: m, LeaseID: l.ID, LeaseExpiresAt: l.ExpiresAt})
			return nil
		}))
		mux.Handle("POST /api/jobs/{id}/claim", s.Require(patchpanda.ScopeWorker, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathJobID(r)
			if err != nil {
				return err
			}
			l, err := svc.Claim(r.Context(), id, PrincipalFrom(r.Context()))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, Lease{LeaseID: l.ID, LeaseExpiresAt: l.ExpiresAt})
			return nil
		}))
		mux.Handle("POST /api/jobs/{id}/events", s.Require(patchpanda.ScopeWorker, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathJobID(r)
			if err != nil {
				return err
			}
			var ev patchpanda.WorkerEvent
			if err := decodeJSON(w, r, &ev); err != nil {
				return err
			}
			j, err := svc.Report(r.Context(), id, r.Header.Get(LeaseHeader), ev, PrincipalFrom(r.Context()))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, j)
			return nil
		}))
		mux.Handle("POST /api/jobs/{id}/token", s.Require(patchpanda.ScopeWorker, func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathJobID(r)
			if err != nil {
				return err
			}
			tok, err := svc.Token(r.Context(), id, r.Header.Get(LeaseHeader), PrincipalFrom(r.Context()))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, tok)
			return nil
		}))
	}
}

func jobFilter(r *http.Request) (patchpanda.JobFilter, error) {
	q := r.URL.Query()
	f := patchpanda.JobFilter{Repository: q.Get("repo"), After: q.Get("cursor")}
	if v := q.Get("state"); v != "" {
		st, err := patchpanda.ParseJobState(v)
		if err != nil {
			return f, err
		}
		f.State = st
	}
	if v := q.Get("trigger"); v != "" {
		tr, err := patchpanda.ParseTrigger(v)
		if err != nil {
			return f, err
		}
		f.Trigger = tr
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, patchpanda.Errorf(patchpanda.EINVALID, "since %q is not an RFC 3339 time", v)
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, patchpanda.Errorf(patchpanda.EINVALID, "limit %q must be between 1 and 500", v)
		}
		f.Limit = n
	}
	if _, err := queryRepository(r, "repo"); err != nil {
		return f, err
	}
	return f, patchpanda.CheckName("cursor", f.After, patchpanda.MaxFilterLen)
}
