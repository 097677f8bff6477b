package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/dashboard"
	"github.com/patchpanda/patchpanda/internal/keys"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

var newKeyRE = regexp.MustCompile(`id="new-key">(ppk_[^<]+)<`)

func TestAdminCreatesAKeySeenOnceAndRevokesIt(t *testing.T) {
	var svc *keys.Service
	e := setup(t, mona, func(o *dashboard.Options) {
		svc = keys.NewService(o.Sessions.(*store.DB))
		o.Keys = svc
	})
	if code := e.get("/ui/keys"); code != http.StatusOK {
		t.Fatalf("keys page: %d\n%s", code, e.lastBody)
	}
	code := e.post("/ui/keys", url.Values{"csrf": {e.csrf()}, "name": {"ci"}, "scope": {"coverage:write"}, "expires": {"30d"}})
	m := newKeyRE.FindStringSubmatch(e.lastBody)
	if code != http.StatusCreated || m == nil {
		t.Fatalf("create: %d, and the page shows no new key:\n%s", code, e.lastBody)
	}
	p, err := svc.Authenticate(context.Background(), m[1])
	if err != nil || !p.Can(patchpanda.ScopeCoverageWrite) || p.Can(patchpanda.ScopeAdmin) {
		t.Fatalf("the key shown: %+v, %v; want a coverage:write key", p, err)
	}
	if e.get("/ui/keys"); strings.Contains(e.lastBody, m[1]) {
		t.Error("the key is shown again after the page that created it")
	}
	ks, _ := svc.List(context.Background())
	if len(ks) != 1 || ks[0].CreatedBy != "sso:mona@example.com" {
		t.Fatalf("keys %+v, want one created by sso:mona@example.com", ks)
	}
	if code := e.post("/ui/keys/"+strconv.FormatInt(ks[0].ID, 10)+"/revoke", url.Values{"csrf": {e.csrf()}}); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if _, err := svc.Authenticate(context.Background(), m[1]); err == nil {
		t.Error("the revoked key still authenticates")
	}
	if code := e.post("/ui/keys", url.Values{"csrf": {e.csrf()}, "name": {"bad"}, "scope": {"root"}}); code != http.StatusBadRequest {
		t.Errorf("a key with an unknown scope: %d, want 400", code)
	}
}

// fakeAudit serves a chain of events, optionally with one changed.
type fakeAudit struct{ events []patchpanda.AuditEvent }

func chain(n int) []patchpanda.AuditEvent {
	prev := audit.Genesis
	var out []patchpanda.AuditEvent
	for i := 1; i <= n; i++ {
		ev := patchpanda.AuditEvent{ID: int64(i), At: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), Actor: "key:admin",
			Action: patchpanda.AuditKeyCreated, Subject: "key:" + strconv.Itoa(i), PrevHash: prev}
		ev.Hash = audit.Hash(prev, ev)
		prev = ev.Hash
		out = append(out, ev)
	}
	return out
}

func (f *fakeAudit) AuditEvents(ctx context.Context, flt patchpanda.AuditFilter) ([]patchpanda.AuditEvent, error) {
	var out []patchpanda.AuditEvent
	for _, ev := range f.events {
		if ev.ID > flt.AfterID && (flt.Limit == 0 || len(out) < flt.Limit) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func TestAuditPageSaysWhetherTheChainVerifies(t *testing.T) {
	intact := chain(1500) // more than one page of the store
	changed := chain(5)
	changed[2].Reason = "edited afterwards"
	tests := []struct {
		name   string
		events []patchpanda.AuditEvent
		want   string
	}{
		{"intact over several pages", intact, "Hash chain verified: 1500 events link up"},
		{"an event changed", changed, "Hash chain broken: audit: event 3: hash does not match its content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, mona, func(o *dashboard.Options) { o.Audit = &fakeAudit{events: tt.events} })
			if code := e.get("/ui/audit"); code != http.StatusOK || !strings.Contains(e.lastBody, tt.want) {
				t.Errorf("audit page: %d, want it to say %q:\n%.2000s", code, tt.want, e.lastBody)
			}
		})
	}
}

type fakeBilling []patchpanda.BillingProjectStatus

func (f fakeBilling) Projects(context.Context) ([]patchpanda.BillingProjectStatus, error) {
	return f, nil
}

func TestBillingPageShowsEachProjectsMonth(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	e := setup(t, mona, func(o *dashboard.Options) {
		o.Billing = fakeBilling{{BillingProject: patchpanda.BillingProject{ID: 1, Name: "platform", BudgetMicros: 50_000_000}, Month: month,
			SpentMicros: 12_340_000, Repositories: []string{"acme/api", "acme/web"}}}
	})
	if code := e.get("/ui/billing"); code != http.StatusOK {
		t.Fatalf("billing: %d", code)
	}
	for _, want := range []string{"platform", "2026-11", "$12.34", "$50.00", "acme/api, acme/web"} {
		if !strings.Contains(e.lastBody, want) {
			t.Errorf("billing page lacks %q", want)
		}
	}
}

// fakeCoverage records which repositories the pages asked about.
type fakeCoverage struct{ asked []string }

func (f *fakeCoverage) List(ctx context.Context, p coverage.ListParams) (coverage.List, error) {
	f.asked = append(f.asked, p.Repo)
	return coverage.List{Reports: []coverage.StoredReport{
		{Repository: "acme/api", SHA: strings.Repeat("a", 40), Branch: "main"},
		{Repository: "other/api", SHA: strings.Repeat("b", 40), Branch: "main"},
	}}, nil
}

func (f *fakeCoverage) CommitFiles(ctx context.Context, repo, sha string) (coverage.CommitFiles, error) {
	f.asked = append(f.asked, repo)
	return coverage.CommitFiles{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "no coverage")
}

func (f *fakeCoverage) FileLines(ctx context.Context, repo, sha, path string) (coverage.FileView, error) {
	f.asked = append(f.asked, repo)
	return coverage.FileView{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "no coverage")
}

func (f *fakeCoverage) PullRequest(ctx context.Context, repo string, n int) (coverage.PullRequest, error) {
	f.asked = append(f.asked, repo)
	return coverage.PullRequest{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "no coverage")
}

func TestViewerNeverReachesCoverageOfOtherRepositories(t *testing.T) {
	cov := &fakeCoverage{}
	e := setup(t, vera, func(o *dashboard.Options) { o.Coverage = cov })
	sha := strings.Repeat("c", 40)
	for _, path := range []string{"/ui/repos/other/api", "/ui/repos/other/api/commits/" + sha,
		"/ui/repos/other/api/commits/" + sha + "/files/main.go", "/ui/repos/other/api/pulls/7"} {
		if code := e.get(path); code != http.StatusNotFound {
			t.Errorf("GET %s as a viewer of acme/*: %d, want 404", path, code)
		}
	}
	for _, repo := range cov.asked {
		if repo == "other/api" {
			t.Errorf("the coverage service was asked about other/api for a viewer of acme/* (asked: %v)", cov.asked)
		}
	}
	if e.get("/ui/"); !strings.Contains(e.lastBody, "acme/api") || strings.Contains(e.lastBody, "other/api") {
		t.Errorf("repositories page for a viewer of acme/*:\n%s", e.lastBody)
	}
}
